"""Experiments a sweep can run, by name.

A registered experiment is called as ``experiment(params, engine, **options)`` and returns a flat
``{figure: float}`` dict whose names carry their units (``vth_V``, ``ss_mV_per_dec``). Its code is
named by a ``"module:function"`` string and imported on first call, in the worker process that
runs it, so the registry itself is cheap to import and an `Experiment` pickles as plain strings.

Registering an experiment is one line. A function following the experiment convention
(``run(params, engine, **options) -> result`` with ``result.summary() -> {key: {figure: value}}``)
is registered with the summary key that holds its figures; a function that already returns the
figure dict is registered without one::

    register("channel", "spicefet.experiments.channel:run", summary_key="channel",
             figures=("vth_V", "ss_mV_per_dec", "on_off", "mobility_cm2_Vs"))

The sweep report looks for a figure named ``memory_window_V`` to fill
``sweep.memory_window_sigma_V``: ferroelectric experiments should use that name.
"""
from __future__ import annotations

import importlib
import inspect
import numbers
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ValidationError


@dataclass(frozen=True)
class Experiment:
    """A sweepable experiment.

    name: the name a sweep spec uses. target: ``"package.module:function"``.
    summary_key: if set, the function returns a result object and the figures are
        ``result.summary()[summary_key]``; if empty, the function returns the figures itself.
    figures: the figures kept, in this order; empty keeps every scalar the function returns.
    """
    name: str
    target: str
    summary_key: str = ""
    figures: tuple[str, ...] = ()

    def function(self) -> Callable[..., Any]:
        module, _, attr = self.target.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise ValidationError(f"experiment {self.name!r}: cannot load {self.target!r} "
                                  f"({err})") from None

    def options(self) -> dict[str, Any]:
        """Keyword options of the experiment with their defaults (everything after
        ``params, engine``)."""
        parameters = list(inspect.signature(self.function()).parameters.values())[2:]
        return {p.name: p.default for p in parameters
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def __call__(self, params, engine, **options) -> dict[str, float]:
        out = self.function()(params, engine, **options)
        if self.summary_key:
            out = out.summary()[self.summary_key]
        names = self.figures or [k for k, v in out.items()
                                 if isinstance(v, numbers.Real) and not isinstance(v, bool)]
        return {name: float(out[name]) for name in names}


EXPERIMENTS: dict[str, Experiment] = {}


def register(name: str, target: str, summary_key: str = "",
             figures: tuple[str, ...] = ()) -> Experiment:
    """Add an experiment to the registry (see the module docstring) and return it."""
    EXPERIMENTS[name] = Experiment(name, target, summary_key, tuple(figures))
    return EXPERIMENTS[name]


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ValidationError(f"unknown experiment {name!r}; experiments: "
                              f"{', '.join(sorted(EXPERIMENTS))}")
    return EXPERIMENTS[name]


register("channel", "spicefet.experiments.channel:run", summary_key="channel",
         figures=("vth_V", "ss_mV_per_dec", "on_off", "mobility_cm2_Vs"))
register("window", "spicefet.experiments.window:i_gate_figures")
register("switching", "spicefet.experiments.switching:event_figures")
