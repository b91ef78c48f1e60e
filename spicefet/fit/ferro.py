"""Fit the ferroelectric model to P-V loops, pulse responses and switching data, with ngspice
in the loop (the pattern of `spicefet.fit.transfer`).

Every residual comes from the shipped models: ``fecap`` (models/ferroelectric.lib) for a P-V
loop, ``mfmis_fefet`` (models/fefet.lib over models/mos2.lib) for a pulse train or a single
switching pulse. Bounds come from the ``p()`` metadata of `FerroParams` / `DuplexParams`;
``tau0_s`` is fitted as ``log10_tau0_s`` (it spans decades). The Jacobian is a forward
difference whose columns (one netlist set per varied parameter) run in parallel through
`Engine.run_many`; lmfit's ``least_squares`` (trust-region reflective) honours the bounds.
Nothing is random, so a fit is reproducible. The fitted values replace the start values in a
full `ParamSet` written with `save_params`.

Kinds (what is varied by default, and why):

* ``pv`` - ``ps_uC_cm2``, ``ea_MV_cm``, ``ea_sigma_MV_cm``, ``eps_fe``. The capacitor is driven
  by the data's own voltage waveform (PWL through the rows at ``t_s``, or at `PV_RATE_V_S` when
  the file has no time column), starting saturated at ``p0`` (header ``p0``, default -1).
  Model: ``P = Ps*pm + eps0*eps_fe*V/t_fe`` (the charge per area a Sawyer-Tower or PUND
  set-up measures, without leakage); with a ``q_C`` column, times ``area_um2`` (header,
  required). Ps sets the loop height, eps_fe its tilt, Ea the coercive voltage and sigma the
  slope of the switching branches: all four are separately identifiable. ``alpha`` and
  ``tau0_s`` are not (at one ramp rate they only move Ec, like Ea).
* ``pulse`` - ``ea_MV_cm`` and ``ea_sigma_MV_cm`` of a T-type gate (A_FE/A_DE = ``ratio_t``,
  header ``ratio`` overrides). The real pulse-train transient is run with the data's pulse
  amplitudes and width, ``operation.t_edge_s`` edges, one pulse per ``operation.t_period_s``
  (headers ``edge_s``, ``period_s`` override), from P/Ps = ``p0`` (header, default 0.2 as in
  the T-type experiment); the read is at the read bias before the next pulse. Why these two:
  the mean Ea sets how far each identical pulse reaches into the switching-field distribution
  (the whole LTP and LTD amplitude), the width of the box sets how the increments shrink
  (curvature, LTD's first-pulse drop). ``ratio_t`` is a layout quantity (mask areas) and is
  nearly collinear with Ea (both set the field across the HZO: the divider vs the
  threshold); ``alpha`` is collinear with Ea at one pulse width; ``ps_uC_cm2`` mostly moves
  G(0) through the initial state, which ``p0`` already sets. They can be added with ``vary``.
* ``switching`` - ``ea_MV_cm``, ``ea_sigma_MV_cm`` and ``tau0_s`` of an I-type gate
  (``ratio_i``; header ``ratio``): each distinct (width, amplitude) is one erase-state pulse
  run; the switched fraction is the change of P/Ps over the saturated swing of 2. Amplitude
  scans the Ea distribution (mean, width); width at fixed amplitude gives the attempt time
  through Merz's law t = tau0*exp((Ea/E)^alpha). ``alpha`` is near-degenerate with Ea and
  tau0 over one or two decades of width (ln ln(t/tau0) = alpha*ln(Ea/E)), so it is fixed by
  default; vary it only with widths spanning many decades.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import lmfit
import numpy as np

from ..engine import Engine
from ..errors import ValidationError
from ..netlist.core import Netlist, Pwl, Tran
from ..netlist.fefet_benches import GEAR, fefet_pulse_train
from ..netlist.stimuli import sample
from ..params import DuplexParams, FerroParams, ParamSet, save_params, spice_params
from .common import check_enough_points, r_squared, report_text
from .csvio import PulseData, PvData, SwitchingData

EPS0_F_M = 8.8541878128e-12
PV_RATE_V_S = 1e6          # ramp rate assumed when a P-V file has no t_s column (1 V/us)
PULSE_P0 = 0.2             # default initial P/Ps of the T gate (spicefet.experiments.multilevel)
FD_REL_STEP = 1e-3
SECTIONS = {f.name: "ferro" for f in fields(FerroParams)} | \
    {f.name: "duplex" for f in fields(DuplexParams)}
LOG_NAMES = {"tau0_s"}     # fitted in log10
PV_VARY = ("ps_uC_cm2", "ea_MV_cm", "ea_sigma_MV_cm", "eps_fe")
PULSE_VARY = ("ea_MV_cm", "ea_sigma_MV_cm")
SWITCHING_VARY = ("ea_MV_cm", "ea_sigma_MV_cm", "tau0_s")


def lm_name(name: str) -> str:
    return f"log10_{name}" if name in LOG_NAMES else name


def lmfit_parameters(pset: ParamSet, vary: tuple[str, ...]) -> lmfit.Parameters:
    """lmfit Parameters for the `vary` fields (ferro or duplex), bounded by their p()
    metadata (log10 of the bounds for `LOG_NAMES`)."""
    unknown = [n for n in vary if n not in SECTIONS or n == "n_dom"]
    if unknown:
        raise ValidationError(f"cannot fit {', '.join(unknown)}; fittable: ferro and duplex "
                              f"fields except n_dom")
    params = lmfit.Parameters()
    for name in vary:
        section = SECTIONS[name]
        meta = {f.name: f.metadata for f in fields(type(pset.section(section)))}[name]
        value = float(getattr(pset.section(section), name))
        lo, hi = meta["lo"], meta["hi"]
        if name in LOG_NAMES:
            value, lo, hi = math.log10(value), math.log10(lo), math.log10(hi)
        if name == "ea_sigma_MV_cm":   # the model clamps Ea_k >= 0.05*Ea: keep the box positive
            hi = min(hi, 0.5 * float(pset.ferro.ea_MV_cm) / math.sqrt(3) * 1.9)
        params.add(lm_name(name), value=value, min=lo, max=hi)
    return params


def to_pset(base: ParamSet, values: dict[str, float], vary: tuple[str, ...]) -> ParamSet:
    out = base
    for name in vary:
        v = values[lm_name(name)]
        out = out.replace_values(SECTIONS[name], {name: 10.0 ** v if name in LOG_NAMES else v})
    return out


class SpiceObjective:
    """Weighted residuals ``(model - data)/sigma`` and their forward-difference Jacobian; the
    model of one parameter set is `build(pset) -> (netlists, extract)` where `extract(results)`
    gives the model at every data row."""

    def __init__(self, base: ParamSet, vary: tuple[str, ...], engine: Engine,
                 build: Callable[[ParamSet], tuple[list[Netlist], Callable]],
                 y: np.ndarray, sigma: np.ndarray):
        self.base, self.vary, self.engine, self.build = base, vary, engine, build
        self.y, self.sigma = y, sigma
        self.start = {lm_name(n): p.value for n, p in
                      zip(vary, lmfit_parameters(base, vary).values())}
        self._last: tuple[tuple, np.ndarray] | None = None
        self.runs = 0

    def models(self, value_sets: list[dict[str, float]]) -> list[np.ndarray]:
        builds = [self.build(to_pset(self.base, v, self.vary)) for v in value_sets]
        nets = [n for b in builds for n in b[0]]
        results = self.engine.run_many(nets)
        self.runs += len(nets)
        out, k = [], 0
        for b_nets, extract in builds:
            out.append(np.asarray(extract(results[k:k + len(b_nets)]), dtype=float))
            k += len(b_nets)
        return out

    def residual(self, params: lmfit.Parameters) -> np.ndarray:
        values = params.valuesdict()
        key = tuple(values.values())
        if self._last is None or self._last[0] != key:
            self._last = (key, (self.models([values])[0] - self.y) / self.sigma)
        return self._last[1]

    def jacobian(self, params: lmfit.Parameters) -> np.ndarray:
        base = self.residual(params)
        values = params.valuesdict()
        names = [n for n, p in params.items() if p.vary]
        steps, sets = [], []
        for name in names:
            p = params[name]
            h = FD_REL_STEP * max(abs(p.value), abs(self.start[name])) or FD_REL_STEP
            if name.startswith("log10_"):
                h = 0.01        # 2.3 % in the quantity itself
            if p.value + h > p.max:
                h = -h
            steps.append(h)
            sets.append({**values, name: p.value + h})
        cols = [((m - self.y) / self.sigma - base) / h for m, h in zip(self.models(sets), steps)]
        return np.column_stack(cols)


@dataclass
class FerroFit:
    """A finished pv / pulse / switching fit (the `FitProduct` of those kinds)."""
    kind: str
    data: object
    result: lmfit.minimizer.MinimizerResult
    params: ParamSet
    vary: tuple[str, ...]
    r2: float
    runs: int
    lines: list[str]
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    y_fit: np.ndarray = field(repr=False)
    sigma: np.ndarray = field(repr=False)
    xlabel: str = ""
    ylabel: str = ""
    groups: np.ndarray | None = field(default=None, repr=False)   # curve label per row
    curve: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)  # dense model
    xlog: bool = False

    TITLES = {"pv": "HZO capacitor P-V (models/ferroelectric.lib fecap, ngspice in the loop)",
              "pulse": "T-type pulse response (models/fefet.lib mfmis_fefet pulse train, "
                       "ngspice in the loop)",
              "switching": "I-type switched fraction (models/fefet.lib mfmis_fefet, one pulse "
                           "per width/amplitude, ngspice in the loop)"}

    def values(self) -> dict[str, tuple[float, float | None]]:
        """{field: (value, stderr)} in the field's own unit (tau0_s from its log10 fit)."""
        out = {}
        for name in self.vary:
            p = self.result.params[lm_name(name)]
            if name in LOG_NAMES:
                v = 10.0 ** p.value
                out[name] = (v, None if p.stderr is None else v * math.log(10) * p.stderr)
            else:
                out[name] = (p.value, p.stderr)
        return out

    def report(self) -> str:
        fixed = ", ".join(f"{f.name} = {getattr(self.params.ferro, f.name):g}"
                          for f in fields(FerroParams) if f.name not in self.vary)
        return report_text(f"spicefet fit {self.kind}: {self.TITLES[self.kind]}", self.data,
                           self.lines + [f"{self.runs} ngspice runs",
                                         f"R^2 of {self.ylabel} (unweighted): {self.r2:.6f}",
                                         f"fixed (ferro): {fixed}"],
                           self.result, self.r2)

    def figure(self):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (ax, axr) = plt.subplots(2, 1, figsize=(7, 6), sharex=self.kind != "pv",
                                      gridspec_kw={"height_ratios": [3, 1]})
        groups = self.groups if self.groups is not None else np.full(self.y.size, "")
        for k, g in enumerate(dict.fromkeys(groups.tolist())):
            rows = groups == g
            order = np.argsort(self.x[rows]) if self.kind == "switching" else slice(None)
            x, y, yf = self.x[rows][order], self.y[rows][order], self.y_fit[rows][order]
            ax.plot(x, y, "o", ms=3, color=f"C{k}", alpha=0.6, label=f"data {g}".strip())
            ax.plot(x, yf, "-", lw=1.2, color=f"C{k}", label=f"model {g}".strip())
            axr.plot(x, ((self.y_fit - self.y) / self.sigma)[rows][order], ".", ms=3,
                     color=f"C{k}")
        if self.xlog:
            ax.set_xscale("log")
            axr.set_xscale("log")
        axr.axhline(0, color="0.5", lw=0.8)
        ax.set_ylabel(self.ylabel)
        ax.set_title(f"{self.kind} fit: R^2 = {self.r2:.5f}, reduced chi-square = "
                     f"{self.result.redchi:.3g}")
        ax.legend(fontsize=7)
        axr.set_xlabel(self.xlabel)
        axr.set_ylabel("residual (sigma)")
        return fig

    def summary(self) -> dict:
        return {"fits": {self.kind: {"r2": self.r2, "redchi": float(self.result.redchi)}}}

    def save(self, path: Path, provenance: str) -> None:
        save_params(self.params, path, provenance)


