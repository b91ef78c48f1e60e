"""Pieces shared by the fitters: goodness of fit, report text, staged (all-or-nothing)
output files, and the JSON files of the analytic (non-SPICE) models."""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

import lmfit
import numpy as np

from ..errors import ValidationError
from ..params import make_readable, write_text_atomic

if TYPE_CHECKING:
    from .csvio import CsvData


class FitProduct(Protocol):
    """What a fitter returns: nothing is written until `fit()` publishes it."""
    result: lmfit.minimizer.MinimizerResult
    r2: float

    def report(self) -> str: ...
    def figure(self): ...                       # a matplotlib Figure
    def summary(self) -> dict: ...              # summary.json keys this fit fills
    def save(self, path: Path, provenance: str) -> None: ...   # the fitted parameters


def r_squared(y: np.ndarray, y_fit: np.ndarray) -> float:
    """Coefficient of determination 1 - SS_res/SS_tot (unweighted, in the fitted quantity)."""
    ss_res = float(np.sum((y - y_fit) ** 2))
    ss_tot = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan


def report_text(title: str, data: CsvData, lines: list[str],
                result: lmfit.minimizer.MinimizerResult, r2: float,
                min_correl: float = 0.1) -> str:
    """The fit report: what was fitted to what, then lmfit's own report (values +/- standard
    errors, correlations, chi-square, reduced chi-square) with R^2 added to it."""
    result.rsquared = r2  # lmfit's fit_report prints R-squared when the result carries it
    head = [title, f"data: {data.path} ({len(data)} rows)"]
    if "provenance" in data.header:
        head.append(f"data provenance: {data.header['provenance']}")
    status = "converged" if result.success else "NOT CONVERGED"
    tail = [f"optimizer: {status}: {result.message}", "",
            lmfit.fit_report(result, min_correl=min_correl), ""]
    return "\n".join(head + lines + tail)


def check_enough_points(data: CsvData, params: lmfit.Parameters) -> None:
    """Refuse data with no more rows than free parameters (nothing left to judge the fit)."""
    nvary = sum(p.vary for p in params.values())
    if len(data) <= nvary:
        raise ValidationError(f"{data.path}: {len(data)} data points cannot determine "
                              f"{nvary} free parameters")


class Staged:
    """Output files written next to their targets under temporary names; `commit` renames
    them into place, `discard` removes them. Use as a context manager: leaving the block with
    an exception discards everything, so a failed command leaves nothing behind."""

    def __init__(self) -> None:
        self._files: list[tuple[Path, Path]] = []

    def add(self, path: str | Path, write: Callable[[Path], None]) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(fd)
        self._files.append((Path(tmp), path))
        write(Path(tmp))

    def commit(self) -> None:
        for tmp, path in self._files:
            make_readable(tmp)
            os.replace(tmp, path)
        self._files.clear()

    def discard(self) -> None:
        for tmp, _ in self._files:
            tmp.unlink(missing_ok=True)
        self._files.clear()

    def __enter__(self) -> "Staged":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


# ------------------------------------------------------------------ analytic-model files
def save_model_json(path: Path, kind: str, params: lmfit.Parameters, names: tuple[str, ...],
                    provenance: str, extra: dict) -> None:
    """Write ``{"_provenance", kind: {name: value}, "_stderr": {...}, ...extra}`` atomically;
    the `kind` section is what `load_start_values` reads back as a fit's starting point."""
    values = {n: params[n].value for n in names}
    stderr = {n: params[n].stderr for n in names if params[n].stderr is not None}
    doc = {"_provenance": provenance, kind: values, "_stderr": stderr, **extra}
    write_text_atomic(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")


def load_start_values(path: str | Path, kind: str, params: lmfit.Parameters,
                      names: tuple[str, ...]) -> None:
    """Set starting values of `params` from the `kind` section of a model file written by
    `save_model_json` (a previous fit); unknown names or values out of bounds are refused."""
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValidationError(f"{path}: start-parameter file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValidationError(f"{path}: cannot read: {err}") from None
    except json.JSONDecodeError as err:
        raise ValidationError(f"{path}:{err.lineno}:{err.colno}: not valid JSON "
                              f"({err.msg})") from None
    section = doc.get(kind) if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise ValidationError(f"{path}: no {kind!r} section of start values (a {kind} fit "
                              f"starts from a file written by a previous {kind} fit)")
    for name, value in section.items():
        if name not in names:
            raise ValidationError(f"{path}: {kind}.{name} is not a {kind} model parameter; "
                                  f"parameters: {', '.join(names)}")
        par = params[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or not par.min <= value <= par.max:
            raise ValidationError(f"{path}: {kind}.{name} = {value!r} is not a number within "
                                  f"[{par.min:g}, {par.max:g}]")
        par.value = float(value)
