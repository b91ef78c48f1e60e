"""Pulse switching of the I-type gate (paper Fig. 2e, ED Figs. 4-5): switched fraction vs pulse
width and amplitude, the shortest full-switching pulse, on/off, read-after-write drift, read
disturb, and the energy of one programming event."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .. import measure
from ..engine import Engine
from ..netlist.core import Tran
from ..netlist.fefet_benches import fefet_pulse_train, linear_cap_energy
from ..netlist.stimuli import sample
from ..params import ParamSet
from ..report import Section, save_figure

WIDTHS_S = np.array([1, 2, 3, 4.8, 7, 10, 30, 100, 300, 1000]) * 1e-9
AMPLITUDE_FACTORS = (0.6, 0.8, 1.0)       # of operation.program_V
FULL = 0.95                               # "full switching": >= 95% of the saturated swing
READ_AFTER_S = 20e-9                      # first read after the write (paper: 20 ns)
N_READS, READ_S = 10**6, 20e-9            # read disturb: 10^6 reads of 20 ns at the read bias
ENERGY_TAIL_S = 20e-9                     # the event ends 20 ns after the pulse (recovery)
PM = "v(xfet.xfe.pm)"


@dataclass
class SwitchingResult:
    widths_s: np.ndarray
    amplitudes_V: np.ndarray
    program_frac: np.ndarray     # (amplitudes, widths): P/Ps swing of one program pulse / 2
    erase_frac: np.ndarray       # one erase pulse from the programmed state
    full_switch_pulse_ns: float  # at the default amplitude
    frac_at_default: tuple[float, float]
    i_on_A: float
    i_off_A: float
    drift_pm: float              # |P/Ps change| from 20 ns after the write to after 10^6 reads
    window_V: float              # quasi-static window of the I gate (for the drift in volts)
    energy_J: float
    erase_energy_J: float
    area_um2: float
    cap_check: tuple[float, float]  # (extracted, C V^2) on a linear capacitor
    trace: dict                  # t, vg, pm of the default program/erase run

    @property
    def on_off(self) -> float:
        return self.i_on_A / self.i_off_A

    @property
    def drift_V(self) -> float:
        """P drift expressed as a threshold shift: the window corresponds to a swing of 2."""
        return self.drift_pm / 2 * self.window_V

    def summary(self) -> dict:
        return {"switching": {"full_switch_pulse_ns": self.full_switch_pulse_ns,
                              "fraction_program_at_default": self.frac_at_default[0],
                              "fraction_erase_at_default": self.frac_at_default[1],
                              "on_off": self.on_off,
                              "read_after_write_drift_V": self.drift_V,
                              "read_disturb_fraction": self.drift_pm / 2},
                "energy": {"switch_pJ": self.energy_J * 1e12,
                           "erase_pJ": self.erase_energy_J * 1e12,
                           "per_area_fJ_um2": self.energy_J * 1e15 / self.area_um2,
                           "area_um2": self.area_um2,
                           "linear_cap_check_rel_error": self.cap_check[0] / self.cap_check[1] - 1}}

    def plot(self, path: Path) -> str:
        fig, (ax, axt) = plt.subplots(1, 2, figsize=(11, 4.2))
        for k, amp in enumerate(self.amplitudes_V):
            ax.semilogx(self.widths_s * 1e9, self.program_frac[k], "o-", color=f"C{k}",
                        label=f"program {amp:g} V")
            ax.semilogx(self.widths_s * 1e9, self.erase_frac[k], "s--", color=f"C{k}",
                        label=f"erase {-amp:g} V")
        ax.axhline(FULL, color="0.6", ls=":")
        ax.axvline(4.8, color="0.6", ls=":")
        ax.set_xlabel("pulse width (ns)")
        ax.set_ylabel("switched fraction")
        ax.set_title("one pulse: switched fraction vs width and amplitude")
        ax.legend(fontsize=7)
        t, vg, pm = self.trace["t"], self.trace["vg"], self.trace["pm"]
        axt.plot(t * 1e9, vg, "C0", label="gate (V)")
        axt.set_xlabel("time (ns)")
        axt.set_ylabel("Vg (V)")
        axp = axt.twinx()
        axp.plot(t * 1e9, pm, "C3", label="P/Ps")
        axp.set_ylabel("P/Ps", color="C3")
        axt.set_title(f"program/erase, {self.trace['width_ns']:g} ns pulses")
        return save_figure(fig, path)


def _widths_run(params: ParamSet, amplitude_V: float, width_s: float):
    op = params.operation
    edge = min(op.edge_s, width_s / 2)
    return fefet_pulse_train(params, (amplitude_V, -amplitude_V), params.duplex.ratio_i, -1.0,
                             width_s, edge, period_s=width_s + 60e-9,
                             max_step_s=max(edge / 10, width_s / 200), name="fefet_switch")


def _fractions(result, train) -> tuple[float, float, float, float]:
    """(program fraction, erase fraction, read current after program, after erase)."""
    t, pm = result["time"], result[PM]
    before, after_prog, after_erase = sample(t, pm, [train.read_before_s, *train.reads_s])
    i = -result["i(vd)"]
    i_prog, i_erase = sample(t, i, train.reads_s)
    return (after_prog - before) / 2, (after_prog - after_erase) / 2, i_prog, i_erase


def _full_switch_width(widths_s, prog, erase) -> float:
    """Shortest width [ns] where both fractions reach FULL (log-interpolated); the grid's first
    width when even that switches fully, inf when none does."""
    both = np.minimum(prog, erase)
    ok = np.flatnonzero(both >= FULL)
    if ok.size == 0:
        return float("inf")
    k = ok[0]
    if k == 0:
        return float(widths_s[0] * 1e9)
    lw = np.log(widths_s[k - 1:k + 1])
    frac = (FULL - both[k - 1]) / (both[k] - both[k - 1])
    return float(np.exp(lw[0] + frac * (lw[1] - lw[0])) * 1e9)


def run(params: ParamSet, engine: Engine, window_V: float) -> SwitchingResult:
    """`window_V`: the I gate's quasi-static memory window (from the window experiment), used to
    express the polarisation drift as a threshold shift."""
    op = params.operation
    amps = np.array(AMPLITUDE_FACTORS) * op.program_V
    grid = [(a, w) for a in amps for w in WIDTHS_S]
    runs = [_widths_run(params, a, w) for a, w in grid]
    default_net, train = _widths_run(params, op.program_V, op.pulse_s)
    hold_net, hold_train = fefet_pulse_train(
        params, (op.program_V,), params.duplex.ratio_i, -1.0, op.pulse_s, op.edge_s,
        period_s=op.pulse_s + 60e-9, max_step_s=op.edge_s / 10,
        tail_s=READ_AFTER_S + N_READS * READ_S, name="fefet_read_disturb")
    # the same write, then 10^6 reads: a long hold where coarse steps are exact (nothing moves)
    hold_net.analysis = Tran(1e-9, hold_train.stop_s, 1e-5)
    cap_net, cap_train = linear_cap_energy(amplitude_V=op.program_V)
    results = engine.run_many([n for n, _ in runs] + [default_net, hold_net, cap_net])
    fr = np.array([_fractions(r, train)[:2] for r, (_, train) in zip(results, runs)])
    prog = fr[:, 0].reshape(len(amps), -1)
    erase = fr[:, 1].reshape(len(amps), -1)

    default, held, cap = results[len(runs):]
    p, e, i_on, i_off = _fractions(default, train)
    t, vg, ig = default["time"], default["v(g)"], default["i(vg)"]
    event = (t >= train.starts_s[0]) & (t <= train.ends_s[0] + ENERGY_TAIL_S)
    erase_event = (t >= train.starts_s[1]) & (t <= train.ends_s[1] + ENERGY_TAIL_S)
    pm_held = sample(held["time"], held[PM], [hold_train.ends_s[0] + READ_AFTER_S,
                                             hold_train.stop_s])
    c_event = cap["time"] <= cap_train.stop_s
    cap_E = measure.energy_J(cap["time"][c_event], cap["v(g)"][c_event], cap["i(vg)"][c_event])
    return SwitchingResult(
        widths_s=WIDTHS_S, amplitudes_V=amps, program_frac=prog, erase_frac=erase,
        full_switch_pulse_ns=_full_switch_width(WIDTHS_S, prog[-1], erase[-1]),
        frac_at_default=(float(p), float(e)), i_on_A=float(i_on), i_off_A=float(i_off),
        drift_pm=float(abs(pm_held[1] - pm_held[0])), window_V=window_V,
        energy_J=measure.energy_J(t[event], vg[event], ig[event]),
        erase_energy_J=measure.energy_J(t[erase_event], vg[erase_event], ig[erase_event]),
        area_um2=params.duplex.footprint_um2,
        cap_check=(cap_E, 1e-12 * op.program_V ** 2),
        trace={"t": t, "vg": vg, "pm": default[PM], "width_ns": op.pulse_s * 1e9})


def section(params: ParamSet, engine: Engine, out_dir: Path, window_V: float) -> Section:
    r = run(params, engine, window_V)
    op, d = params.operation, params.duplex
    s = r.summary()
    md = (f"I-type gate (A_FE/A_DE = {d.ratio_i:g}) from the erased state: one program pulse "
          f"then one erase pulse, trapezoids with {op.edge_s * 1e9:g} ns edges, widths "
          f"{WIDTHS_S[0] * 1e9:g}-{WIDTHS_S[-1] * 1e9:g} ns (FWHM) at "
          f"{', '.join(f'{a:g}' for a in r.amplitudes_V)} V. Switched fraction = change of P/Ps "
          f"over the saturated swing of 2; full switching = {FULL:.0%}. Reads at Vg = "
          f"{op.read_vg_V:g} V, Vd = {op.read_vd_V:g} V, {READ_AFTER_S * 1e9:g} ns after the pulse. "
          f"Read disturb and read-after-write drift: the same write followed by {N_READS:.0e} "
          f"reads of {READ_S * 1e9:g} ns (a {N_READS * READ_S * 1e3:g} ms hold at the read bias); "
          "the P/Ps change is expressed as a threshold shift through the window (swing 2 <-> "
          f"window {r.window_V:.2f} V). Energy = -int V*I of the gate source from the start of the "
          f"pulse to {ENERGY_TAIL_S * 1e9:g} ns after it; per area over the duplex footprint "
          f"({r.area_um2:g} um2: 10 um wide x 15 um long incl. contact pads). Check of the "
          f"extraction on a linear 1 pF capacitor charged through 1 kOhm: "
          f"{s['energy']['linear_cap_check_rel_error']:+.2%} vs C*V^2.")
    rows = [("shortest full-switching pulse", f"{r.full_switch_pulse_ns:.3g} ns", "4.8 ns (setup-limited)"),
            (f"switched fraction at {op.pulse_s * 1e9:g} ns, {op.program_V:g} V",
             f"program {r.frac_at_default[0]:.3f}, erase {r.frac_at_default[1]:.3f}", "full"),
            ("on/off (I-type, read bias)", f"{r.on_off:.3g}", ">= 1e6"),
            ("read-after-write drift", f"{r.drift_V * 1e3:.3g} mV ({r.drift_pm / 2:.1e} of swing)",
             "< 1% of window"),
            ("switching energy", f"{r.energy_J * 1e12:.2f} pJ (erase {r.erase_energy_J * 1e12:.2f} pJ)",
             "3.4 pJ"),
            ("energy per area", f"{s['energy']['per_area_fJ_um2']:.1f} fJ/um2", "22.7 fJ/um2")]
    return Section("Switching speed, energy and read disturb (Fig. 2e, ED 4-5)", md,
                   [r.plot(out_dir / "switching.png")], s, rows)


def event_figures(params: ParamSet, engine: Engine) -> dict[str, float]:
    """One program/erase event at the default pulse: the sweep experiment ``switching``."""
    op = params.operation
    net, train = _widths_run(params, op.program_V, op.pulse_s)
    r = engine.run(net)
    prog, erase, i_on, i_off = _fractions(r, train)
    t = r["time"]
    event = (t >= train.starts_s[0]) & (t <= train.ends_s[0] + ENERGY_TAIL_S)
    energy = measure.energy_J(t[event], r["v(g)"][event], r["i(vg)"][event])
    return {"switch_pJ": energy * 1e12, "program_fraction": float(prog),
            "erase_fraction": float(erase), "on_off": float(i_on / i_off)}
