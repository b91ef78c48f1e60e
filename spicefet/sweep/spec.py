"""Sweep specifications: a TOML file, parsed with tomllib and validated strictly.

Every problem (unknown key, wrong type, unknown experiment, option or parameter, value outside
the parameter's physical bounds) is one `ValidationError` naming the file and the key::

    experiment = "channel"          # a name in spicefet.sweep.registry
    timeout_s = 120                 # optional: wall-time limit of one ngspice run

    [options]                       # keyword options of the experiment
    section = "channel"

    [grid]                          # full factorial; SECTION.NAME = [values]
    channel.temp_C = [27, 85]

    [corners]                       # named parameter sets, each combined with every grid point
    typical = {}
    slow = { channel.mu_cm2Vs = 12, channel.vt_V = 0.9 }

    [monte_carlo]                   # `runs` samples at every grid point and corner
    runs = 200
    seed = 1
    [monte_carlo.vary]              # around the nominal value (base file, grid point, corner)
    channel.mu_cm2Vs = { dist = "normal", sigma_rel = 0.1 }       # sigma = 0.1 x nominal
    channel.vt_V = { dist = "normal", sigma = 0.05 }              # sigma in the parameter's unit
    channel.ss_mVdec = { dist = "lognormal", sigma_ln = 0.05 }    # median = nominal
    channel.rc_ohm_um = { dist = "uniform", min = 3000, max = 6000 }

    [spec]                          # pass/fail limits on figures, for the yield
    vth_V = { min = 0.3, max = 0.9 }
"""
from __future__ import annotations

import inspect
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..netlist.core import check_number
from ..params import SECTIONS, check_field
from .registry import Experiment, get_experiment

TOP_KEYS = ("experiment", "timeout_s", "options", "grid", "corners", "monte_carlo", "spec")
DEFAULT_TIMEOUT_S = 600.0


# --------------------------------------------------------------------------------------------
# Distributions of Monte Carlo parameters: a draw maps standard variates to a value

@dataclass(frozen=True)
class Normal:
    """Gaussian around the nominal value; `sigma` absolute, or relative to |nominal|."""
    sigma: float
    relative: bool = False

    def draw(self, nominal: float, rng: np.random.Generator) -> float:
        scale = self.sigma * abs(nominal) if self.relative else self.sigma
        return nominal + scale * rng.standard_normal()


@dataclass(frozen=True)
class LogNormal:
    """Log-normal with median at the nominal value; `sigma_ln` is the sigma of ln(value)."""
    sigma_ln: float

    def draw(self, nominal: float, rng: np.random.Generator) -> float:
        return nominal * math.exp(self.sigma_ln * rng.standard_normal())


@dataclass(frozen=True)
class Uniform:
    """Uniform on [min, max] in the parameter's unit (independent of the nominal value)."""
    min: float
    max: float

    def draw(self, nominal: float, rng: np.random.Generator) -> float:
        return self.min + (self.max - self.min) * rng.random()


