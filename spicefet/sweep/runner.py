"""Run a sweep on a `concurrent.futures.Executor`: plan the runs, skip those the journal holds,
submit the rest, journal each outcome as it arrives.

Failures are rows, never drops: a run that raises becomes a failed `Outcome` in the worker (and
is journaled); a run the executor itself loses (a local worker process that died, a task the
cluster gave up on) becomes a failed row with the executor's error, and is *not* journaled, so
the next invocation retries it. Ctrl-C cancels the pending runs, waits for the ones already
executing (a Dask executor cancels those too), journals them and re-raises `KeyboardInterrupt`.
"""
from __future__ import annotations

import math
import sys
from concurrent.futures import Executor, as_completed, wait
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from ..errors import ValidationError
from ..params import ParamSet
from .execute import EngineConfig, Outcome, Task, run_tasks
from .journal import Journal, run_key
from .plan import Run, plan_runs
from .progress import Progress
from .spec import SweepSpec


@dataclass
class SweepResult:
    """The runs of a sweep with their outcomes (same order)."""
    spec: SweepSpec
    runs: list[Run]
    outcomes: list[Outcome]
    executed: int   # runs executed by this call; the others came from the journal
    lost: int       # runs the executor lost (failed rows, retried by the next call)

    def figure_names(self) -> list[str]:
        names = list(self.spec.experiment.figures)
        for outcome in self.outcomes:
            names.extend(outcome.figures)
        return list(dict.fromkeys(names))

    def values(self, figure: str) -> np.ndarray:
        """The figure's finite values over the successful runs."""
        x = np.array([o.figures.get(figure, math.nan) for o in self.outcomes if o.status == "ok"],
                     dtype=float)
        return x[np.isfinite(x)]

    @property
    def failed(self) -> int:
        return sum(o.status != "ok" for o in self.outcomes)

    def passes(self, figure: str | None = None) -> list[bool]:
        """Per run: completed and within the spec's limits (of `figure` only, if given). A
        failed run or a NaN figure does not pass."""
        limits = {figure: self.spec.limits[figure]} if figure else self.spec.limits
        return [o.status == "ok" and all(lo <= o.figures.get(f, math.nan) <= hi
                                         for f, (lo, hi) in limits.items())
                for o in self.outcomes]


def make_task(spec: SweepSpec, base: ParamSet, run: Run, tightened: bool = False) -> Task:
    key = run_key(spec.experiment.name, spec.options, base, run.values, tightened)
    return Task(key, spec.experiment, spec.options, base, run.values,
                EngineConfig(spec.timeout_s, tightened))


def execute(tasks: list[Task], executor: Executor, journal: Journal, label: str,
            retry_failed: bool = False, stream: TextIO = sys.stderr, runs_per_task: int = 1
            ) -> tuple[dict[str, Outcome], int, int]:
    """Outcome of every task by key (identical tasks run once), the number executed now and
    the number the executor lost. Journaled outcomes are reused; failed ones are re-run only
    with `retry_failed`. Each executor task carries `runs_per_task` consecutive runs."""
    if runs_per_task < 1:
        raise ValidationError(f"runs per task must be >= 1, got {runs_per_task}")
    done = {k: o for k, o in journal.load().items() if o.status == "ok" or not retry_failed}
    unique = {t.key: t for t in tasks}
    todo = [t for key, t in unique.items() if key not in done]
    progress = Progress(label, len(unique), len(unique) - len(todo), stream)
    futures = {}
    pending = set()
    lost = 0

    def finish(future) -> None:
        nonlocal lost
        batch = futures[future]
        try:
            outcomes = future.result()
        except Exception as err:  # noqa: BLE001 - the executor lost the runs: rows, retried later
            outcomes = [Outcome.failed(t.key, err, context="lost by the executor, retried by the "
                                                           "next invocation: ") for t in batch]
            lost += len(batch)
        else:
            for outcome in outcomes:
                journal.append(outcome)
        for outcome in outcomes:
            done[outcome.key] = outcome
            progress.update(failed=outcome.status != "ok")

    try:
        for start in range(0, len(todo), runs_per_task):
            batch = todo[start:start + runs_per_task]
            future = executor.submit(run_tasks, batch)
            futures[future] = batch
            pending.add(future)
        for future in as_completed(futures):
            pending.discard(future)
            finish(future)
    except KeyboardInterrupt:
        for future in pending:
            future.cancel()
        running = [f for f in pending if not f.cancelled()]
        stream.write(f"\n{label}: interrupted; pending runs cancelled, waiting for "
                     f"{len(running)} running tasks\n")
        wait(running)
        for future in running:
            finish(future)
        raise
    finally:
        progress.close()
    return done, progress.executed, lost


def run_sweep(spec: SweepSpec, base: ParamSet, executor: Executor, journal: Journal,
              retry_failed: bool = False, stream: TextIO = sys.stderr,
              runs_per_task: int = 1) -> SweepResult:
    """Run (or resume) the sweep `spec` around the parameter set `base`."""
    runs = plan_runs(spec, base)
    tasks = [make_task(spec, base, run) for run in runs]
    outcomes, executed, lost = execute(tasks, executor, journal, f"sweep {spec.experiment.name}",
                                       retry_failed, stream, runs_per_task)
    return SweepResult(spec, runs, [outcomes[t.key] for t in tasks], executed, lost)