def _minimize(data, start, vary, engine, build, y, sigma, max_nfev: int, tol: float = 1e-6):
    """Bounded lmfit parameters of `vary`, the ngspice objective, and the least-squares fit
    (trust-region, finite-difference Jacobian in parallel); returns (objective, result)."""
    params = lmfit_parameters(start, vary)
    check_enough_points(data, params)
    objective = SpiceObjective(start, vary, engine, build, y, sigma)
    minimizer = lmfit.Minimizer(objective.residual, params, nan_policy="raise")
    return objective, minimizer.minimize(method="least_squares", jac=objective.jacobian,
                                         x_scale="jac", ftol=tol, xtol=tol, gtol=tol,
                                         max_nfev=max_nfev)


def _finish(kind, data, objective, result, vary, lines, x, xlabel, ylabel, **kw) -> FerroFit:
    best = result.params.valuesdict()
    fitted = to_pset(objective.base, best, vary)
    y_fit = objective.models([best])[0]
    return FerroFit(kind, data, result, fitted, vary, r_squared(objective.y, y_fit),
                    objective.runs, lines, x, objective.y, y_fit, objective.sigma, xlabel,
                    ylabel, **kw)


def _header(data, key: str, default: float) -> float:
    value = data.header.get(key, default)
    if isinstance(value, str):
        raise ValidationError(f"{data.path}: header {key} = {value!r} is not a number")
    return float(value)


