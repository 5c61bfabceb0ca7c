"""voronka: a sales-funnel audit from a CRM export."""

__version__ = "0.1.0"
