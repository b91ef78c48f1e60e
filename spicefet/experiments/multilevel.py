"""Analog states (paper ED Fig. 6, Fig. 2c): 128 potentiation + 128 depression states of the
T-type gate with identical pulses, their nonlinearity (NeuroSim NL and soft-bounds fit), and
16 I-type levels programmed with write-verify."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .. import measure
from ..engine import Engine
from ..netlist.fefet_benches import fefet_pulse_train
from ..netlist.stimuli import sample
from ..params import ParamSet
from ..report import Section, save_figure

N_PULSES = 128
T_START_P0 = 0.2           # T gate starts partly programmed (mid-window), as in the paper's test
I_LEVELS = 16
I_AMPLITUDES_V = np.linspace(3.0, 9.0, 25)  # one-pulse program amplitudes scanned first
VERIFY_TOL_DEC = 0.05      # accepted |log10(G/G_target)| after verify
VERIFY_ROUNDS = 3


@dataclass
class MultilevelResult:
    g_pot_S: np.ndarray        # before the first pulse and after each potentiation pulse
    g_dep_S: np.ndarray        # from the last potentiated state, after each depression pulse
    fit_ltp: dict
    fit_ltd: dict
    i_targets_S: np.ndarray
    i_levels_S: np.ndarray     # verified I-type conductances
    i_amplitudes_V: np.ndarray
    i_rounds: int              # verify rounds used

    @property
    def t_levels(self) -> int:
        return min(measure.distinct_levels(self.g_pot_S), measure.distinct_levels(self.g_dep_S))

    @property
    def i_levels(self) -> int:
        """Verified levels within tolerance and strictly ordered (separable)."""
        ok = np.abs(np.log10(self.i_levels_S / self.i_targets_S)) <= VERIFY_TOL_DEC
        ordered = np.concatenate([[True], np.diff(self.i_levels_S) > 0])
        return int(np.count_nonzero(ok & ordered))

    def summary(self) -> dict:
        return {"states": {"t_type_levels": self.t_levels,
                           "t_type_levels_ltp": measure.distinct_levels(self.g_pot_S),
                           "t_type_levels_ltd": measure.distinct_levels(self.g_dep_S),
                           "i_type_levels": self.i_levels,
                           "nl_ltp": self.fit_ltp["nl"], "nl_ltd": self.fit_ltd["nl"],
                           "soft_bounds": {"ltp": self.fit_ltp, "ltd": self.fit_ltd}}}

    def plot(self, path: Path) -> str:
        fig, (ax, axi) = plt.subplots(1, 2, figsize=(11, 4.2))
        n = np.arange(N_PULSES + 1)
        ax.plot(n, self.g_pot_S * 1e6, ".", ms=3, label="potentiation")
        ax.plot(N_PULSES + n, self.g_dep_S * 1e6, ".", ms=3, label="depression")
        for fit, x0, incr in ((self.fit_ltp, 0, True), (self.fit_ltd, N_PULSES, False)):
            lo, hi = fit["g_min_S"], fit["g_max_S"]
            rise = measure.soft_bounds_curve(n, 0.0, hi - lo, fit["a_pulses"], fit["p_max"])
            ax.plot(x0 + n, (lo + rise if incr else hi - rise) * 1e6, "k-", lw=0.8)
        ax.set_xlabel("pulse number")
        ax.set_ylabel("G (uS)")
        ax.set_title(f"T-type: {self.t_levels} states each way; NL_LTP {self.fit_ltp['nl']:.2f},"
                     f" NL_LTD {self.fit_ltd['nl']:.2f}")
        ax.legend(fontsize=8)
        axi.semilogy(self.i_targets_S, "k_", ms=12, label="target")
        axi.semilogy(self.i_levels_S, "o", ms=4, label="verified")
        axi.set_xlabel("level")
        axi.set_ylabel("G (S)")
        axi.set_title(f"I-type write-verify: {self.i_levels} levels")
        axi.legend(fontsize=8)
        return save_figure(fig, path)


def t_type_train(params: ParamSet, engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    op = params.operation
    amps = [op.t_pot_V] * N_PULSES + [op.t_dep_V] * N_PULSES
    net, train = fefet_pulse_train(params, amps, params.duplex.ratio_t, T_START_P0,
                                   op.t_pulse_s, op.t_edge_s, op.t_period_s,
                                   max_step_s=2 * op.t_edge_s, name="fefet_t_levels")
    r = engine.run(net)
    g = sample(r["time"], -r["i(vd)"], [train.read_before_s, *train.reads_s]) / op.read_vd_V
    return g[:N_PULSES + 1], g[N_PULSES:]


def _i_type_reads(params: ParamSet, engine: Engine, amplitudes_V) -> np.ndarray:
    """Conductance after erase + one program pulse of each amplitude (runs in parallel)."""
    op = params.operation
    runs = [fefet_pulse_train(params, (a,), params.duplex.ratio_i, -1.0, op.pulse_s, op.edge_s,
                              op.pulse_s + 40e-9, name="fefet_i_level") for a in amplitudes_V]
    results = engine.run_many([n for n, _ in runs])
    return np.array([sample(r["time"], -r["i(vd)"], tr.reads_s[-1]) / op.read_vd_V
                     for r, (_, tr) in zip(results, runs)])


def i_type_write_verify(params: ParamSet, engine: Engine):
    """16 levels log-spaced between the erased and fully programmed conductance: amplitudes
    from a scan, then verify and correct (secant in log G) up to VERIFY_ROUNDS times."""
    g_scan = _i_type_reads(params, engine, I_AMPLITUDES_V)
    log_scan = np.log10(g_scan)
    keep = np.concatenate([[True], np.diff(log_scan) > 1e-6])  # strictly increasing part
    amps_s, log_s = I_AMPLITUDES_V[keep], log_scan[keep]
    targets = np.logspace(log_s[0] + 0.1, log_s[-1] - 0.05, I_LEVELS)
    amps = np.interp(np.log10(targets), log_s, amps_s)
    got = _i_type_reads(params, engine, amps)
    rounds = 1
    while rounds < VERIFY_ROUNDS:
        bad = np.abs(np.log10(got / targets)) > VERIFY_TOL_DEC
        if not bad.any():
            break
        # local slope d(log G)/dA from the scan, a secant step on the failing levels only
        slope = np.interp(amps[bad], amps_s[1:], np.diff(log_s) / np.diff(amps_s))
        amps[bad] += (np.log10(targets[bad]) - np.log10(got[bad])) / np.maximum(slope, 1e-3)
        got[bad] = _i_type_reads(params, engine, amps[bad])
        rounds += 1
    return targets, got, amps, rounds


def run(params: ParamSet, engine: Engine) -> MultilevelResult:
    g_pot, g_dep = t_type_train(params, engine)
    targets, got, amps, rounds = i_type_write_verify(params, engine)
    return MultilevelResult(g_pot, g_dep, measure.fit_soft_bounds(g_pot, increasing=True),
                            measure.fit_soft_bounds(g_dep, increasing=False),
                            targets, got, amps, rounds)


def section(params: ParamSet, engine: Engine, out_dir: Path) -> Section:
    r = run(params, engine)
    op, d = params.operation, params.duplex
    md = (f"T-type gate (A_FE/A_DE = {d.ratio_t:g}), starting at P/Ps = {T_START_P0:g}: "
          f"{N_PULSES} identical potentiation pulses ({op.t_pot_V:+g} V) then {N_PULSES} identical "
          f"depression pulses ({op.t_dep_V:+g} V), {op.t_pulse_s * 1e9:g} ns wide, one every "
          f"{op.t_period_s * 1e9:g} ns, read at Vg = {op.read_vg_V:g} V, Vd = {op.read_vd_V:g} V "
          "between pulses, without verify. A state is distinct when it moves on by at least 1e-3 "
          "of the range. Nonlinearity: NeuroSim's curve G = B(1 - exp(-P/A)) + Gmin fitted to "
          "each branch, reported as NeuroSim's NL label and as aihwkit SoftBoundsPmax "
          "(alpha = 1/A per pulse, p_max = 128). I-type gate "
          f"(A_FE/A_DE = {d.ratio_i:g}): {I_LEVELS} conductance targets log-spaced between the "
          f"erased and programmed states, each written from the erased state with one "
          f"{op.pulse_s * 1e9:g} ns pulse whose amplitude comes from a scan and is corrected after "
          f"each verify read (tolerance {VERIFY_TOL_DEC} decades, {r.i_rounds} rounds used).")
    s = r.summary()["states"]
    rows = [("T-type distinct states (LTP / LTD)", f"{s['t_type_levels_ltp']} / {s['t_type_levels_ltd']}",
             "128 each way (7 bit)"),
            ("NL_LTP / NL_LTD (NeuroSim)", f"{s['nl_ltp']:.2f} / {s['nl_ltd']:.2f}", "reported"),
            ("soft-bounds fit R^2 (LTP / LTD)", f"{r.fit_ltp['r2']:.4f} / {r.fit_ltd['r2']:.4f}", "-"),
            ("I-type verified levels", f"{r.i_levels} of {I_LEVELS}", "16")]
    return Section("Analog states: T-type potentiation/depression, I-type levels (ED 6, Fig. 2c)",
                   md, [r.plot(out_dir / "multilevel.png")], r.summary(), rows)