# --------------------------------------------------------------------------------------- P-V
def pv_waveform(data: PvData) -> tuple[np.ndarray, np.ndarray]:
    """(t_s, v_V) of the drive: the data's own samples as a PWL (times from t_s, or at a
    constant `PV_RATE_V_S` between rows)."""
    v = data.v_V
    if data.t_s is not None:
        t = data.t_s - data.t_s[0]
    else:
        t = np.concatenate([[0.0], np.cumsum(np.maximum(np.abs(np.diff(v)) / PV_RATE_V_S,
                                                        1e-12))])
    return t, v


def pv_netlist(pset: ParamSet, t: np.ndarray, v: np.ndarray, area_um2: float,
               p0: float) -> Netlist:
    stop = float(t[-1])
    # max step 1/3000 of the drive (27 ns at 80 us, 0.03 V at 1 V/us): 4x faster than the P-V
    # experiment's 5 ns with the same loop to ~0.1 uC/cm^2
    n = Netlist("fit_pv", Tran(stop / 4000, stop, stop / 3000),
                libraries=("ferroelectric.lib",), options=dict(GEAR),
                title="P-V fit: HZO capacitor driven by the data waveform")
    pts = [(0.0, 0.0)] if v[0] != 0 else []   # start from 0 V at t = 0 (state p0 at rest)
    shift = 1e-9 if pts else 0.0
    times = [0.0] * bool(pts) + (t + shift).tolist()
    n.add("va", ("a", "0"), Pwl(tuple(times), tuple([0.0] * bool(pts) + v.tolist())))
    n.add("xfe", ("a", "0"), "fecap", **spice_params(pset.ferro), a_fe_um2=area_um2, p0=p0)
    return n


