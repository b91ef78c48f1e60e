"""The fitting section of ``make reproduce``: every reference dataset in fits/data/ fitted.

``section(params, engine, out_dir) -> Section`` fits transfer, retention, endurance, pv,
pulse and switching (the files named in `spicefet.fit.synthetic.FILES` that exist), saves a
data-vs-model PNG per kind in `out_dir`, and lists the fitted values +- standard errors. Summary
keys: ``fits.<kind>.r2`` (and ``redchi``) per kind, ``retention.on_off_10y_125C`` (the paper's
linear log-time extrapolation to 10 years at 125 C), ``endurance.cycles_to_failure`` (finite:
when the fitted window never falls below half its peak, the search limit 1e30 is reported with
``endurance.cycles_to_failure_lower_bound = true``). Nothing is written but the PNGs.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

from ..engine import Engine
from ..params import ParamSet
from ..report import Section, merge, save_figure
from .common import FitProduct
from .csvio import read_csv
from .synthetic import DATA_DIR, FILES

ORDER = ("transfer", "retention", "endurance", "pv", "pulse", "switching")


def fit_product(kind: str, path: Path, params: ParamSet, engine: Engine) -> FitProduct:
    from . import FITTERS
    start = None if kind in ("retention", "endurance") else params
    return FITTERS[kind](read_csv(path, kind), start, engine)


def _values(product) -> list[tuple[str, float, float | None]]:
    if hasattr(product, "values") and callable(product.values):   # FerroFit: tau0 un-logged
        return [(n, v, e) for n, (v, e) in product.values().items()]
    return [(n, p.value, p.stderr) for n, p in product.result.params.items() if p.vary
            and not n.startswith("lvl_")]


def _fmt(value: float, err: float | None) -> str:
    return f"{value:.4g} +- {err:.2g}" if err is not None and math.isfinite(err) else \
        f"{value:.4g} (no error estimate)"


def section(params: ParamSet, engine: Engine, out_dir: Path,
            data_dir: Path = DATA_DIR) -> Section:
    out_dir = Path(out_dir)
    figures, rows, summary, notes = [], [], {}, []
    for kind in ORDER:
        path = Path(data_dir) / FILES[kind]
        if not path.exists():
            notes.append(f"{kind}: no reference file {path.name}")
            continue
        t0 = time.perf_counter()
        product = fit_product(kind, path, params, engine)
        elapsed = time.perf_counter() - t0
        figures.append(save_figure(product.figure(), out_dir / f"fit_{kind}.png"))
        merge(summary, product.summary())
        summary["fits"][kind]["seconds"] = elapsed
        table = "; ".join(f"{n} = {_fmt(v, e)}" for n, v, e in _values(product))
        rows.append((f"{kind} fit ({path.name}), R^2 {product.r2:.5f}, reduced chi-square "
                     f"{product.result.redchi:.3g}", table, f"{elapsed:.1f} s"))
    ret = summary.get("retention", {})
    if "on_off_10y_125C" in ret:
        rows.append(("retention: 10-year on/off at 125 C (linear fit in log-time)",
                     f"{ret['on_off_10y_125C']:.3g} (model {ret['on_off_10y_125C_model']:.3g})",
                     "paper: > 1e6 (extrapolated)"))
    end = summary.get("endurance", {})
    if "cycles_to_failure" in end:
        bound = end.get("cycles_to_failure_lower_bound")
        rows.append(("endurance: cycles until the window < 50 % of its peak",
                     (f"> {end['cycles_to_failure']:.3g} (never within the search limit)"
                      if bound else f"{end['cycles_to_failure']:.3g} (extrapolated)"),
                     "paper: > 1e13"))
    md = ("Every reference dataset in `fits/data/` is fitted by `spicefet fit` (ngspice in the "
          "loop for transfer, pv, pulse and switching; analytic models for retention and "
          "endurance), starting from the run's parameter set. **The reference datasets are "
          "SYNTHETIC** (the paper's source data are not public): each was generated from the "
          "calibrated model at stated parameters plus seeded noise (see each file's provenance "
          "line), so these fits demonstrate parameter recovery, not agreement with "
          "measurements. Table: fitted values +- standard errors (lmfit, covariance scaled by "
          "the reduced chi-square); last column the fit's wall time."
          + ("" if not notes else " Skipped: " + "; ".join(notes) + "."))
    return Section("Fits to the reference datasets (synthetic)", md, figures, summary,
                   [(a, b, c) for a, b, c in rows])
