"""Fit models to measurement CSV files: ``fit(kind, csv_path, start_params, out_path, ...)``.

Kinds and what they fit (CSV schemas in `spicefet.fit.csvio`):

* ``transfer``  - MoS2 channel parameters, ngspice in the loop (`spicefet.fit.transfer`);
  writes a parameter set (``fits/*.json`` format) that every command loads with ``--params``.
* ``retention`` - log-time drift with an Arrhenius rate, 10-year extrapolation
  (`spicefet.fit.retention`); writes the fitted model as JSON.
* ``endurance`` - window vs cycles with wake-up, fatigue and breakdown
  (`spicefet.fit.endurance`); writes the fitted model as JSON.
* ``pv``, ``pulse``, ``switching`` - the ferroelectric model, ngspice in the loop
  (`spicefet.fit.ferro`): P-V loop of ``fecap``, T-type pulse response and I-type switched
  fraction of ``mfmis_fefet``; each writes a full parameter set like transfer.
A new kind slots in by adding a function ``(data, start, engine) -> FitProduct`` to `FITTERS`.

Outputs (parameters, PNG plot, text report) are staged next to their targets and renamed into
place only when everything has been produced: a failed fit writes nothing.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import lmfit

from ..engine import LADDER, Engine
from ..errors import ValidationError
from ..params import ParamSet, load_params, write_text_atomic
from ..report import save_figure
from .common import FitProduct, Staged
from .csvio import KINDS, CsvData, read_csv

__all__ = ["fit", "FitOutcome", "FITTERS", "KINDS", "read_csv"]


@dataclass
class FitOutcome:
    """What `fit` produced: lmfit's result, R^2, the report text, the summary keys it fills
    and the fitter's own object (`TransferFit`, `RetentionFit`, `EnduranceFit`)."""
    kind: str
    result: lmfit.minimizer.MinimizerResult
    r2: float
    report: str
    summary: dict
    product: FitProduct
    written: list[Path]


def _spice_fitter(module: str, name: str):
    """A fitter that runs ngspice: start = a `ParamSet` or a parameter file (None: defaults)."""
    def fitter(data, start, engine: Engine | None) -> FitProduct:
        import importlib
        fit_fn = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        pset = start if isinstance(start, ParamSet) else load_params(start)
        with contextlib.ExitStack() as stack:
            if engine is None:
                engine = stack.enter_context(Engine("shared", cache=None, ladder=LADDER[:1]))
            return fit_fn(data, pset, engine)
    return fitter


_transfer = _spice_fitter("transfer", "fit_transfer")


def _start_file(kind: str, start) -> Path | None:
    if isinstance(start, ParamSet):
        raise ValidationError(f"a {kind} fit starts from a file written by a previous {kind} "
                              f"fit, not from a device parameter set")
    return Path(start) if start is not None else None


def _retention(data, start, engine) -> FitProduct:
    from .retention import fit_retention
    return fit_retention(data, _start_file("retention", start))


def _endurance(data, start, engine) -> FitProduct:
    from .endurance import fit_endurance
    return fit_endurance(data, _start_file("endurance", start))


FITTERS: dict[str, Callable[[CsvData, object, Engine | None], FitProduct]] = {
    "transfer": _transfer,
    "retention": _retention,
    "endurance": _endurance,
    "pv": _spice_fitter("ferro", "fit_pv"),
    "pulse": _spice_fitter("ferro", "fit_pulse"),
    "switching": _spice_fitter("ferro", "fit_switching"),
}


def _check_paths(csv_path: Path, paths: list[Path]) -> None:
    resolved = [p.resolve() for p in paths]
    if len(set(resolved)) != len(resolved):
        raise ValidationError("the output files must differ from each other: "
                              + ", ".join(str(p) for p in paths))
    if csv_path.resolve() in resolved:
        raise ValidationError(f"{csv_path}: refusing to overwrite the data file with an output")
    for p in paths:
        if p.is_dir():
            raise ValidationError(f"{p}: is a directory, not an output file")


def fit(kind: str, csv_path: str | Path, start_params: ParamSet | str | Path | None,
        out_path: str | Path, plot_path: str | Path | None = None,
        report_path: str | Path | None = None, *, engine: Engine | None = None) -> FitOutcome:
    """Fit the model of `kind` to the CSV file and write the results.

    start_params: transfer, pv, pulse, switching - a `ParamSet` or parameter file (None:
        fits/default.json);
        retention/endurance - a file written by a previous fit of that kind, or None (start
        values are read off the data).
    out_path: fitted parameters (JSON); plot_path: PNG of data, model and residuals;
    report_path: the fit report as text. engine: for ngspice fits (default: a fresh one).
    """
    if kind not in KINDS:
        raise ValidationError(f"unknown fit kind {kind!r}; kinds: {', '.join(KINDS)}")
    csv_path = Path(csv_path)
    targets = [Path(p) for p in (out_path, plot_path, report_path) if p is not None]
    _check_paths(csv_path, targets)
    data = read_csv(csv_path, kind)
    if kind not in FITTERS:
        raise ValidationError(f"fit kind {kind!r} is not yet supported (it needs the "
                              f"ferroelectric model); {csv_path} is a valid {kind} file "
                              f"of {len(data)} rows. Supported: {', '.join(FITTERS)}")
    product = FITTERS[kind](data, start_params, engine)
    report = product.report()
    source = (start_params.source if isinstance(start_params, ParamSet)
              else start_params or ("fits/default.json" if kind not in ("retention", "endurance")
                                    else "the data"))
    provenance = (f"spicefet fit {kind} of {csv_path} ({len(data)} rows; R^2 = {product.r2:.6f}, "
                  f"reduced chi-square = {product.result.redchi:.4g}); start: {source}; data "
                  f"provenance: {data.header.get('provenance', 'not stated in the file')}")
    with Staged() as staged:
        staged.add(out_path, lambda tmp: product.save(tmp, provenance))
        if plot_path is not None:
            staged.add(plot_path, lambda tmp: save_figure(product.figure(), tmp))
        if report_path is not None:
            staged.add(report_path, lambda tmp: write_text_atomic(tmp, report))
    return FitOutcome(kind, product.result, product.r2, report, product.summary(), product,
                      targets)