def fit_pv(data: PvData, start: ParamSet, engine: Engine, *, vary: tuple[str, ...] = PV_VARY,
           sigma_uC_cm2: float | None = None, max_nfev: int = 40) -> FerroFit:
    t, v = pv_waveform(data)
    if t[-1] <= 0:
        raise ValidationError(f"{data.path}: the P-V waveform has no duration")
    p0 = _header(data, "p0", -1.0)
    if data.q_C is not None:
        if "area_um2" not in data.header:
            raise ValidationError(f"{data.path}: a q_C column needs a '# area_um2: ...' header "
                                  f"line (capacitor area)")
        area = float(data.header["area_um2"])
        y = data.q_C / (area * 1e-8) * 1e6     # uC/cm^2
    else:
        area = _header(data, "area_um2", 100.0)
        y = data.p_uC_cm2
    span = float(np.ptp(y)) or 1.0
    sigma = np.full(y.size, sigma_uC_cm2 if sigma_uC_cm2 else 0.01 * span)
    shift = 1e-9 if v[0] != 0 else 0.0

    def build(pset: ParamSet):
        def extract(results):
            r = results[0]
            pm = sample(r["time"], r["v(xfe.pm)"], t + shift)
            f = pset.ferro
            return f.ps_uC_cm2 * pm + EPS0_F_M * f.eps_fe * v / (f.t_fe_nm * 1e-9) * 100.0
        return [pv_netlist(pset, t, v, area, p0)], extract

    obj, result = _minimize(data, start, vary, engine, build, y, sigma, max_nfev)
    lines = [f"drive: the data's waveform ({'t_s column' if data.t_s is not None else f'{PV_RATE_V_S:g} V/s between rows'}), "
             f"{t[-1]:.3g} s; area {area:g} um^2; start P/Ps = {p0:g}",
             "model: P = Ps*pm + eps0*eps_fe*V/t_fe [uC/cm^2]; sigma = "
             f"{sigma[0]:.3g} uC/cm^2"]
    return _finish("pv", data, obj, result, vary, lines, v, "V (V)", "P (uC/cm2)")


