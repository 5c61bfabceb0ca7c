"""The seeded sample-data generator shared by ``voronka demo``, the docs, the tests and the benchmarks.

>>> from voronka.demo import generate_demo, write_demo
>>> data = generate_demo(20_000, seed=0)          # a CRM history of the demo company
>>> files = write_demo(data, "demo-output")       # events.csv, deals.csv, spend.csv, funnel.toml

Effects (a manager's leak, a source getting better or worse, process-named stages, a key stage,
a stable funnel) are planted with :class:`DemoEffects`; ``data.truth`` records what was planted.
"""

from voronka.demo.generate import DemoData, demo_funnel, generate_demo
from voronka.demo.profile import (
    MANAGER_NAMES,
    SOURCE_NAMES,
    STAGE_IDS,
    ConversionShift,
    DemoEffects,
    DemoTruth,
    ManagerLeak,
    PlantedErrors,
    VolumeShift,
)
from voronka.demo.write import DemoFiles, write_demo

__all__ = [
    "MANAGER_NAMES",
    "SOURCE_NAMES",
    "STAGE_IDS",
    "ConversionShift",
    "DemoData",
    "DemoEffects",
    "DemoFiles",
    "DemoTruth",
    "ManagerLeak",
    "PlantedErrors",
    "VolumeShift",
    "demo_funnel",
    "generate_demo",
    "write_demo",
]
