"""Expand a `SweepSpec` into runs: grid points x corners x Monte Carlo samples.

Sampling is deterministic and local: the value of parameter P in Monte Carlo sample i is drawn
from its own generator, seeded by ``SeedSequence(seed, spawn_key=(i, id(P)))``. So a run's sample
depends only on the seed, its sample index and the parameter: not on the worker that runs it,
the order runs finish in, the number of runs (raising `runs` keeps the first samples) or which
other parameters vary. Sample i uses the same random variates at every grid point and corner
(common random numbers), so differences between corners are not sampling noise.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from ..params import ParamSet
from .spec import LogNormal, Normal, SweepSpec


@dataclass(frozen=True)
class Run:
    """One row of a sweep. `values` holds every swept parameter (``"section.name"``) as used."""
    index: int
    corner: str      # "" when the spec has no corners
    sample: int      # Monte Carlo sample index; -1 when the spec has no Monte Carlo
    values: dict[str, float]


def nominal(base: ParamSet, param: str) -> float:
    section, _, name = param.partition(".")
    return float(getattr(base.section(section), name))


def parameter_columns(spec: SweepSpec) -> list[str]:
    """The swept parameters in table order: grid axes, corner settings, Monte Carlo."""
    keys = [*spec.grid, *(k for values in spec.corners.values() for k in values), *spec.vary]
    return list(dict.fromkeys(keys))


def sample_rng(seed: int, sample: int, param: str) -> np.random.Generator:
    """The generator of one parameter in one Monte Carlo sample (see the module docstring)."""
    stream = zlib.crc32(param.encode())  # stable across processes, unlike hash()
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(sample, stream)))


def plan_runs(spec: SweepSpec, base: ParamSet) -> list[Run]:
    """Every run of the sweep in a fixed order (first grid axis outermost, samples innermost)."""
    columns = parameter_columns(spec)
    points = [dict(zip(spec.grid, combo)) for combo in itertools.product(*spec.grid.values())]
    corners = spec.corners or {"": {}}
    samples = range(spec.runs) if spec.runs else [-1]
    runs = []
    for point in points:
        for corner, settings in corners.items():
            centre = {k: nominal(base, k) for k in columns} | point | settings
            for sample in samples:
                values = dict(centre)
                if sample >= 0:
                    for param, dist in spec.vary.items():
                        _check_nominal(spec, param, dist, centre[param])
                        rng = sample_rng(spec.seed, sample, param)
                        values[param] = dist.draw(centre[param], rng)
                runs.append(Run(len(runs), corner, sample, values))
    return runs


def _check_nominal(spec: SweepSpec, param: str, dist, centre: float) -> None:
    where = f"{spec.path}: monte_carlo.vary.{param}"
    if isinstance(dist, LogNormal) and centre <= 0:
        raise ValidationError(f"{where}: a lognormal needs a positive nominal value, "
                              f"got {centre:g}")
    if isinstance(dist, Normal) and dist.relative and centre == 0:
        raise ValidationError(f"{where}: sigma_rel of a zero nominal value varies nothing; "
                              f"give sigma (absolute)")
