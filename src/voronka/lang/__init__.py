"""Stage-name linguistics: is a stage name a *result* or a *process*, and a result-style rename.

Russian by morphology (pymorphy3), English by grammar rules. The public names:

* :func:`judge_stage_name` — one name;
* :func:`lint_stage_names` — many names in input order (the ``voronka lint-stages`` command);
* :class:`NameVerdict` — the verdict, with the reason in words via :meth:`NameVerdict.reason`.
"""

from voronka.lang.judge import judge_stage_name, lint_stage_names
from voronka.lang.verdict import NameVerdict, Verdict, detect_language

__all__ = ["NameVerdict", "Verdict", "detect_language", "judge_stage_name", "lint_stage_names"]
