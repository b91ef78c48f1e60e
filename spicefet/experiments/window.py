"""Transfer hysteresis and memory window vs A_FE/A_DE (paper Fig. 2b and ED Fig. 1)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .. import measure
from ..engine import Engine
from ..netlist.fefet_benches import CHANNEL_CURRENT, fefet_transfer
from ..params import ParamSet
from ..report import Section, save_figure

RATIOS = (0.053, 0.1, 0.2, 0.43, 0.67, math.inf)
I_READ_A_PER_SQ = 1e-8  # constant-current threshold: 10 nA x W/L


def ratio_key(ratio: float) -> str:
    """summary.json key of a ratio: "0.053", ..., "inf" (pure dielectric)."""
    return "inf" if math.isinf(ratio) else f"{ratio:g}"


@dataclass
class Loop:
    """The last period of the triangular sweep, split into its up and down ramps."""
    ratio: float
    vg_up: np.ndarray
    i_up: np.ndarray
    vg_down: np.ndarray
    i_down: np.ndarray
    pm_swing: float  # P/Ps excursion over the loop
    window_V: float


@dataclass
class WindowResult:
    loops: list[Loop]
    i_read_A: float

    def window(self, ratio: float) -> float:
        return next(lp.window_V for lp in self.loops if lp.ratio == ratio)

    def monotonic(self) -> bool:
        w = [lp.window_V for lp in self.loops if not math.isinf(lp.ratio)]
        return all(b < a for a, b in zip(w, w[1:]))

    def summary(self) -> dict:
        return {"memory_window_V": {ratio_key(lp.ratio): lp.window_V for lp in self.loops}}

    def plot(self, path: Path) -> str:
        fig, (ax, axw) = plt.subplots(1, 2, figsize=(11, 4.2))
        for k, lp in enumerate(self.loops):
            label = f"A_FE/A_DE = {ratio_key(lp.ratio)}" if not math.isinf(lp.ratio) else "pure DE"
            ax.semilogy(lp.vg_up, np.abs(lp.i_up), color=f"C{k}", lw=1, label=label)
            ax.semilogy(lp.vg_down, np.abs(lp.i_down), color=f"C{k}", lw=1, ls="--")
        ax.axhline(self.i_read_A, color="0.6", ls=":", lw=0.8)
        ax.set_xlabel("Vg (V)")
        ax.set_ylabel("|Id| channel (A)")
        ax.set_title("transfer hysteresis (solid: up, dashed: down)")
        ax.legend(fontsize=7)
        finite = [lp for lp in self.loops if not math.isinf(lp.ratio)]
        axw.semilogx([lp.ratio for lp in finite], [lp.window_V for lp in finite], "o-")
        de = next((lp for lp in self.loops if math.isinf(lp.ratio)), None)
        if de is not None:
            axw.axhline(de.window_V, color="0.5", ls="--", label=f"pure DE: {de.window_V * 1e3:.2g} mV")
            axw.legend(fontsize=8)
        axw.set_xlabel("A_FE / A_DE")
        axw.set_ylabel("memory window (V)")
        axw.set_title("window vs area ratio")
        return save_figure(fig, path)


def _loop(ratio: float, result, quarter_s: float, cycles: int, i_read_A: float,
          floor_A: float) -> Loop:
    # channel transport current plus the off-state floor: what a slow DC measurement sees
    t, vg, i = result["time"], result["v(g)"], result[CHANNEL_CURRENT] + floor_A
    j = cycles - 1  # the last full loop: up ramp (4j-1)q..(4j+1)q, down (4j+1)q..(4j+3)q
    up = (t >= (4 * j - 1) * quarter_s) & (t <= (4 * j + 1) * quarter_s)
    down = (t > (4 * j + 1) * quarter_s) & (t <= (4 * j + 3) * quarter_s)
    start = (4 * j - 1) * quarter_s
    up &= np.concatenate([[True], np.diff(vg) > 0])    # strictly monotonic branches only
    down &= np.concatenate([[True], np.diff(vg) < 0])
    pm = result.vectors.get("v(xfet.xfe.pm)")
    swing = float(np.ptp(pm[t >= start])) if pm is not None else 0.0
    window = measure.hysteresis_window_V(vg[up], i[up], vg[down], i[down], i_read_A)
    return Loop(ratio, vg[up], i[up], vg[down], i[down], swing, window)


def run(params: ParamSet, engine: Engine, ratios=RATIOS, cycles: int = 2) -> WindowResult:
    if cycles < 2:
        raise ValueError("the window is measured on a loop after the first: cycles >= 2")
    nets = [fefet_transfer(params, r, cycles=cycles) for r in ratios]
    results = engine.run_many(nets)
    ch = params.channel
    i_read = I_READ_A_PER_SQ * params.duplex.w_seg_um / ch.l_um
    q = params.operation.sweep_quarter_s
    floor = ch.g_off_S * params.operation.read_vd_V
    return WindowResult([_loop(r, res, q, cycles, i_read, floor)
                         for r, res in zip(ratios, results)], i_read)


def section(params: ParamSet, engine: Engine, out_dir: Path) -> Section:
    d = params.duplex
    r = run(params, engine, tuple(dict.fromkeys([*RATIOS, d.ratio_i, d.ratio_t])))  # + own gates
    op, d = params.operation, params.duplex
    md = (f"One MFMIS gate (A_DE = {d.a_de_um2:g} um2 over a {d.w_seg_um:g} x "
          f"{params.channel.l_um:g} um channel segment) for each A_FE/A_DE, triangular gate "
          f"sweep +-{op.sweep_V:g} V with {op.sweep_quarter_s * 1e6:g} us per quarter period, "
          f"Vd = {op.read_vd_V:g} V; the second period is measured. Window = difference of the "
          f"constant-current thresholds ({r.i_read_A * 1e9:.3g} nA of channel transport current, "
          "so the gate-overlap displacement current of the sweep does not enter) of the up and "
          "down ramps. Small ratios put most of the gate voltage across the HZO (FE-like, I-type); "
          "large ratios switch partially (DE-like, T-type); the pure-dielectric FET is the selector. "
          f"Window falls monotonically with the ratio: {'yes' if r.monotonic() else 'NO'}.")
    rows = [(f"window, A_FE/A_DE = {ratio_key(lp.ratio)}", f"{lp.window_V:.3f} V",
             "falls with ratio" if not math.isinf(lp.ratio) else "< 10 mV") for lp in r.loops]
    return Section("Memory window vs A_FE/A_DE (Fig. 2b)", md,
                   [r.plot(out_dir / "window_vs_ratio.png")], r.summary(), rows)


def i_gate_figures(params: ParamSet, engine: Engine) -> dict[str, float]:
    """The I gate's memory window alone: the sweep experiment ``window``."""
    r = run(params, engine, ratios=(params.duplex.ratio_i,))
    return {"memory_window_V": r.window(params.duplex.ratio_i)}
