"""Fit the MoS2 channel model to a measured transfer curve, with ngspice in the loop.

Every residual comes from the shipped model: models/mos2.lib (``mos2fet``) in the
`channel_idvg` bench, run by an `Engine`, so the parameters written are those of the model
that ships. One DC sweep per drain bias covers the data's gate range on the data's own step
(at most `MAX_SWEEP_POINTS` points); the model is read at the data's gate voltages by linear
interpolation of log10|Id| (exact where the data lie on the sweep grid). The channel model has
no hysteresis: up and down branches at one drain bias are fitted by the same curve.

Residuals are in log-current space, ``(log10|Id_model| - log10|Id_data|) / sigma``, with
``sigma = (rel_noise + abs_noise_A/|Id_data|) / ln 10``: a relative error plus an instrument
floor, so the on-state, the subthreshold slope and the off-floor all count. Bounds come from
the ``p()`` metadata of `ChannelParams`. lmfit's ``least_squares`` method (trust-region
reflective, honours the bounds) gets a finite-difference Jacobian whose columns, one netlist
per varied parameter and drain bias, run in parallel with `Engine.run_many`. Nothing is
random, so a fit is reproducible. Standard errors are lmfit's (covariance scaled by the
reduced chi-square).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import lmfit
import numpy as np

from ..engine import Engine
from ..errors import ValidationError
from ..netlist.benches import channel_idvg
from ..netlist.core import Netlist
from ..params import ChannelParams, ParamSet, save_params
from .common import check_enough_points, r_squared, report_text
from .csvio import TransferData

FIT_NAMES = ("mu_cm2Vs", "vt_V", "ss_mVdec", "rc_ohm_um", "g_off_S")
GEOMETRY_KEYS = ("w_um", "l_um", "t_ox_nm", "eps_ox", "temp_C")  # header keys that override
MAX_SWEEP_POINTS = 4001
FD_REL_STEP = 1e-3        # finite-difference step relative to |value| (or to the start value)
Curve = tuple[np.ndarray, np.ndarray]   # (vg_V, id_A) of one simulated sweep


@dataclass(frozen=True)
class Noise:
    """Measurement-error model giving the weights: sigma(Id) = rel + abs_A/|Id| (relative)."""
    rel: float = 0.03
    abs_A: float = 1e-15

    def sigma_log10(self, id_A: np.ndarray) -> np.ndarray:
        return (self.rel + self.abs_A / np.abs(id_A)) / math.log(10.0)


@dataclass
class BiasSweep:
    """The rows at one drain bias (all their branches) and the DC sweep that covers them."""
    vd_V: float
    rows: np.ndarray
    start_V: float
    step_V: float
    stop_V: float


def bias_sweeps(data: TransferData) -> list[BiasSweep]:
    vd = data.drain_bias_V()
    out = []
    for v in dict.fromkeys(vd.tolist()):
        rows = np.flatnonzero(vd == v)
        if v == 0:
            raise data.fail(rows[0], "vd_V", "a transfer fit needs a nonzero drain bias")
        vg = np.unique(data.vg_V[rows])
        if vg.size < 2:
            raise data.fail(rows[0], "vg_V", f"only one gate voltage at vd_V = {v:g}")
        span = float(vg[-1] - vg[0])
        step = max(float(np.min(np.diff(vg))), span / (MAX_SWEEP_POINTS - 1))
        n = math.ceil(span / step - 1e-9) + 1
        out.append(BiasSweep(v, rows, float(vg[0]), step, float(vg[0]) + (n - 1) * step))
    return out


def start_params(start: ParamSet, data: TransferData, section: str) -> ParamSet:
    """The starting parameter set with the geometry from the data file's header, if any."""
    geometry = {k: data.header[k] for k in GEOMETRY_KEYS if k in data.header}
    if not geometry:
        return start
    return start.replace_values(section, geometry, where=f"{data.path} header")


