"""The key-stage table marks the stages that are the won stage under another name: BPIC 2012's
"A_APPROVED" (score 0.51, every deal reaching it won) stood below candidates scoring 0.00, with
nothing saying why."""

from __future__ import annotations

import dataclasses

import pytest

from voronka.audit import AuditResult
from voronka.report.names import build_labels
from voronka.report.tabulate import key_stage_table


@pytest.mark.parametrize(("lang", "words"), [("en", "(= won, not a candidate)"),
                                             ("ru", "(= выигрыш, не кандидат)")])
def test_won_stage_under_another_name_is_marked(result: AuditResult, lang: str, words: str) -> None:
    ks = result.key_stage
    assert ks is not None and len(ks.ranking) >= 2
    last = dataclasses.replace(ks.ranking[-1], candidate=False)
    marked = dataclasses.replace(result, key_stage=dataclasses.replace(
        ks, ranking=(*ks.ranking[:-1], last)))
    labels = build_labels(marked, lang, None)
    stages = [row[0] for row in key_stage_table(marked, labels).rows]
    assert stages[-1] == f"{labels.stage(last.stage)} {words}"
    assert all(words not in s for s in stages[:-1])