Distribution = Normal | LogNormal | Uniform
DISTRIBUTION_KEYS = {"normal": ("sigma", "sigma_rel"), "lognormal": ("sigma_ln",),
                     "uniform": ("min", "max")}


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep. Parameter keys are ``"section.name"`` (``"channel.vt_V"``)."""
    path: str
    experiment: Experiment
    options: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, tuple[float, ...]] = field(default_factory=dict)
    corners: dict[str, dict[str, float]] = field(default_factory=dict)
    runs: int = 0                     # Monte Carlo samples per grid point and corner; 0: none
    seed: int = 0
    vary: dict[str, Distribution] = field(default_factory=dict)
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)  # figure -> (min, max)
    timeout_s: float = DEFAULT_TIMEOUT_S


# --------------------------------------------------------------------------------------------
# Validation helpers: each raises ValidationError("FILE: KEY: problem")

class _Checker:
    def __init__(self, path: str):
        self.path = path

    def fail(self, key: str, problem: str) -> ValidationError:
        return ValidationError(f"{self.path}: {key}: {problem}")

    def table(self, value: Any, key: str, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {type(value).__name__} {value!r}")
        if allowed is not None:
            for name in value:
                if name not in allowed:
                    raise self.fail(f"{key}.{name}" if key else name,
                                    f"unknown key; allowed: {', '.join(allowed)}")
        return value

    def number(self, value: Any, key: str, positive: bool = False) -> float:
        x = check_number(value, f"{self.path}: {key}")
        if positive and x <= 0:
            raise self.fail(key, f"must be > 0, got {x:g}")
        return x

    def integer(self, value: Any, key: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value}")
        return value

    def parameters(self, table: dict, key: str) -> dict[str, Any]:
        """Flatten ``{section: {name: x}}`` (TOML dotted keys) or ``{"section.name": x}`` into
        ``{"section.name": x}``, refusing unknown sections and names."""
        out = {}
        for outer, value in self.table(table, key).items():
            if "." in outer:
                items = [(outer, value)]
            else:
                inner = self.table(value, f"{key}.{outer}")
                items = [(f"{outer}.{name}", x) for name, x in inner.items()]
            for param, x in items:
                self.parameter_key(param, key)
                out[param] = x
        return out

    def parameter_key(self, param: str, key: str) -> None:
        section, _, name = param.partition(".")
        if section not in SECTIONS:
            raise self.fail(f"{key}.{param}", f"unknown parameter section {section!r}; sections: "
                                              f"{', '.join(SECTIONS)}")
        known = [f.name for f in fields(SECTIONS[section])]
        if name not in known:
            raise self.fail(f"{key}.{param}",
                            f"unknown parameter {name!r}; known: {', '.join(known)}")

    def value(self, param: str, x: Any, key: str) -> float:
        """A value of parameter `param` (given at `key`): a number within its physical bounds."""
        section, _, name = param.partition(".")
        try:
            return check_field(SECTIONS[section], name, x, section)
        except ValidationError as err:
            raise self.fail(key, str(err)) from None


# --------------------------------------------------------------------------------------------

def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec (see the module docstring for the format)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValidationError(f"{path}: sweep spec not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ValidationError(f"{path}: not valid TOML ({err})") from None
    return parse_spec(data, str(path))


def parse_spec(data: dict, path: str) -> SweepSpec:
    """Validate a parsed TOML document; `path` names the file in error messages."""
    c = _Checker(path)
    c.table(data, "", TOP_KEYS)
    if "experiment" not in data:
        raise c.fail("experiment", "missing: the name of the experiment to sweep")
    if not isinstance(data["experiment"], str):
        raise c.fail("experiment", f"expected a name, got {data['experiment']!r}")
    try:
        experiment = get_experiment(data["experiment"])
    except ValidationError as err:
        raise c.fail("experiment", str(err)) from None
    grid = {param: _axis(c, param, values)
            for param, values in c.parameters(data.get("grid", {}), "grid").items()}
    corners = _corners(c, data.get("corners", {}), grid)
    runs, seed, vary = _monte_carlo(c, data.get("monte_carlo"))
    return SweepSpec(
        path=path, experiment=experiment,
        options=_options(c, experiment, data.get("options", {})),
        grid=grid, corners=corners, runs=runs, seed=seed, vary=vary,
        limits=_limits(c, experiment, data.get("spec", {})),
        timeout_s=c.number(data.get("timeout_s", DEFAULT_TIMEOUT_S), "timeout_s", positive=True))


def _axis(c: _Checker, param: str, values: Any) -> tuple[float, ...]:
    key = f"grid.{param}"
    if not isinstance(values, list) or not values:
        raise c.fail(key, f"expected a non-empty list of values, got {values!r}")
    return tuple(c.value(param, x, f"{key}[{k}]") for k, x in enumerate(values))


def _corners(c: _Checker, table: Any, grid: dict) -> dict[str, dict[str, float]]:
    out = {}
    for name, values in c.table(table, "corners").items():
        key = f"corners.{name}"
        settings = c.parameters(values, key)
        for param in settings:
            if param in grid:
                raise c.fail(f"{key}.{param}", "is also a grid axis; set it in one place")
        out[name] = {param: c.value(param, x, f"{key}.{param}") for param, x in settings.items()}
    return out


def _monte_carlo(c: _Checker, table: Any) -> tuple[int, int, dict[str, Distribution]]:
    if table is None:
        return 0, 0, {}
    c.table(table, "monte_carlo", ("runs", "seed", "vary"))
    for key in ("runs", "seed", "vary"):
        if key not in table:
            raise c.fail(f"monte_carlo.{key}", "missing")
    runs = c.integer(table["runs"], "monte_carlo.runs", 1)
    seed = c.integer(table["seed"], "monte_carlo.seed", 0)
    vary = {param: _distribution(c, param, spec)
            for param, spec in c.parameters(table["vary"], "monte_carlo.vary").items()}
    if not vary:
        raise c.fail("monte_carlo.vary", "is empty: name at least one parameter to vary")
    return runs, seed, vary


def _distribution(c: _Checker, param: str, spec: Any) -> Distribution:
    key = f"monte_carlo.vary.{param}"
    kind = c.table(spec, key).get("dist")
    if kind not in DISTRIBUTION_KEYS:
        raise c.fail(f"{key}.dist", f"expected one of {', '.join(DISTRIBUTION_KEYS)}, got {kind!r}")
    allowed = DISTRIBUTION_KEYS[kind]
    c.table(spec, key, ("dist", *allowed))
    given = {k: spec[k] for k in allowed if k in spec}
    if kind == "normal":
        if len(given) != 1:
            raise c.fail(key, "a normal distribution takes exactly one of sigma (absolute, in the "
                              "parameter's unit) or sigma_rel (a fraction of the nominal value)")
        (name, value), = given.items()
        return Normal(c.number(value, f"{key}.{name}", positive=True), relative=name == "sigma_rel")
    missing = [k for k in allowed if k not in given]
    if missing:
        raise c.fail(key, f"a {kind} distribution needs {', '.join(missing)}")
    if kind == "lognormal":
        return LogNormal(c.number(spec["sigma_ln"], f"{key}.sigma_ln", positive=True))
    lo, hi = (c.value(param, spec[k], f"{key}.{k}") for k in ("min", "max"))
    if not lo < hi:
        raise c.fail(key, f"uniform needs min < max, got {lo:g} .. {hi:g}")
    return Uniform(lo, hi)


def _options(c: _Checker, experiment: Experiment, table: Any) -> dict[str, Any]:
    known = experiment.options()
    out = {}
    for name, value in c.table(table, "options").items():
        key = f"options.{name}"
        if name not in known:
            raise c.fail(key, f"experiment {experiment.name!r} has no option {name!r}; options: "
                              f"{', '.join(known) or 'none'}")
        default = known[name]
        if isinstance(default, (bool, str)):
            if type(value) is not type(default):
                raise c.fail(key, f"expected a {type(default).__name__}, got {value!r}")
        elif isinstance(default, (int, float)):
            c.number(value, key)
        out[name] = value
    missing = [n for n, d in known.items() if d is inspect.Parameter.empty and n not in out]
    if missing:
        raise c.fail("options", f"experiment {experiment.name!r} needs {', '.join(missing)}")
    return out


def _limits(c: _Checker, experiment: Experiment, table: Any) -> dict[str, tuple[float, float]]:
    out = {}
    for figure, limits in c.table(table, "spec").items():
        key = f"spec.{figure}"
        if experiment.figures and figure not in experiment.figures:
            raise c.fail(key, f"experiment {experiment.name!r} has no figure {figure!r}; "
                              f"figures: {', '.join(experiment.figures)}")
        c.table(limits, key, ("min", "max"))
        if not limits:
            raise c.fail(key, "give min, max or both")
        lo = c.number(limits["min"], f"{key}.min") if "min" in limits else -math.inf
        hi = c.number(limits["max"], f"{key}.max") if "max" in limits else math.inf
        if not lo < hi:
            raise c.fail(key, f"min must be below max, got {lo:g} .. {hi:g}")
        out[figure] = (lo, hi)
    return out