def lmfit_parameters(channel: ChannelParams, vary: tuple[str, ...]) -> lmfit.Parameters:
    """lmfit Parameters named as the ChannelParams fields, bounded by their p() metadata."""
    unknown = set(vary) - set(FIT_NAMES)
    if unknown:
        raise ValidationError(f"cannot fit {', '.join(sorted(unknown))}; fittable: "
                              f"{', '.join(FIT_NAMES)}")
    meta = {f.name: f.metadata for f in fields(ChannelParams)}
    params = lmfit.Parameters()
    for name in FIT_NAMES:
        params.add(name, value=getattr(channel, name), min=meta[name]["lo"],
                   max=meta[name]["hi"], vary=name in vary)
    return params


class TransferObjective:
    """Weighted log-current residuals and their Jacobian, both computed by ngspice."""

    def __init__(self, data: TransferData, base: ParamSet, engine: Engine,
                 section: str = "channel", noise: Noise = Noise()):
        self.data, self.base, self.engine, self.section = data, base, engine, section
        self.sweeps = bias_sweeps(data)
        bad = np.flatnonzero(data.id_A == 0)
        if bad.size:
            raise data.fail(bad[0], "id_A", "zero current cannot be fitted in log space")
        self.log_data = np.log10(np.abs(data.id_A))
        self.sigma = noise.sigma_log10(data.id_A)
        self.start = {n: getattr(base.section(section), n) for n in FIT_NAMES}
        self._last: tuple[tuple, np.ndarray] | None = None
        self.runs = 0

    # -- model ---------------------------------------------------------------------------------
    def netlists(self, values: dict[str, float]) -> list[Netlist]:
        pset = self.base.replace_values(self.section, values)
        out = []
        for b in self.sweeps:
            out.append(channel_idvg(pset, vd_V=b.vd_V, vg_start_V=b.start_V, vg_stop_V=b.stop_V,
                                    vg_step_V=b.step_V, section=self.section))
        return out

    def curves(self, value_sets: list[dict[str, float]]) -> list[list[Curve]]:
        """(vg_V, id_A) of every bias sweep for each set of values, all in one parallel
        batch."""
        nets = [n for values in value_sets for n in self.netlists(values)]
        results = self.engine.run_many(nets)
        self.runs += len(nets)
        k = len(self.sweeps)
        return [[(r["v-sweep"], -r["i(vd)"]) for r in results[j * k:(j + 1) * k]]
                for j in range(len(value_sets))]

    def model_log10(self, curves: list[Curve]) -> np.ndarray:
        """log10|Id| of the model at every data row."""
        out = np.empty(len(self.data))
        for b, (vg, i_d) in zip(self.sweeps, curves):
            with np.errstate(divide="ignore"):
                log_i = np.log10(np.abs(i_d))
            out[b.rows] = np.interp(self.data.vg_V[b.rows], vg, log_i)
        if not np.all(np.isfinite(out)):
            raise ValidationError(f"{self.data.path}: the model current is zero at some data "
                                  f"points (g_off_S = 0 with a gate range deep in the off-state)")
        return out

    def _residual_of(self, curves) -> np.ndarray:
        return (self.model_log10(curves) - self.log_data) / self.sigma

    # -- what lmfit calls ----------------------------------------------------------------------
    def residual(self, params: lmfit.Parameters) -> np.ndarray:
        values = params.valuesdict()
        key = tuple(values.values())
        if self._last is None or self._last[0] != key:
            self._last = (key, self._residual_of(self.curves([values])[0]))
        return self._last[1]

    def jacobian(self, params: lmfit.Parameters) -> np.ndarray:
        """Forward differences; the perturbed netlists run in parallel."""
        base = self.residual(params)
        names = [n for n, p in params.items() if p.vary]
        values = params.valuesdict()
        steps, value_sets = [], []
        for name in names:
            p = params[name]
            h = FD_REL_STEP * max(abs(p.value), abs(self.start[name])) or FD_REL_STEP
            if p.value + h > p.max:
                h = -h
            steps.append(h)
            value_sets.append({**values, name: p.value + h})
        columns = [(self._residual_of(c) - base) / h
                   for c, h in zip(self.curves(value_sets), steps)]
        return np.column_stack(columns)