# ------------------------------------------------------------------------------------- pulse
@dataclass(frozen=True)
class PulsePlan:
    amplitudes_V: np.ndarray      # of pulses 1..max(pulse)
    width_s: float
    edge_s: float
    period_s: float
    ratio: float
    p0: float
    rows_pulse: np.ndarray        # pulse number of each row


def pulse_plan(data: PulseData, pset: ParamSet) -> PulsePlan:
    widths = np.unique(data.width_s)
    if widths.size != 1:
        raise data.fail(int(np.flatnonzero(data.width_s != data.width_s[0])[0]), "width_s",
                        "a pulse fit needs one pulse width for the whole train")
    n = int(data.pulse.max())
    if n < 1:
        raise ValidationError(f"{data.path}: no pulses (every row has pulse 0)")
    # amplitude of pulse j: that of the first row with pulse >= j (rows may skip pulses)
    idx = np.searchsorted(data.pulse, np.arange(1, n + 1))
    op = pset.operation
    return PulsePlan(data.amplitude_V[idx], float(widths[0]), _header(data, "edge_s", op.t_edge_s),
                     _header(data, "period_s", op.t_period_s),
                     _header(data, "ratio", pset.duplex.ratio_t), _header(data, "p0", PULSE_P0),
                     data.pulse.astype(int))


def pulse_netlist(pset: ParamSet, plan: PulsePlan):
    return fefet_pulse_train(pset, plan.amplitudes_V, plan.ratio, plan.p0, plan.width_s,
                             min(plan.edge_s, plan.width_s / 2), plan.period_s,
                             max_step_s=2 * plan.edge_s, name="fit_pulse")


def pulse_conductance(pset: ParamSet, plan: PulsePlan, result, train) -> np.ndarray:
    """Read conductance (or current x 1/Vd) before the first pulse and after each pulse."""
    g = sample(result["time"], -result["i(vd)"], [train.read_before_s, *train.reads_s])
    return g / pset.operation.read_vd_V


