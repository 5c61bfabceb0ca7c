"""Pure statistics for the audit: intervals, shrinkage, comparisons, FDR, change-point scans.

Every function works on plain numbers or numpy arrays (never on the engine or raw rows), states
its formula and reference in its docstring, and is tested against scipy/statsmodels, hand
computation or simulation (``tests/audit/stats/``). The methods are described in ``docs/methods.md``.
"""

from voronka.audit.stats.changepoint import ChangePoint, binomial_changepoint, poisson_changepoint
from voronka.audit.stats.comparisons import benjamini_hochberg, segment_vs_rest_pvalue
from voronka.audit.stats.intervals import EconomicsIntervals, economics_intervals, wilson_interval
from voronka.audit.stats.shrinkage import BetaPrior, ShrunkRates, fit_beta_prior, shrink

__all__ = [
    "BetaPrior",
    "ChangePoint",
    "EconomicsIntervals",
    "ShrunkRates",
    "benjamini_hochberg",
    "binomial_changepoint",
    "economics_intervals",
    "fit_beta_prior",
    "poisson_changepoint",
    "segment_vs_rest_pvalue",
    "shrink",
    "wilson_interval",
]
