"""``--verify-numerics``: re-run a sample of successful runs on an engine whose every ladder rung
has tighter tolerances (`TIGHT_OPTIONS`) and half the max time step, and report how far each
figure moves. A figure that moves by more than `FLAG_REL_CHANGE` depends on the solver settings
more than a result should. (The max-step factor acts on transients only; DC sweeps are checked
through the tolerances.)"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from ..params import ParamSet
from .journal import Journal
from .runner import SweepResult, execute, make_task

FLAG_REL_CHANGE = 0.01
DEFAULT_CHECKED_RUNS = 8


@dataclass
class NumericsCheck:
    """Relative change of each figure, per checked run (`changes[k]` is empty where the
    tightened run failed; `errors[k]` then says why)."""
    runs: list[int]
    changes: list[dict[str, float]]
    errors: list[str]

    def max_by_figure(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for change in self.changes:
            for figure, value in change.items():
                out[figure] = max(out.get(figure, 0.0), value)
        return out

    @property
    def max_rel_change(self) -> float:
        """Largest relative change of any figure in any checked run (NaN if none compared)."""
        return max(self.max_by_figure().values(), default=math.nan)

    def flagged(self) -> list[str]:
        return [f for f, v in self.max_by_figure().items() if v > FLAG_REL_CHANGE]


def relative_change(base: dict[str, float], tight: dict[str, float]) -> dict[str, float]:
    """|tight - base| / |base| per figure; a figure that appears, vanishes or leaves zero
    counts as an infinite change."""
    out = {}
    for figure, b in base.items():
        t = tight.get(figure, math.nan)
        if b == t or (math.isnan(b) and math.isnan(t)):
            out[figure] = 0.0
        elif math.isnan(b) or math.isnan(t) or b == 0:
            out[figure] = math.inf
        else:
            out[figure] = abs(t - b) / abs(b)
    return out


def pick_runs(result: SweepResult, count: int) -> list[int]:
    """`count` successful runs spread evenly over the sweep (all of them if `count` <= 0)."""
    ok = [run.index for run, o in zip(result.runs, result.outcomes) if o.status == "ok"]
    if count <= 0 or count >= len(ok):
        return ok
    picks = np.unique(np.linspace(0, len(ok) - 1, count).round().astype(int))
    return [ok[k] for k in picks]


def verify_numerics(result: SweepResult, base: ParamSet, executor, journal: Journal,
                    count: int = DEFAULT_CHECKED_RUNS, retry_failed: bool = False,
                    stream: TextIO = sys.stderr, runs_per_task: int = 1) -> NumericsCheck:
    """Re-run `count` runs of `result` with tightened numerics (journaled like the sweep)."""
    chosen = pick_runs(result, count)
    tasks = [make_task(result.spec, base, result.runs[i], tightened=True) for i in chosen]
    outcomes, _, _ = execute(tasks, executor, journal, "verify-numerics", retry_failed, stream,
                             runs_per_task)
    changes, errors = [], []
    for i, task in zip(chosen, tasks):
        tight = outcomes[task.key]
        ok = tight.status == "ok"
        changes.append(relative_change(result.outcomes[i].figures, tight.figures) if ok else {})
        errors.append(tight.error)
    return NumericsCheck(chosen, changes, errors)
