"""The ``key_stage`` section's result types (computed by :mod:`voronka.audit.key_stage`).

Kept apart from the code that computes them, so that the report and the result object import
the types without the statistics.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyStageScore:
    """One stage's score in the key-stage ranking, with its evidence.

    Attributes:
        stage: stage id.
        score: the jump in the probability of winning on reaching the stage (higher = more
            decisive): ``p_won − p_won_before``.
        p_won: P(won | reached this stage), open deals accounted for (Aalen–Johansen; the
            closed deals' smoothed rate when the audit has only counts).
        p_won_before: P(won | reached the previous stage), the same way.
        log_odds_ratio: ``logit p_won − logit p_won_before`` (the jump on the odds scale).
        more_won_than_lost: a deal that reaches the stage is more likely won than lost
            (``p_won > ½``; on counts alone: more closed deals won than lost).
        reached: deals that reached the stage.
        won: of them, won.
        lost: of them, lost.
        r2_weekly: R² of the weekly wins ``lag_weeks`` later on the weekly count reaching the stage
            (None when fewer than 8 weeks).
        lag_weeks: median weeks from reaching the stage to the win.
        r2_managers: R² across managers of won deals on deals reaching the stage (None with fewer
            than three managers or no manager column).
        win_jump: ``p_won − p_won_before`` (the older rule's score; ``score`` is the rule's).
        explained: out-of-sample share of the entry cohorts' variation in wins explained by the
            count at the stage × the downstream rate (:mod:`voronka.audit.turning_point`).
        gain: ``explained`` minus the stage before's: what the stage adds (the rule's score).
        gain_low: 2.5 % point of the gain (Bayesian bootstrap over cohorts).
        gain_high: 97.5 % point.
        best_share: share of bootstrap draws in which the stage added the most.
        candidate: False for the won stage under another name.
        downstream_rate: won deals per deal reaching the stage (mature cohorts).
        downstream_low: 10th percentile of that rate over the cohorts (how steady it is).
        downstream_high: 90th percentile.
        step_low: 10th percentile over the cohorts of the conversion into the stage.
        step_high: 90th percentile.
        days_to_win: the p90 of the days from reaching the stage to the win.
    """

    stage: str
    score: float
    p_won: float = 0.0
    p_won_before: float = 0.0
    log_odds_ratio: float = 0.0
    more_won_than_lost: bool = False
    reached: int = 0
    won: int = 0
    lost: int = 0
    r2_weekly: float | None = None
    lag_weeks: int = 0
    r2_managers: float | None = None
    win_jump: float = 0.0
    explained: float | None = None
    gain: float | None = None
    gain_low: float | None = None
    gain_high: float | None = None
    best_share: float | None = None
    candidate: bool = True
    downstream_rate: float | None = None
    downstream_low: float | None = None
    downstream_high: float | None = None
    step_low: float | None = None
    step_high: float | None = None
    days_to_win: float | None = None


@dataclass(frozen=True)
class KeyStage:
    """The ``key_stage`` section.

    Attributes:
        stage: the chosen key stage.
        method: how it was chosen (``data``: the highest score; ``funnel_file``: set in the file).
        ranking: every intermediate stage with its score, best first.
        rule: the message key of the rule that picked the stage (for the report's "why").
        best_earlier_r2_weekly: the best weekly R² among the stages before the key stage (None
            when none has one): the comparison the method asks for.
        status: ``clear``, ``close`` (``runner_up`` within noise), ``none`` (no clear key stage:
            ``reason`` ``volume`` or ``noise``; ``stage`` is then the best candidate, named only
            as such), ``no_intermediate`` (nothing between the first stage and the won one),
            ``too_few_cohorts`` (the older rule chose), or ``funnel_file``.
        runner_up: the stage within noise of the key stage (``close``).
        reason: why there is no clear key stage.
        cohorts: mature entry cohorts the rule used.
        cohort_period: ``week`` or ``month``.
    """

    stage: str
    method: str
    ranking: tuple[KeyStageScore, ...]
    rule: str = "forecast.key_stage.rule"
    best_earlier_r2_weekly: float | None = None
    status: str = "clear"
    runner_up: str | None = None
    reason: str | None = None
    cohorts: int = 0
    cohort_period: str = "week"
