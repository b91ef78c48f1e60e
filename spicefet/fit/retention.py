"""Retention: programmed states drift towards the depolarised level, linearly in log-time,
with an Arrhenius-activated rate; 10-year extrapolation by a linear fit in log-time.

Model (analytic, no ngspice). ``y = log10`` of the read signal (conductance ``g_S`` or
current ``i_A``). A *series* is one state at one bake temperature T; it starts at its own
level ``y0`` and relaxes towards one equilibrium level ``y_eq`` shared by all series::

    y(t, T) = y_eq + (y0 - y_eq) * (1 - nu(T) * log10(1 + t / TAU0_S))
    nu(T)   = nu_ref * exp(-(Ea / k_B) * (1/T - 1/T_ref)),   T_ref = REF_TEMP_C = 85 C

Why this form: a FeFET is read in or near subthreshold, where log10 of the current is linear
in the threshold voltage, which is linear in the remanent polarisation. The polarisation of
HfO2-based ferroelectrics (depolarisation field, back-switching and charge injection through
a broad distribution of barriers) decays linearly in log-time, and the rate is thermally
activated. Every state decays towards the same depolarised level (on-states down, off-states
up), so the window closes by the fraction ``nu`` per decade of time. ``TAU0_S`` = 1 s sets
where the log-time law starts (fixed: the data cannot resolve it at 85-125 C).

Fitted with lmfit: ``nu_ref_per_dec`` (fraction of the distance to y_eq lost per decade at
T_ref), ``ea_eV`` (fixed at its start value when the data hold one temperature), ``y_eq_log10``,
and one start level per series (``lvl_0``, ``lvl_1`` ... in the order the series first
appear). Residuals are ``(y_model - y_data) / sigma_dec``.

The 10-year figure follows the paper: each series at a temperature is fitted by a straight
line in log10(t) (points with t > 0) and extrapolated to 10 years; the on/off ratio is the
ratio of the highest to the lowest extrapolated level. The model's own 10-year value is
reported beside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import lmfit
import numpy as np

from ..errors import ValidationError
from .common import check_enough_points, load_start_values, r_squared, report_text, save_model_json
from .csvio import RetentionData

K_B_EV_K = 8.617333262e-5          # Boltzmann constant [eV/K]
TAU0_S = 1.0                        # onset time of the log-time law [s]
REF_TEMP_C = 85.0                   # temperature at which nu_ref is quoted [C]
TEN_YEARS_S = 10 * 365.25 * 86400.0
MODEL_NAMES = ("nu_ref_per_dec", "ea_eV", "y_eq_log10")


def drift_rate(temp_C, nu_ref_per_dec: float, ea_eV: float) -> np.ndarray:
    """nu(T): fraction of the distance to equilibrium lost per decade of time."""
    inv = 1.0 / (np.asarray(temp_C) + 273.15) - 1.0 / (REF_TEMP_C + 273.15)
    return nu_ref_per_dec * np.exp(-ea_eV / K_B_EV_K * inv)


def level_log10(time_s, temp_C, y0_log10, nu_ref_per_dec: float, ea_eV: float,
                y_eq_log10: float) -> np.ndarray:
    """log10 of the read signal at `time_s` after programming to `y0_log10` (see module)."""
    decay = drift_rate(temp_C, nu_ref_per_dec, ea_eV) * np.log10(1.0 + np.asarray(time_s) / TAU0_S)
    return y_eq_log10 + (np.asarray(y0_log10) - y_eq_log10) * (1.0 - decay)


@dataclass
class Series:
    """One programmed state at one temperature."""
    state: str
    temp_C: float
    rows: np.ndarray
    param: str                      # lmfit name of its start level


def line_fit_log_time(time_s: np.ndarray, y: np.ndarray, at_s: float) -> float:
    """The paper's extrapolation: y = a + b*log10(t) by least squares over t > 0, at `at_s`."""
    keep = time_s > 0
    if np.count_nonzero(keep) < 2 or np.ptp(time_s[keep]) == 0:
        return math.nan
    b, a = np.polyfit(np.log10(time_s[keep]), y[keep], 1)
    return float(a + b * math.log10(at_s))


