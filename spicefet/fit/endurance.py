"""Endurance: memory window vs program/erase cycles with wake-up, fatigue and breakdown.

Model (analytic, smooth, empirical). ``W`` is the window in the data's unit: volts for a
``window_V`` column, decades (log10 of the ratio) for an ``on_off`` column::

    W(N) = w0 * (1 + wakeup * N/(N + N_wu))          wake-up: rises by the fraction `wakeup`
              * (1 + N/N_fat) ** (-fatigue_exp)        fatigue: power-law decline after N_fat
              / (1 + (N/N_bd) ** breakdown_exp)        breakdown: collapse around N_bd

with ``N_wu = 10**log10_n_wakeup`` etc. (the cycle scales are fitted in log10, since data
span 13 decades). W(0) = w0, the pristine window. The breakdown factor is fitted only when
the data show a collapse (last point below `BREAKDOWN_FRACTION` of the peak); otherwise it is
left out (N_bd = infinity) and the report says so.

Failure: the first cycle count after the peak where the fitted W falls below
``failure_fraction`` (default 0.5) of its peak value, found by bisection in log10(N); beyond
the last measured cycle count it is an extrapolation (flagged in the report). Residuals are
``(W_model - W_data) / sigma`` with sigma = `sigma_frac` x the data's peak.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import lmfit
import numpy as np
from scipy.optimize import brentq

from .common import check_enough_points, load_start_values, r_squared, report_text, save_model_json
from .csvio import EnduranceData

BREAKDOWN_FRACTION = 0.3
MAX_LOG10_CYCLES = 30.0         # failure is searched up to 1e30 cycles
WINDOW_NAMES = ("w0", "wakeup", "log10_n_wakeup", "log10_n_fatigue", "fatigue_exp")
BREAKDOWN_NAMES = ("log10_n_breakdown", "breakdown_exp")


def window(cycles, w0: float, wakeup: float, log10_n_wakeup: float, log10_n_fatigue: float,
           fatigue_exp: float, log10_n_breakdown: float = math.inf,
           breakdown_exp: float = 4.0) -> np.ndarray:
    """W(N) of the module docstring, vectorised over `cycles`."""
    n = np.asarray(cycles, dtype=float)
    rise = 1.0 + wakeup * n / (n + 10.0 ** log10_n_wakeup)
    fatigue = (1.0 + n / 10.0 ** log10_n_fatigue) ** (-fatigue_exp)
    collapse = 1.0 / (1.0 + (n / 10.0 ** log10_n_breakdown) ** breakdown_exp)
    return w0 * rise * fatigue * collapse


def failure_summary(n_fail: float) -> dict:
    """summary.json keys of the failure count: always finite JSON. When the fitted window never
    falls below the threshold up to 1e`MAX_LOG10_CYCLES` cycles, that search limit is reported
    as a lower bound (``cycles_to_failure_lower_bound: true``)."""
    never = not math.isfinite(n_fail)
    return {"cycles_to_failure": 10.0 ** MAX_LOG10_CYCLES if never else float(n_fail),
            "cycles_to_failure_lower_bound": never}


def cycles_to_failure(values: dict[str, float], failure_fraction: float) -> float:
    """First N after the peak where W(N) < failure_fraction * peak; inf if never (to 1e30)."""
    lg = np.linspace(0.0, MAX_LOG10_CYCLES, 3001)
    w = window(10.0 ** lg, **values)
    k = int(np.argmax(w))
    threshold = failure_fraction * w[k]
    below = np.flatnonzero(w[k:] < threshold)
    if below.size == 0:
        return math.inf
    j = k + int(below[0])

    def excess(lg_n: float) -> float:
        return float(window(10.0 ** lg_n, **values)) - threshold
    return 10.0 ** brentq(excess, lg[j - 1], lg[j], xtol=1e-9)


@dataclass
class EnduranceFit:
    data: EnduranceData
    result: lmfit.minimizer.MinimizerResult
    breakdown: bool
    unit: str
    failure_fraction: float
    sigma: float
    r2: float
    y: np.ndarray = field(repr=False)

    @property
    def values(self) -> dict[str, float]:
        return self.result.params.valuesdict()

    @property
    def cycles_to_failure(self) -> float:
        return cycles_to_failure(self.values, self.failure_fraction)

    def report(self) -> str:
        n_fail = self.cycles_to_failure
        n_max = float(self.data.cycles.max())
        how = "extrapolated beyond the data" if n_fail > n_max else "within the data"
        return report_text(
            "spicefet fit endurance: wake-up, fatigue, breakdown (analytic)", self.data,
            [f"window W in {self.unit}; sigma = {self.sigma:.3g} {self.unit}",
             "model: W = w0*(1 + wakeup*N/(N + N_wu))*(1 + N/N_fat)^-fatigue_exp"
             + ("/(1 + (N/N_bd)^breakdown_exp)" if self.breakdown else
                " (no breakdown in the data: breakdown term left out)"),
             f"cycles to failure (W < {self.failure_fraction:g} x peak): {n_fail:.3g} ({how}; "
             f"data to {n_max:.3g} cycles)",
             f"R^2 of W (unweighted): {self.r2:.6f}"],
            self.result, self.r2)

    def figure(self):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        n = self.data.cycles
        x = np.maximum(n, 1.0)
        n_fail = self.cycles_to_failure
        top = max(float(x.max()), n_fail if math.isfinite(n_fail) else 0.0) * 10
        grid = np.logspace(0, math.log10(top), 300)
        fig, (ax, axr) = plt.subplots(2, 1, figsize=(7, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
        fitted = window(n, **self.values)
        ax.semilogx(x, self.y, "o", ms=4, label="data (N = 0 drawn at 1)")
        ax.semilogx(grid, window(grid, **self.values), "-", label="model")
        if math.isfinite(n_fail):
            ax.axvline(n_fail, color="C3", ls=":", label=f"failure: {n_fail:.2g} cycles")
        ax.set_ylabel(f"window ({self.unit})")
        ax.set_title(f"endurance fit, R^2 = {self.r2:.4f}")
        ax.legend(fontsize=8)
        axr.semilogx(x, (fitted - self.y) / self.sigma, ".")
        axr.axhline(0, color="0.5", lw=0.8)
        axr.set_xlabel("cycles")
        axr.set_ylabel("residual (sigma)")
        return fig

    def summary(self) -> dict:
        return {"fits": {"endurance": {"r2": self.r2, "redchi": float(self.result.redchi)}},
                "endurance": failure_summary(self.cycles_to_failure)}

    def save(self, path: Path, provenance: str) -> None:
        names = WINDOW_NAMES + (BREAKDOWN_NAMES if self.breakdown else ())
        save_model_json(path, "endurance", self.result.params, names, provenance,
                        {"_unit": self.unit, "_summary": self.summary()})


def _start(n: np.ndarray, y: np.ndarray, breakdown: bool) -> lmfit.Parameters:
    """Starting values read off the data: pristine and peak window, where they occur."""
    k = int(np.argmax(y))
    peak = float(y[k])
    w0 = float(y[0]) if y[0] > 0 else peak
    lg = np.log10(np.maximum(n, 1.0))
    after = np.flatnonzero((np.arange(y.size) > k) & (y < 0.9 * peak))
    lg_fat = float(lg[after[0]]) if after.size else float(lg[-1])
    params = lmfit.Parameters()
    params.add("w0", value=w0, min=0.0, max=10 * peak)
    params.add("wakeup", value=max(peak / w0 - 1.0, 0.01), min=0.0, max=10.0)
    params.add("log10_n_wakeup", value=max(float(lg[k]) - 1.0, 0.0), min=-1.0,
               max=MAX_LOG10_CYCLES)
    params.add("log10_n_fatigue", value=lg_fat, min=-1.0, max=MAX_LOG10_CYCLES)
    params.add("fatigue_exp", value=0.1, min=0.0, max=5.0)
    if breakdown:
        drop = np.flatnonzero((np.arange(y.size) > k) & (y < 0.5 * peak))
        params.add("log10_n_breakdown", value=float(lg[drop[0]]), min=0.0, max=MAX_LOG10_CYCLES)
        params.add("breakdown_exp", value=4.0, min=0.5, max=50.0)
    return params


def fit_endurance(data: EnduranceData, start: str | Path | None = None, *,
                  failure_fraction: float = 0.5, sigma_frac: float = 0.02) -> EnduranceFit:
    """Fit W(N) to `data`; `start`: a file from a previous endurance fit."""
    name, signal = data.signal
    y = signal if name == "window_V" else np.log10(signal)
    unit = "V" if name == "window_V" else "decades (log10 on/off)"
    peak = float(np.max(y))
    if peak <= 0:
        raise data.fail(int(np.argmax(y)), name, "the window never rises above zero: nothing "
                                                 "to fit")
    breakdown = bool(y[-1] < BREAKDOWN_FRACTION * peak)
    params = _start(data.cycles, y, breakdown)
    if start is not None:
        load_start_values(start, "endurance", params, tuple(params))
    check_enough_points(data, params)
    sigma = sigma_frac * peak

    def residual(p: lmfit.Parameters) -> np.ndarray:
        return (window(data.cycles, **p.valuesdict()) - y) / sigma

    result = lmfit.minimize(residual, params, method="least_squares")
    fitted = window(data.cycles, **result.params.valuesdict())
    return EnduranceFit(data, result, breakdown, unit, failure_fraction, sigma,
                        r_squared(y, fitted), y)