def fit_pulse(data: PulseData, start: ParamSet, engine: Engine, *,
              vary: tuple[str, ...] = PULSE_VARY, rel_noise: float = 0.005,
              max_nfev: int = 20) -> FerroFit:
    plan = pulse_plan(data, start)
    use_current = data.i_A is not None
    y = np.abs(data.i_A) if use_current else data.g_S
    sigma = rel_noise * np.abs(y)
    if np.any(sigma == 0):
        raise data.fail(int(np.flatnonzero(sigma == 0)[0]), "i_A", "zero current")

    def build(pset: ParamSet):
        net, train = pulse_netlist(pset, plan)

        def extract(results):
            g = pulse_conductance(pset, plan, results[0], train)[plan.rows_pulse]
            return g * pset.operation.read_vd_V if use_current else g
        return [net], extract

    obj, result = _minimize(data, start, vary, engine, build, y, sigma, max_nfev)
    lines = [f"train: {plan.amplitudes_V.size} pulses of {plan.width_s:g} s (edges "
             f"{plan.edge_s:g} s, period {plan.period_s:g} s), amplitudes "
             f"{', '.join(f'{a:+g}' for a in dict.fromkeys(plan.amplitudes_V.tolist()))} V; "
             f"A_FE/A_DE = {plan.ratio:g}; start P/Ps = {plan.p0:g}",
             f"residuals: relative, sigma = {rel_noise:g} x |data|"]
    groups = np.where(data.amplitude_V >= 0, "potentiation", "depression")
    return _finish("pulse", data, obj, result, vary, lines, data.pulse.astype(float),
                   "pulse number", "read current (A)" if use_current else "G (S)",
                   groups=groups)


# --------------------------------------------------------------------------------- switching
def switching_netlist(pset: ParamSet, amplitude_V: float, width_s: float, ratio: float):
    """Erased I-type gate (P/Ps = -1), one pulse, read before and after."""
    op = pset.operation
    edge = min(op.edge_s, width_s / 2)
    return fefet_pulse_train(pset, (amplitude_V,), ratio, -1.0, width_s, edge,
                             period_s=width_s + 40e-9, max_step_s=max(edge / 4, width_s / 50),
                             name="fit_switch")


PM = "v(xfet.xfe.pm)"


def fit_switching(data: SwitchingData, start: ParamSet, engine: Engine, *,
                  vary: tuple[str, ...] = SWITCHING_VARY, sigma_frac: float = 0.02,
                  max_nfev: int = 20) -> FerroFit:
    if data.switched_frac is None:
        raise ValidationError(f"{data.path}: a switching fit needs a switched_frac column (a "
                              f"dvt_V threshold shift needs a transfer read-out, not supported)")
    ratio = _header(data, "ratio", start.duplex.ratio_i)
    pairs = list(dict.fromkeys(zip(data.amplitude_V.tolist(), data.width_s.tolist())))
    index = {pair: k for k, pair in enumerate(pairs)}
    rows = np.array([index[p] for p in zip(data.amplitude_V.tolist(), data.width_s.tolist())])
    y = data.switched_frac
    sigma = np.full(y.size, sigma_frac)

    def build(pset: ParamSet):
        runs = [switching_netlist(pset, a, w, ratio) for a, w in pairs]

        def extract(results):
            frac = np.array([np.diff(sample(r["time"], r[PM], [tr.read_before_s,
                                                               tr.reads_s[0]]))[0] / 2
                             for r, (_, tr) in zip(results, runs)])
            return frac[rows]
        return [n for n, _ in runs], extract

    obj, result = _minimize(data, start, vary, engine, build, y, sigma, max_nfev)
    lines = [f"{len(pairs)} distinct (amplitude, width) pulses on the erased gate, "
             f"A_FE/A_DE = {ratio:g}; switched fraction = dP/Ps / 2; sigma = {sigma_frac:g}",
             "Merz law: t_switch = tau0*exp((Ea/E)^alpha); tau0 fitted as log10"]
    groups = np.array([f"{a:g} V" for a in data.amplitude_V])
    return _finish("switching", data, obj, result, vary, lines, data.width_s, "pulse width (s)",
                   "switched fraction", groups=groups, xlog=True)