@dataclass
class RetentionFit:
    data: RetentionData
    result: lmfit.minimizer.MinimizerResult
    series: list[Series]
    sigma_dec: float
    extrapolate_temp_C: float
    r2: float
    y: np.ndarray = field(repr=False)
    y_fit: np.ndarray = field(repr=False)

    @property
    def values(self) -> dict[str, float]:
        return self.result.params.valuesdict()

    def model(self, s: Series, time_s) -> np.ndarray:
        v = self.values
        return level_log10(time_s, s.temp_C, v[s.param], v["nu_ref_per_dec"], v["ea_eV"],
                           v["y_eq_log10"])

    def _at(self, temp_C: float) -> list[Series]:
        return [s for s in self.series if s.temp_C == temp_C]

    def on_off_10y(self, temp_C: float) -> tuple[float, float]:
        """(linear log-time extrapolation, model) of the 10-year on/off ratio at `temp_C`;
        NaN when fewer than two states were measured there."""
        at = self._at(temp_C)
        if len(at) < 2:
            return math.nan, math.nan
        t, y = self.data.time_s, self.y
        lines = [line_fit_log_time(t[s.rows], y[s.rows], TEN_YEARS_S) for s in at]
        model = [float(self.model(s, TEN_YEARS_S)) for s in at]
        return 10 ** (max(lines) - min(lines)), 10 ** (max(model) - min(model))

    def min_gap_dec(self, temp_C: float, time_s: float) -> float:
        """Smallest separation [decades] of neighbouring states at `temp_C` after `time_s`."""
        levels = np.sort([float(self.model(s, time_s)) for s in self._at(temp_C)])
        return float(np.min(np.diff(levels))) if levels.size > 1 else math.nan

    def report(self) -> str:
        v = self.values
        name, _ = self.data.signal
        temps = sorted({s.temp_C for s in self.series})
        lines = [f"signal: log10 {name}; {len(self.series)} series (state x temperature) at "
                 f"{', '.join(f'{t:g}' for t in temps)} C; sigma = {self.sigma_dec:g} decades",
                 f"model: y = y_eq + (y0 - y_eq)*(1 - nu(T)*log10(1 + t/{TAU0_S:g} s)), "
                 f"nu(T) = nu_ref*exp(-Ea/k*(1/T - 1/{REF_TEMP_C:g} C))",
                 "drift per decade: " + ", ".join(
                     f"{t:g} C: {float(drift_rate(t, v['nu_ref_per_dec'], v['ea_eV'])):.4g}"
                     for t in temps),
                 f"R^2 of log10 {name} (unweighted): {self.r2:.6f}"]
        lin, mod = self.on_off_10y(self.extrapolate_temp_C)
        if not math.isnan(lin):
            lines.append(f"10-year on/off at {self.extrapolate_temp_C:g} C: {lin:.3g} (linear fit "
                         f"in log-time, as the paper), {mod:.3g} (model)")
        for t in temps:
            lines.append(f"smallest gap between neighbouring states at {t:g} C after 1e3 s: "
                         f"{self.min_gap_dec(t, 1e3):.3g} decades")
        lines.append("series: " + ", ".join(f"{s.param} = {s.state} @ {s.temp_C:g} C"
                                            for s in self.series))
        return report_text("spicefet fit retention: log-time drift, Arrhenius rate (analytic)",
                           self.data, lines, self.result, self.r2, min_correl=0.5)

    def figure(self):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        temps = sorted({s.temp_C for s in self.series})
        fig, (ax, axr) = plt.subplots(2, 1, figsize=(7, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
        t_all = self.data.time_s
        t_min = float(np.min(t_all[t_all > 0])) if np.any(t_all > 0) else 1.0
        grid = np.logspace(math.log10(t_min), math.log10(TEN_YEARS_S), 200)
        for s in self.series:
            color = f"C{temps.index(s.temp_C)}"
            t, y = t_all[s.rows], self.y[s.rows]
            keep = t > 0
            ax.semilogx(t[keep], y[keep], "o", ms=2, color=color, alpha=0.5)
            ax.semilogx(grid, self.model(s, grid), "-", lw=0.8, color=color)
            axr.semilogx(t[keep], (self.y_fit[s.rows] - y)[keep] / self.sigma_dec, ".", ms=2,
                         color=color)
        for t in temps:
            ax.plot([], [], "o-", color=f"C{temps.index(t)}", label=f"{t:g} C: data, model")
        ax.axvline(TEN_YEARS_S, color="0.5", ls=":", label="10 years")
        lin, _ = self.on_off_10y(self.extrapolate_temp_C)
        name, _ = self.data.signal
        ax.set_ylabel(f"log10 {name}")
        ax.set_title(f"retention fit, R^2 = {self.r2:.5f}"
                     + (f"; 10-y on/off at {self.extrapolate_temp_C:g} C = {lin:.2g}"
                        if not math.isnan(lin) else ""))
        ax.legend(fontsize=8)
        axr.axhline(0, color="0.5", lw=0.8)
        axr.set_xlabel("time since programming (s)")
        axr.set_ylabel("residual (sigma)")
        return fig

    def summary(self) -> dict:
        lin, mod = self.on_off_10y(self.extrapolate_temp_C)
        out = {"fits": {"retention": {"r2": self.r2, "redchi": float(self.result.redchi)}}}
        if not math.isnan(lin):
            key = f"on_off_10y_{self.extrapolate_temp_C:g}C"
            out["retention"] = {key: lin, f"{key}_model": mod}
        if REF_TEMP_C in {s.temp_C for s in self.series}:
            gap = self.min_gap_dec(REF_TEMP_C, 1e3)
            out.setdefault("retention", {})["min_gap_dec_1e3s_85C"] = gap
        return out

    def save(self, path: Path, provenance: str) -> None:
        levels = {s.param: {"state": s.state, "temp_C": s.temp_C,
                            "y0_log10": self.values[s.param]} for s in self.series}
        save_model_json(path, "retention", self.result.params, MODEL_NAMES, provenance,
                        {"_series": levels, "_summary": self.summary()})


def _series(data: RetentionData) -> list[Series]:
    out = [Series(state, temp, rows, f"lvl_{k}")
           for k, ((state, temp), rows) in enumerate(data.series().items())]
    if len(out) < 2:
        raise ValidationError(f"{data.path}: a retention fit needs at least two series "
                              f"(states or temperatures); found one")
    return out


def fit_retention(data: RetentionData, start: str | Path | None = None, *,
                  sigma_dec: float = 0.02, extrapolate_temp_C: float = 125.0) -> RetentionFit:
    """Fit the log-time/Arrhenius model to `data`; `start`: a file from a previous fit."""
    series = _series(data)
    name, signal = data.signal
    y = np.log10(signal)
    temps = {s.temp_C for s in series}
    params = lmfit.Parameters()
    params.add("nu_ref_per_dec", value=0.01, min=0.0, max=1.0)
    params.add("ea_eV", value=0.6, min=0.0, max=3.0, vary=len(temps) > 1)
    params.add("y_eq_log10", value=float(np.mean(y)), min=float(y.min()) - 10,
               max=float(y.max()) + 10)
    for s in series:
        params.add(s.param, value=float(y[s.rows[0]]))
    if start is not None:
        load_start_values(start, "retention", params, MODEL_NAMES)
    check_enough_points(data, params)
    y0_index = np.empty(len(data), dtype=int)
    for k, s in enumerate(series):
        y0_index[s.rows] = k
    log_time = np.log10(1.0 + data.time_s / TAU0_S)
    inv_temp = 1.0 / (data.temp_C + 273.15) - 1.0 / (REF_TEMP_C + 273.15)

    def levels(v: dict[str, float]) -> np.ndarray:
        return np.array([v[s.param] for s in series])[y0_index]

    def residual(p: lmfit.Parameters) -> np.ndarray:
        v = p.valuesdict()
        model = level_log10(data.time_s, data.temp_C, levels(v), v["nu_ref_per_dec"],
                            v["ea_eV"], v["y_eq_log10"])
        return (model - y) / sigma_dec

    def jacobian(p: lmfit.Parameters) -> np.ndarray:
        """Analytic derivatives of the residuals, columns in the order of the varied params."""
        v = p.valuesdict()
        accel = drift_rate(data.temp_C, 1.0, v["ea_eV"])      # nu(T) / nu_ref
        nu = v["nu_ref_per_dec"] * accel
        distance = levels(v) - v["y_eq_log10"]
        columns = {"nu_ref_per_dec": -distance * log_time * accel,
                   "ea_eV": distance * log_time * nu * inv_temp / K_B_EV_K,
                   "y_eq_log10": nu * log_time}
        for k, s in enumerate(series):
            columns[s.param] = np.where(y0_index == k, 1.0 - nu * log_time, 0.0)
        return np.column_stack([columns[n] for n, par in p.items() if par.vary]) / sigma_dec

    # lsmr: the Jacobian is almost block-diagonal (one level per series), so an iterative
    # trust-region solve beats a dense SVD per step (which is also slow when BLAS threads
    # compete with ngspice workers for the cores)
    result = lmfit.minimize(residual, params, method="least_squares", jac=jacobian,
                            tr_solver="lsmr")
    y_fit = y + residual(result.params) * sigma_dec
    return RetentionFit(data, result, series, sigma_dec, extrapolate_temp_C,
                        r_squared(y, y_fit), y, y_fit)