@dataclass
class TransferFit:
    """A finished transfer fit: lmfit's result, the fitted parameter set and what to show."""
    data: TransferData
    result: lmfit.minimizer.MinimizerResult
    params: ParamSet
    section: str
    r2: float
    noise: Noise
    runs: int
    curves: list[Curve] = field(repr=False)
    sweeps: list[BiasSweep] = field(repr=False)
    residual: np.ndarray = field(repr=False)

    def report(self) -> str:
        ch = self.params.section(self.section)
        fixed = ", ".join(f"{f.name} = {getattr(ch, f.name):g}" for f in fields(ch)
                          if not (f.name in self.result.params and self.result.params[f.name].vary))
        biases = ", ".join(f"{b.vd_V:g}" for b in self.sweeps)
        return report_text(
            "spicefet fit transfer: MoS2 channel (models/mos2.lib mos2fet, ngspice in the loop)",
            self.data,
            [f"drain biases [V]: {biases}; {self.runs} ngspice runs",
             f"residuals: log10|Id| weighted by 1/sigma, sigma = ({self.noise.rel:g} + "
             f"{self.noise.abs_A:g} A/|Id|)/ln10",
             f"R^2 of log10|Id| (unweighted): {self.r2:.6f}",
             f"fixed ({self.section}): {fixed}"],
            self.result, self.r2)

    def figure(self):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (ax, axr) = plt.subplots(2, 1, figsize=(7, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
        for k, (b, (vg, i_d)) in enumerate(zip(self.sweeps, self.curves)):
            rows = b.rows
            ax.semilogy(self.data.vg_V[rows], np.abs(self.data.id_A[rows]), "o", ms=2.5,
                        color=f"C{k}", alpha=0.6, label=f"data, Vd = {b.vd_V:g} V")
            ax.semilogy(vg, np.abs(i_d), "-", color=f"C{k}", lw=1.2,
                        label=f"model, Vd = {b.vd_V:g} V")
            axr.plot(self.data.vg_V[rows], self.residual[rows], ".", ms=3, color=f"C{k}")
        axr.axhline(0, color="0.5", lw=0.8)
        ax.set_ylabel("|Id| (A)")
        ax.set_title(f"transfer fit: R^2(log10|Id|) = {self.r2:.6f}, "
                     f"reduced chi-square = {self.result.redchi:.3g}")
        ax.legend(fontsize=8)
        axr.set_xlabel("Vg (V)")
        axr.set_ylabel("residual (sigma)")
        return fig

    def summary(self) -> dict:
        return {"fits": {"transfer": {"r2": self.r2, "redchi": float(self.result.redchi)}}}

    def save(self, path: Path, provenance: str) -> None:
        save_params(self.params, path, provenance)


def fit_transfer(data: TransferData, start: ParamSet, engine: Engine, *,
                 section: str = "channel", vary: tuple[str, ...] = FIT_NAMES,
                 noise: Noise = Noise(), max_nfev: int = 60) -> TransferFit:
    """Fit the `vary` channel parameters of `start` (section `section`) to `data`."""
    base = start_params(start, data, section)
    params = lmfit_parameters(base.section(section), vary)
    check_enough_points(data, params)
    objective = TransferObjective(data, base, engine, section, noise)
    minimizer = lmfit.Minimizer(objective.residual, params, nan_policy="raise")
    result = minimizer.minimize(method="least_squares", jac=objective.jacobian, x_scale="jac",
                                ftol=1e-7, xtol=1e-7, gtol=1e-7, max_nfev=max_nfev)
    best = result.params.valuesdict()
    fitted = base.replace_values(section, {n: best[n] for n in vary})
    curves = objective.curves([best])[0]
    log_model = objective.model_log10(curves)
    residual = (log_model - objective.log_data) / objective.sigma
    return TransferFit(data, result, fitted, section, r_squared(objective.log_data, log_model),
                       noise, objective.runs, curves, objective.sweeps, residual)
