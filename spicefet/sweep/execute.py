"""The worker side of a sweep: one picklable call per run, on whatever executor runs it.

Like `spicefet.engine.simulate`, each worker process keeps one `Engine` per configuration for
its whole life, so ngspice is started once per process, not once per run. Inside a worker the
experiment's netlists run one after another: the sweep's parallelism is across runs, so N
workers use N cores. Every exception of a run (a `SimulationError`, a parameter outside its
bounds, a failed extraction) becomes a failed `Outcome` carrying the error text.
"""
from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..engine import LADDER, Engine, Result
from ..errors import SimulationError
from ..netlist.core import Rung
from ..params import ParamSet
from .registry import Experiment

# --verify-numerics: every rung of the ladder, with tighter tolerances and half the max step
TIGHT_OPTIONS: dict[str, float] = {"reltol": 1e-4, "abstol": 1e-14, "vntol": 1e-7}
TIGHT_MAX_STEP_FACTOR = 0.5


def tightened_ladder(ladder: Iterable[Rung] = LADDER) -> tuple[Rung, ...]:
    """`ladder` with `TIGHT_OPTIONS` on every rung and the max time step halved."""
    return tuple(Rung(f"{r.name}+tight", {**r.options, **TIGHT_OPTIONS},
                      r.max_step_factor * TIGHT_MAX_STEP_FACTOR) for r in ladder)


@dataclass(frozen=True)
class EngineConfig:
    timeout_s: float
    tightened: bool = False


@dataclass(frozen=True, eq=False)
class Task:
    """Everything a worker needs for one run (picklable)."""
    key: str
    experiment: Experiment
    options: dict[str, Any]
    base: ParamSet
    values: dict[str, float]  # "section.name" -> value
    engine: EngineConfig


@dataclass
class Outcome:
    """What one run produced: figures (ok) or the error text (failed)."""
    key: str
    status: str                                    # "ok" or "failed"
    figures: dict[str, float] = field(default_factory=dict)
    error: str = ""
    rung: str = ""                                 # the highest convergence rung any netlist needed
    seconds: float = 0.0

    @classmethod
    def failed(cls, key: str, err: BaseException, seconds: float = 0.0,
               context: str = "") -> "Outcome":
        text = " ".join(f"{context}{type(err).__name__}: {err}".split())  # one line
        return cls(key, "failed", error=text, rung=getattr(err, "rung", ""), seconds=seconds)


_ENGINES: dict[EngineConfig, Engine] = {}
_ENGINES_LOCK = threading.Lock()  # a Dask worker may run several tasks in threads


def worker_engine(config: EngineConfig) -> Engine:
    """This process's engine for `config` (in a daemonic process, such as a default Dask
    worker, the engine itself falls back to the ``ngspice -b`` path: the same vectors)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(config)
        if engine is None:
            ladder = tightened_ladder() if config.tightened else LADDER
            engine = _ENGINES[config] = Engine("shared", config.timeout_s, cache=None,
                                               ladder=ladder)
    return engine


class RungRecorder:
    """The engine an experiment sees during one run: the process's engine, one netlist at a
    time, noting the convergence rung of each result."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.rungs: list[str] = []

    def run(self, netlist) -> Result:
        result = self.engine.run(netlist)
        self.rungs.append(result.rung)
        return result

    def run_many(self, netlists, executor=None, return_exceptions: bool = False):
        """Serial `Engine.run_many` (`executor` is ignored: the sweep's workers are the
        parallelism)."""
        out: list[Result | SimulationError] = []
        for netlist in netlists:
            try:
                out.append(self.run(netlist))
            except SimulationError as err:
                if not return_exceptions:
                    raise
                out.append(err)
        return out

    def highest_rung(self) -> str:
        order = [r.name for r in self.engine.ladder]
        return max(self.rungs, key=order.index, default="")

    def __getattr__(self, name: str):
        return getattr(self.engine, name)


def apply_values(base: ParamSet, values: dict[str, float]) -> ParamSet:
    """`base` with the run's ``"section.name"`` values, each checked against its bounds."""
    by_section: dict[str, dict[str, float]] = {}
    for param, value in values.items():
        section, _, name = param.partition(".")
        by_section.setdefault(section, {})[name] = value
    out = base
    for section, section_values in by_section.items():
        out = out.replace_values(section, section_values, where="run parameters")
    return out


def run_task(task: Task) -> Outcome:
    """Run one sweep row; never raises for a failure of the run itself."""
    start = time.perf_counter()
    try:
        engine = RungRecorder(worker_engine(task.engine))
        figures = task.experiment(apply_values(task.base, task.values), engine, **task.options)
    except Exception as err:  # noqa: BLE001 - every failure of a run is a row, not a crash
        return Outcome.failed(task.key, err, time.perf_counter() - start)
    return Outcome(task.key, "ok", figures, "", engine.highest_rung(), time.perf_counter() - start)


def run_tasks(tasks: list[Task]) -> list[Outcome]:
    """Several runs in one call: fewer, longer tasks amortise an executor's per-task overhead."""
    return [run_task(task) for task in tasks]


def ignore_sigint() -> None:
    """Initializer of local pool workers: Ctrl-C is the parent's to handle (it cancels pending
    runs and lets running ones finish), so a terminal's SIGINT to the process group must not
    kill workers mid-run."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
