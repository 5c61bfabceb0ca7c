"""The flow chart's stage rows: a staircase in which no stage's bar covers the previous label."""

from __future__ import annotations

import pytest

from voronka.report.charts.funnel import _LABEL_GAP, flow_rows

DEMO = [19_962, 9_886, 6_184, 4_916, 3_298, 2_309, 1_977, 1_476, 1_416, 1_305, 1_201]


def _bars(reached: list[int], lost: int, still_open: int) -> list[tuple[float, float, float]]:
    scale = max(reached[0], lost + still_open)
    rows = flow_rows(reached, lost, still_open)
    return [(y - r / scale / 2, y, y + r / scale / 2) for y, r in zip(rows, reached, strict=True)]


def test_steep_funnel_keeps_a_full_gap_under_every_label() -> None:
    reached = [1000, 500, 250, 125, 62, 31]  # half lost at every step: the staircase fits
    bars = _bars(reached, lost=969, still_open=0)
    assert bars[0][1] == 0.5
    assert bars[1][0] == pytest.approx(0.0, abs=0.002)  # the second stage starts at the top
    for (_, label, _), (top, _, _) in zip(bars[1:], bars[2:], strict=False):
        assert top == pytest.approx(label + _LABEL_GAP)  # the next bar starts below the label
    assert bars[-1][2] <= 1.0


def test_demo_funnel_shrinks_the_gaps_but_covers_no_label() -> None:
    bars = _bars(DEMO, lost=17_158, still_open=1_598)
    gaps = [top - label for (_, label, _), (top, _, _) in zip(bars[1:], bars[2:], strict=False)]
    assert all(0 < g < _LABEL_GAP for g in gaps)  # shrunk evenly, still positive
    assert max(gaps) - min(gaps) < 1e-9
    assert bars[-1][2] == pytest.approx(1.0)  # the last bar ends at the bottom
    assert all(0 < y < 1 for _, y, _ in bars)


def test_funnel_that_barely_loses_spreads_the_rows_evenly() -> None:
    reached = [1000, 990, 980, 970, 960]  # a staircase cannot fit: rows spread evenly, in order
    rows = flow_rows(reached, lost=40, still_open=0)
    assert rows[0] == 0.5
    steps = [b - a for a, b in zip(rows[1:], rows[2:], strict=False)]
    assert all(s > 0 for s in steps)
    assert max(steps) - min(steps) < 1e-9
    assert all(0 < y < 1 for y in rows)


@pytest.mark.parametrize("reached", [[], [5], [5, 0], [0, 0, 0]])
def test_degenerate_funnels(reached: list[int]) -> None:
    rows = flow_rows(reached, lost=0, still_open=0)
    assert len(rows) == len(reached)
    assert all(0 < y < 1 for y in rows)
