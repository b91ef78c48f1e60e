"""2T1D array experiments (targets A1, A2, E1): MAC accuracy, programming disturb, energy,
latency, the T-to-I transfer and scaling of frozen-state reads.

Everything is simulated with ngspice on the netlists of `spicefet.netlist.array`:

* **MAC accuracy** (8 x 3 array, frozen states): L1 reads (inputs on ``in1``/``in2``, the 8
  hidden nodes read by TIAs) and L2 reads (activations on the hidden nodes with the pair's
  polarity, ``out`` read) for 8 seeded input vectors each, with the default parasitics and
  with ideal wires and vias. The ideal is ``sum_c G_rc*V_c`` with every G measured on the cell
  alone at the same bias (`isolated_cells`). Error = ||I - I_ideal|| / ||I_ideal|| over all
  vectors and outputs of a phase; the reported figure is the worse phase.
* **Frozen vs full**: one L1 read cycle of the full 8 x 3 netlist (duplex FeFETs + selectors),
  its states extracted at the end of the hold and re-read with the frozen netlist.
* **Energy, latency, TOPS/W** from that full read cycle (see `ReadEnergy`).
* **Disturb** (8 x 3, full model): I program (+program_V) and erase (-program_V), one pulse;
  T potentiation and depression, bursts of `t_pulses`; every unselected segment's |dP/Ps|.
* **Transfer** (2 x 2, full model): T training, T reset, word-line switch, I write-verify
  (coarse staircase to find the bracket, then a fine staircase; see `transfer`).
* **Scaling**: frozen reads of R x C arrays; generation (build + render) and simulation wall
  time; growth exponent fitted on log-log.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..engine import Engine
from ..netlist import array as A
from ..netlist.core import Tran
from ..params import ParamSet
from ..report import Section, save_figure

PAPER_TOPS_W = {"training_post_layout": 1151.0, "training_pre_layout": 2110.0,
                "inference": 111.86}
N_VECTORS = 8


# ============================================================================ MAC accuracy
@dataclass
class MacStudy:
    """Currents (A) of the 8 x 3 array: `ideal`, `sim` (parasitics), `sim0` (ideal wires);
    arrays (n_vectors, n_outputs) per phase "L1" / "L2"."""
    inputs: dict[str, np.ndarray]
    outputs: dict[str, list[str]]
    ideal: dict[str, np.ndarray]
    sim: dict[str, np.ndarray]
    sim0: dict[str, np.ndarray]
    scaled: dict[float, dict[str, np.ndarray]] = field(default_factory=dict)

    @staticmethod
    def rel(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    def error(self, phase: str, parasitics: bool = True) -> float:
        return self.rel(self.sim[phase] if parasitics else self.sim0[phase], self.ideal[phase])

    def scaled_error(self, scale: float) -> float:
        """Worse-phase error with wire and via resistance times `scale`."""
        return max(self.rel(self.scaled[scale][ph], self.ideal[ph]) for ph in self.ideal)


def _phase_vectors(seed: int = 11) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"L1": rng.uniform(-1.0, 1.0, (N_VECTORS, 2)),
            "L2": rng.uniform(0.0, 1.0, (N_VECTORS, 4))}


def _drives(phase: str, x: np.ndarray, v: float) -> dict[str, float]:
    return A.l1_drives(x[0], x[1], v) if phase == "L1" else A.l2_drives(x, v)


def _cell_bias(layout: A.Layout, drives: dict[str, float]) -> dict[A.Cell, float]:
    """Drain voltage of every cell in the ideal (sources at 0 V): its drain line's drive."""
    out = {}
    for cell in layout.cells():
        line, _ = layout.tap(cell, "d")
        out[cell] = drives.get(line.name, 0.0)
    return out


def mac_study(params: ParamSet, engine: Engine, state: A.ArrayState | None = None,
              scales=(0.25, 0.5, 2.0)) -> MacStudy:
    """8 x 3 MAC reads (frozen states) against the ideal; `scales`: extra runs with wire and
    via resistance scaled (sensitivity to the assumed parasitics)."""
    layout = A.paper_8x3()
    state = state or A.paper_states(params)
    v = params.operation.read_vd_V
    hidden = [ln.name for ln in layout.of_kind("hidden")]
    outputs = {"L1": hidden, "L2": ["out"]}
    vectors = _phase_vectors()
    base = A.Wiring.from_params(params.array)
    wirings = {"sim": base, "sim0": A.Wiring.from_params(params.array, parasitics=False),
               **{f"x{k}": base.scaled(f) for k, f in enumerate(scales)}}
    jobs, keys = [], []
    for phase, xs in vectors.items():
        for k, x in enumerate(xs):
            drives = _drives(phase, x, v)
            sense = hidden if phase == "L1" else []
            for which, w in wirings.items():
                c = A.frozen_read(params, layout, state, w, drives, sense,
                                  name=f"mac_{phase}_{which}_{k}")
                jobs.append(c.netlist)
                keys.append((phase, k, which, c))
            jobs.append(A.isolated_cells(params, layout, state, _cell_bias(layout, drives),
                                         name=f"alone_{phase}_{k}"))
            keys.append((phase, k, "ideal", None))
    results = engine.run_many(jobs)
    out = {w: {ph: np.zeros((N_VECTORS, len(outputs[ph]))) for ph in vectors}
           for w in (*wirings, "ideal")}
    for (phase, k, which, c), res in zip(keys, results):
        if which == "ideal":
            cell_i = {cell: float(res[f"i(v_src{cell[0]}_{cell[1]})"][0])
                      for cell in layout.cells()}   # into the source's + node = cell current
            for j, name in enumerate(outputs[phase]):
                line = layout.line(name)
                # an output line sums the currents leaving the sources on it
                out["ideal"][phase][k, j] = sum(cell_i[cell] for cell, pin in line.taps
                                                if pin == "s")
        else:
            for j, name in enumerate(outputs[phase]):
                out[which][phase][k, j] = float(c.sense_current(res, name)[0])
    return MacStudy(vectors, outputs, out["ideal"], out["sim"], out["sim0"],
                    {f: out[f"x{k}"] for k, f in enumerate(scales)})


# ============================================================================ energy, latency
@dataclass
class ReadEnergy:
    """One L1 read cycle of the full 8 x 3 netlist (inputs +V_read on in1 and in2).

    latency_s: input edge start -> every hidden-node current within 0.1 % of its final value.
    energy_in_J: energy delivered by the input-line drivers over a cycle as short as the
    latency allows (rise + latency, then the fall and discharge): cell conduction, wire and via
    losses, charging of lines and device capacitances. energy_tia_J: what the TIA outputs
    deliver into their feedback networks over the same windows (no op-amp quiescent power).
    ops: 2 per active cell (multiply + accumulate), 16 L1 cells.
    """
    latency_s: float
    energy_in_J: float
    energy_tia_J: float
    ops: int
    frozen_vs_full: float
    currents_A: np.ndarray
    wall_s: float

    @property
    def per_mac_fJ(self) -> float:
        return self.energy_in_J / (self.ops / 2) * 1e15

    @property
    def tops_per_w(self) -> float:
        return self.ops / self.energy_in_J / 1e12

    @property
    def tops_per_w_with_tia(self) -> float:
        return self.ops / (self.energy_in_J + self.energy_tia_J) / 1e12


def read_energy(params: ParamSet, engine: Engine) -> ReadEnergy:
    layout = A.paper_8x3()
    state = A.paper_states(params)
    wiring = A.Wiring.from_params(params.array)
    v = params.operation.read_vd_V
    drives = A.l1_drives(1.0, 1.0, v)
    hidden = [ln.name for ln in layout.of_kind("hidden")]
    circ = A.full_read(params, layout, wiring, drives, p0_i=state.pm("i"), sense=hidden,
                       name="read_cycle_8x3")
    t0 = time.perf_counter()
    res = engine.run(circ.netlist)
    wall = time.perf_counter() - t0
    t = res["time"]
    rise, fall, edge, stop = (circ.meta[k] for k in ("rise_s", "fall_s", "edge_s", "stop_s"))
    t_read = fall - 1e-9
    cur = np.array([circ.sense_current(res, h) for h in hidden])
    final = np.array([np.interp(t_read, t, c) for c in cur])
    tol = 1e-3 * np.max(np.abs(final))
    during = (t >= rise) & (t <= t_read)
    bad = np.any(np.abs(cur[:, during] - final[:, None]) > np.maximum(1e-3 * np.abs(final),
                                                                     tol)[:, None], axis=0)
    td = t[during]
    settle = td[np.nonzero(bad)[0][-1] + 1] if bad.any() else td[0]
    latency = float(settle - rise)

    def window_energy(vv, ii):
        p = -vv * ii
        m1 = (t >= rise) & (t <= settle)
        m2 = t >= fall
        return float(np.trapezoid(p[m1], t[m1]) + np.trapezoid(p[m2], t[m2]))

    e_in = sum(window_energy(res[f"v({ln}_0)"], res[f"i(v_{ln})"]) for ln in drives)
    e_tia = sum(window_energy(res[f"v({h}_o)"], res[f"i(eb_{h})"]) for h in hidden)
    # frozen twin of the settled state
    st = A.extract_state(params, circ, res, t_read)
    fr = A.frozen_read(params, layout, st, wiring, drives, hidden, name="read_frozen_8x3")
    res_f = engine.run(fr.netlist)
    frozen = np.array([fr.sense_current(res_f, h)[0] for h in hidden])
    diff = float(np.max(np.abs(frozen - final)) / np.max(np.abs(final)))
    return ReadEnergy(latency, e_in, e_tia, 32, diff, final, wall)


# ============================================================================ disturb
WINDOW_PM = 2.0   # the full P/Ps range, -1 .. +1


@dataclass
class DisturbEvent:
    """One programming event on cell (0, 0) of the 8 x 3 array (full model)."""
    name: str
    gate: str
    amplitudes_V: list[float]
    selected_swing: float             # largest |P/Ps - start| of the selected segment
    delta: np.ndarray                 # (rows, cols, 2): largest |d(P/Ps)| of T and I segments
    energy_J: dict[str, float]        # first pulse (+20 ns), by driver kind
    switch_time_s: float              # first pulse start -> 90 % of its swing
    wall_s: float

    @property
    def max_unselected(self) -> float:
        d = np.abs(self.delta).copy()
        d[0, 0, 0 if self.gate == "T" else 1] = 0.0
        return float(d.max())

    @property
    def fraction(self) -> float:
        """Largest unselected |dP/Ps| as a fraction of the P/Ps window (2)."""
        return self.max_unselected / WINDOW_PM

    @property
    def total_energy_J(self) -> float:
        return float(sum(self.energy_J.values()))


def disturb_events(params: ParamSet, engine: Engine, t_pulses: int = 2) -> list[DisturbEvent]:
    """I program (+program_V from erased), I erase (-program_V from +Ps), one pulse each, and
    a T update (`t_pulses` potentiation then `t_pulses` depression pulses from the parked
    state) on cell (0, 0) of the 8 x 3 array; the other cells hold `paper_states`."""
    layout = A.paper_8x3()
    state = A.paper_states(params)
    wiring = A.Wiring.from_params(params.array)
    op, cell = params.operation, (0, 0)
    pm_i = state.pm("i")
    specs = []
    for name, gate, amps, p0_sel in (
            ("I program", "I", [op.program_V], -1.0),
            ("I erase", "I", [-op.program_V], 1.0),
            ("T update", "T", [op.t_pot_V] * t_pulses + [op.t_dep_V] * t_pulses, None)):
        p0_i, p0_t = pm_i.copy(), np.full(pm_i.shape, params.duplex.p0_t_reset)
        p0_i[cell] = p0_sel if gate == "I" else -1.0
        circ, tm = A.program_circuit(params, layout, wiring, cell, gate, amps, p0_t=p0_t,
                                     p0_i=p0_i, name=f"disturb_{gate}_{len(specs)}",
                                     max_step_s=100e-12)
        specs.append((name, gate, amps, circ, tm))
    t0 = time.perf_counter()
    results = engine.run_many([s[3].netlist for s in specs])
    wall = (time.perf_counter() - t0) / len(specs)
    out = []
    for (name, gate, amps, circ, tm), res in zip(specs, results):
        t = res["time"]
        delta = np.zeros((layout.rows, layout.cols, 2))
        for (r, c) in layout.cells():
            for j, seg in enumerate("ti"):
                pmv = res[f"v({circ.instance((r, c))}.x{seg}.xfe.pm)"]
                delta[r, c, j] = float(np.max(np.abs(pmv - pmv[0])))
        sel = res[f"v({circ.instance(cell)}.x{gate.lower()}.xfe.pm)"]
        first = float(np.interp(tm.reads_s[0], t, sel))
        target = sel[0] + 0.9 * (first - sel[0])
        after = t >= tm.starts_s[0]
        crossed = np.nonzero(np.sign(sel[after] - target) != np.sign(sel[0] - target))[0]
        t_sw = float(t[after][crossed[0]] - tm.starts_s[0]) if crossed.size else float("nan")
        win = (t >= tm.starts_s[0]) & (t <= tm.ends_s[0] + 20e-9)
        energy: dict[str, float] = {}
        for ln in circ.driven:
            kind = layout.line(ln).kind
            p = -res[f"v({ln}_0)"] * res[f"i(v_{ln})"]
            energy[kind] = energy.get(kind, 0.0) + float(np.trapezoid(p[win], t[win]))
        for ln in circ.sensed:
            p = -res[f"v({ln}_o)"] * res[f"i(eb_{ln})"]
            energy["readout"] = energy.get("readout", 0.0) + float(np.trapezoid(p[win], t[win]))
        out.append(DisturbEvent(name, gate, amps, float(delta[cell][0 if gate == "T" else 1]),
                                delta, energy, t_sw, wall))
    return out


# ============================================================================ transfer
@dataclass
class TransferStudy:
    g_train_S: np.ndarray       # reads after each T training pulse
    g_switched_S: float         # read after T reset and word-line switch (I still erased)
    target_S: float
    coarse_V: np.ndarray
    coarse_g_S: np.ndarray
    fine_V: np.ndarray
    fine_g_S: np.ndarray
    chosen: int                 # index into fine_* (write-verify stop)
    achieved_S: float
    tolerance: float
    wl_switch_disturb: float    # max |dP/Ps| of the other cells' I and T segments
    wall_s: float

    @property
    def error(self) -> float:
        return (self.achieved_S - self.target_S) / self.target_S


def transfer(params: ParamSet, engine: Engine, n_train: int = 6,
             tolerance: float = 0.05) -> TransferStudy:
    """Two transients of the transfer on cell (0, 0) of a 2 x 2 array: a coarse staircase
    (0.3..0.7 x program_V in 0.02 x program_V steps) finds the amplitude bracket where the I
    read crosses the trained T read; the second repeats train/reset/switch with a fine
    staircase (0.001 x program_V steps) across that bracket. Write-verify stops at the first
    read >= (1 - `tolerance`) x target (the state then is the state at that read: later pulses
    cannot change it). Reads go through the array and its TIA."""
    layout = A.pseudo_crossbar(2, 2)
    wiring = A.Wiring.from_params(params.array)
    vp, v = params.operation.program_V, params.operation.read_vd_V
    coarse = np.round(np.arange(0.3, 0.7 + 1e-9, 0.02) * vp, 6)
    t0 = time.perf_counter()

    def sim(ispp, name):
        circ, plan = A.transfer_circuit(params, layout, wiring, (0, 0), n_train, ispp, name=name)
        circ.netlist.analysis = Tran(0.5e-9, plan.stop_s, 0.2e-9)
        res = engine.run(circ.netlist)
        t = res["time"]
        i = circ.sense_current(res, circ.meta["sense_line"])
        g = np.interp(plan.reads_s, t, i) / v
        return circ, plan, res, g

    _, plan, _, g = sim(coarse, "transfer_coarse")
    ph = np.array(plan.phases)
    g_train = g[ph == "train"]
    target = float(g_train[-1]) if g_train.size else float("nan")
    g_ispp = g[ph == "ispp"]
    above = np.nonzero(g_ispp >= target)[0]
    k = int(above[0]) if above.size else len(coarse) - 1
    lo = coarse[max(k - 1, 0)] - 0.002 * vp
    fine = np.round(np.arange(lo, coarse[k] + 0.0015 * vp, 0.001 * vp), 6)
    circ, plan, res, g2 = sim(fine, "transfer_fine")
    ph2 = np.array(plan.phases)
    g2_ispp = g2[ph2 == "ispp"]
    above2 = np.nonzero(g2_ispp >= (1 - tolerance) * target)[0]
    chosen = int(above2[0]) if above2.size else int(np.argmin(np.abs(g2_ispp - target)))
    t = res["time"]
    sense = circ.sense_current(res, circ.meta["sense_line"])
    disturb = 0.0
    for cell in layout.cells():
        if cell == (0, 0):
            continue
        for seg in "ti":
            pmv = res[f"v({circ.instance(cell)}.x{seg}.xfe.pm)"]
            disturb = max(disturb, float(np.max(np.abs(pmv - pmv[0]))))
    return TransferStudy(
        g_train, float(np.interp(plan.switched_s, t, sense) / v),
        target, coarse, g_ispp, fine, g2_ispp, chosen, float(g2_ispp[chosen]), tolerance,
        disturb, time.perf_counter() - t0)


# ============================================================================ scaling
@dataclass
class Scaling:
    """Wall times of frozen MAC reads: generation (build + render) and simulation, with the
    default parasitics (`sim_s`) and with ideal wires (`sim0_s`)."""
    sizes: list[tuple[int, int]]
    gen_s: list[float]
    sim_s: list[float]
    sim0_s: list[float]

    @property
    def cells(self) -> np.ndarray:
        return np.array([r * c for r, c in self.sizes], dtype=float)

    def exponent(self, which: str = "sim", min_cells: int = 200) -> float:
        y = np.array({"sim": self.sim_s, "sim0": self.sim0_s, "gen": self.gen_s}[which])
        m = self.cells >= min_cells
        if m.sum() < 2:
            m = np.ones_like(m)
        return float(np.polyfit(np.log(self.cells[m]), np.log(y[m]), 1)[0])


def frozen_mac_netlist(params: ParamSet, rows: int, cols: int, parasitics: bool = True,
                       seed: int = 0):
    """The scaling benchmark's netlist: R x C pseudo-crossbar, seeded I states with
    conductances uniform in [0.02, 1] x G_max, every input at the read voltage."""
    layout = A.pseudo_crossbar(rows, cols)
    m = A._Segment.of(params, "i")
    v = params.operation.read_vd_V
    g_max = float(m.channel_current(params.duplex.q_fg0_fC * 1e-15 + m.afe_ps_C,
                                    params.operation.read_vg_V, v, 0.0)) / v
    g = np.random.default_rng(seed).uniform(0.02, 1.0, (rows, cols)) * g_max
    state = A.nominal_state(params, layout, np.clip(A.pm_for_conductance(params, g), -1, 1))
    wiring = A.Wiring.from_params(params.array, parasitics)
    drives = {ln.name: v for ln in layout.of_kind("input")}
    return A.frozen_read(params, layout, state, wiring, drives, name=f"mac_{rows}x{cols}")


def scaling(params: ParamSet, engine: Engine,
            sizes=((8, 3), (16, 16), (32, 32), (64, 64))) -> Scaling:
    gen, sim, sim0 = [], [], []
    for rows, cols in sizes:
        for parasitics in (True, False):
            t0 = time.perf_counter()
            circ = frozen_mac_netlist(params, rows, cols, parasitics)
            circ.netlist.render()
            t1 = time.perf_counter()
            engine.run(circ.netlist)
            t2 = time.perf_counter()
            if parasitics:
                gen.append(t1 - t0)
                sim.append(t2 - t1)
            else:
                sim0.append(t2 - t1)
    return Scaling(list(sizes), gen, sim, sim0)


# ============================================================================ result, report
@dataclass
class ArrayResult:
    mac: MacStudy
    read: ReadEnergy
    disturb: list[DisturbEvent]
    transfer: TransferStudy
    scaling: Scaling
    params: ParamSet
    extra: dict = field(default_factory=dict)

    @property
    def mac_error(self) -> float:
        return max(self.mac.error("L1"), self.mac.error("L2"))

    @property
    def mac_error0(self) -> float:
        return max(self.mac.error("L1", False), self.mac.error("L2", False))

    @property
    def max_disturb(self) -> float:
        return max(e.fraction for e in self.disturb)

    def summary(self) -> dict:
        prog = next(e for e in self.disturb if e.name == "I program")
        erase = next(e for e in self.disturb if e.name == "I erase")
        s = self.scaling
        return {"array": {
            "mac_rel_error": self.mac_error,
            "mac_rel_error_no_parasitics": self.mac_error0,
            "mac_rel_error_L1": self.mac.error("L1"), "mac_rel_error_L2": self.mac.error("L2"),
            "mac_rel_error_vs_wire_scale": {f"{f:g}": self.mac.scaled_error(f)
                                            for f in sorted(self.mac.scaled)},
            "energy_per_mac_fJ": self.read.per_mac_fJ,
            "tops_per_w": self.read.tops_per_w,
            "tops_per_w_with_tia": self.read.tops_per_w_with_tia,
            "read_latency_ns": self.read.latency_s * 1e9,
            "frozen_vs_full_rel": self.read.frozen_vs_full,
            "max_disturb_fraction": self.max_disturb,
            "max_disturb_abs_pm": max(e.max_unselected for e in self.disturb),
            "program_energy_pJ": prog.total_energy_J * 1e12,
            "program_energy_bitline_pJ": prog.energy_J.get("bit", 0.0) * 1e12,
            "erase_energy_pJ": erase.total_energy_J * 1e12,
            "program_switch_ns": prog.switch_time_s * 1e9,
            "transfer_rel_error": self.transfer.error,
            "transfer_wl_switch_disturb_pm": self.transfer.wl_switch_disturb,
            "scaling_sizes": [f"{r}x{c}" for r, c in s.sizes],
            "scaling_sim_s": s.sim_s,
            "scaling_sim_ideal_wires_s": s.sim0_s,
            "scaling_exponent": s.exponent(),
            "scaling_exponent_ideal_wires": s.exponent("sim0"),
        }}

    def plot(self, out_dir: Path) -> list[str]:
        names = []
        # 1. MAC scatter
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
        for ax, phase in zip(axes, ("L1", "L2")):
            ideal = self.mac.ideal[phase].ravel() * 1e6
            ax.plot(ideal, self.mac.sim0[phase].ravel() * 1e6, "o", mfc="none", color="C0",
                    label=f"ideal wires ({self.mac.error(phase, False):.2e})")
            ax.plot(ideal, self.mac.sim[phase].ravel() * 1e6, ".", color="C3",
                    label=f"with parasitics ({self.mac.error(phase):.2e})")
            lim = [min(ideal.min(), 0), max(ideal.max(), 0)]
            ax.plot(lim, lim, "k:", lw=0.8)
            ax.set_xlabel("ideal sum G*V (uA)")
            ax.set_ylabel("simulated output current (uA)")
            ax.set_title(f"8x3 array, {phase} phase: {N_VECTORS} vectors")
            ax.legend(fontsize=8, title="rel. error", title_fontsize=8)
        names.append(save_figure(fig, out_dir / "array_mac_scatter.png"))
        # 2. disturb map + transfer
        fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
        ev = next(e for e in self.disturb if e.name == "I program")
        for ax, j, seg in ((axes[0], 1, "I"), (axes[1], 0, "T")):
            d = np.abs(ev.delta[:, :, j])
            img = ax.imshow(np.log10(np.maximum(d, 1e-18)), cmap="viridis", vmin=-18, vmax=0.5,
                            aspect="auto")
            ax.plot(0, 0, "rx", ms=10)
            ax.set_title(f"I program (0,0): log10|dP/Ps|, {seg} gates")
            ax.set_xlabel("column")
            ax.set_ylabel("row")
            fig.colorbar(img, ax=ax)
        tr = self.transfer
        ax = axes[2]
        n_t = len(tr.g_train_S)
        ax.plot(range(1, n_t + 1), tr.g_train_S * 1e6, "o-", label="T training pulses")
        ax.plot([n_t + 1], [tr.g_switched_S * 1e6], "s", label="after T reset + WL switch")
        x0 = n_t + 2
        ax.plot(x0 + np.arange(len(tr.fine_g_S)), tr.fine_g_S * 1e6, ".-",
                label="I write-verify (fine staircase)")
        ax.plot(x0 + tr.chosen, tr.achieved_S * 1e6, "r*", ms=12, label="verify stop")
        ax.axhline(tr.target_S * 1e6, color="0.5", ls=":", label="target (trained T)")
        ax.set_xlabel("pulse")
        ax.set_ylabel("read conductance through the array (uS)")
        ax.set_title(f"T-to-I transfer: error {tr.error * 100:+.2f} %")
        ax.legend(fontsize=7)
        names.append(save_figure(fig, out_dir / "array_disturb_transfer.png"))
        # 3. scaling
        fig, ax = plt.subplots(figsize=(6, 4.2))
        s = self.scaling
        ax.loglog(s.cells, s.sim_s, "o-", label=f"simulate, parasitics (slope {s.exponent():.2f})")
        ax.loglog(s.cells, s.sim0_s, "^-",
                  label=f"simulate, ideal wires (slope {s.exponent('sim0'):.2f})")
        ax.loglog(s.cells, s.gen_s, "s--", label=f"generation (slope {s.exponent('gen'):.2f})")
        for (r, c), x, y in zip(s.sizes, s.cells, s.sim_s):
            ax.annotate(f"{r}x{c}", (x, y), fontsize=7)
        ax.set_xlabel("cells")
        ax.set_ylabel("wall time (s)")
        ax.set_title("frozen-state MAC read (.op)")
        ax.legend(fontsize=8)
        names.append(save_figure(fig, out_dir / "array_scaling.png"))
        return names


def run(params: ParamSet, engine: Engine, scaling_sizes=((8, 3), (16, 16), (32, 32), (64, 64)),
        t_pulses: int = 1) -> ArrayResult:
    """All studies; the 2 x 2 transfer runs beside the 8 x 3 disturb transients (the engine
    starts a worker process per concurrent run)."""
    from concurrent.futures import ThreadPoolExecutor
    mac = mac_study(params, engine)
    read = read_energy(params, engine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        tr = pool.submit(transfer, params, engine)
        dist = disturb_events(params, engine, t_pulses)
        tr = tr.result()
    return ArrayResult(mac, read, dist, tr, scaling(params, engine, scaling_sizes), params)


def section(params: ParamSet, engine: Engine, out_dir: Path) -> Section:
    r = run(params, engine)
    figs = r.plot(Path(out_dir))
    return Section("2T1D array: MAC, programming, energy, scaling", describe(r), figs,
                   r.summary(), table_rows(r))


def table_rows(r: ArrayResult) -> list[tuple[str, str, str]]:
    rd, tr = r.read, r.transfer
    prog = next(e for e in r.disturb if e.name == "I program")
    return [
        ("MAC rel. error, parasitics (8x3)", f"{r.mac_error:.2e}", "<= 2 % (goal)"),
        ("MAC rel. error, ideal wires", f"{r.mac_error0:.2e}", "<= 0.5 % (goal)"),
        ("frozen vs full read", f"{rd.frozen_vs_full:.1e}", "<= 0.1 %"),
        ("energy per MAC (input drivers)", f"{rd.per_mac_fJ:.3g} fJ", "-"),
        ("array TOPS/W (inputs only / with TIA)",
         f"{rd.tops_per_w:.3g} / {rd.tops_per_w_with_tia:.3g}",
         "1151 training, 111.86 inference (22 nm projection)"),
        ("read latency (0.1 %)", f"{rd.latency_s * 1e9:.1f} ns", "-"),
        ("max half-select disturb", f"{r.max_disturb:.1e} of the P/Ps window",
         "< 1 % of window"),
        ("I program energy (all array drivers)", f"{prog.total_energy_J * 1e12:.2f} pJ",
         "3.4 pJ (device alone)"),
        ("T-to-I transfer error", f"{tr.error * 100:+.2f} %", "-"),
        ("128x128 frozen read", "see make bench (benchmarks/array_bench.py)", "< 30 s"),
    ]


def describe(r: ArrayResult) -> str:
    params = r.params
    a, op = params.array, params.operation
    w = A.Wiring.from_params(a)
    rd, tr = r.read, r.transfer
    prog = next(e for e in r.disturb if e.name == "I program")
    erase = next(e for e in r.disturb if e.name == "I erase")
    wl_on, wl_off = A.selection_voltages(params, [op.program_V])
    sel = params.selector
    c_gc = 8.8541878128e-12 * sel.eps_ox / (sel.t_ox_nm * 1e-9) * sel.w_um * sel.l_um * 1e-12
    e_kind = ", ".join(f"{k} {v * 1e12:.2f} pJ" for k, v in sorted(prog.energy_J.items()))
    sc = r.scaling
    steps_uS = float(np.median(np.diff(tr.fine_g_S))) * 1e6
    par_times = ", ".join(f"{rr}x{cc}: {t:.2f} s" for (rr, cc), t in zip(sc.sizes, sc.sim_s))
    ideal_times = ", ".join(f"{t:.2f} s" for t in sc.sim0_s)
    return f"""
2T1D pseudo-crossbar (`spicefet/netlist/array.py`; its docstring documents our reading of the
paper's 8 x 3 array: word lines along columns (T and I: 6), bit lines along rows (8), input
lines in1/in2 down the L1 columns, hidden nodes h1..h8 along rows joining the L1 sources and
the L2 drains, one output line down the L2 column; differential pairs formed by row pairs).
Each cell: duplex FeFET (`duplex_fefet`) with T- and I-selectors (`mos2sel`): bit line ->
selector drain, word line -> selector gate, selector source -> FeFET gate (via); FeFET drain on
an input (or hidden) line, source on a hidden (or output) line. Wires: one segment per
{a.pitch_um:g} um pitch, {a.w_line_um:g} um wide: M1 (9 nm Pt) {w.r_seg_ohm['m1']:g} ohm,
M2 {w.r_seg_ohm['m2']:g} ohm, M3 (35 nm Pd) {w.r_seg_ohm['m3']:g} ohm and
{w.c_seg_F['m1'] * 1e15:.3g} fF per segment; vias {a.r_via_ohm:g} ohm; read lines end in a TIA
(open-loop gain {a.tia_gain:g}, GBW {a.tia_gbw_Hz:.3g} Hz, {a.r_tia_ohm:g} ohm ||
{a.c_tia_fF:g} fF). Geometry and sheet resistances are our assumptions (the paper names the
metals, not their dimensions); the MAC error with parasitics scales with them.

**MAC** (frozen states: seeded I weights, conductances uniform over the I range; {N_VECTORS}
vectors per phase, V_read = {op.read_vd_V:g} V). Relative error ||I - I_ideal|| / ||I_ideal||
against the ideal sum of the cells' currents measured alone at the same bias: L1
{r.mac.error('L1'):.2e}, L2 {r.mac.error('L2'):.2e} with parasitics, almost all of it the IR
drop along the M1 input lines (9 nm Pt, each feeding 8 cells; with M1 alone ideal the L1 error
falls to ~1e-3). The error is proportional to the assumed wire resistance: with wire and via
resistance x{', x'.join(f'{f:g}: {r.mac.scaled_error(f):.2e}' for f in sorted(r.mac.scaled))}
(worse phase). {r.mac.error('L1', False):.2e} /
{r.mac.error('L2', False):.2e} with ideal wires and vias (finite TIA gain only). The frozen
read netlist reproduces the full netlist (duplex FeFETs with 2 x 32 domains, selectors, all
lines) to {rd.frozen_vs_full:.1e}.

**Energy and latency** (full 8 x 3 netlist, L1 read, in1 = in2 = {op.read_vd_V:g} V, I word
lines at the read select level, bit lines at {op.read_vg_V:g} V): the hidden-node currents
settle to 0.1 % in {rd.latency_s * 1e9:.1f} ns (TIA Rf*Cf = {a.r_tia_ohm * a.c_tia_fF * 1e-6:.1f}
ns). The input drivers deliver {rd.energy_in_J * 1e15:.3g} fJ over a read cycle as short as
that latency (rise, settle, fall and discharge: cell conduction, wire and via losses, charging
of lines and device capacitances): {rd.per_mac_fJ:.3g} fJ per multiply-accumulate,
**{rd.tops_per_w:.3g} TOPS/W** (2 ops per cell, 16 active cells). The TIA feedback networks
take another
{rd.energy_tia_J * 1e15:.3g} fJ ({rd.tops_per_w_with_tia:.3g} TOPS/W with them). Not counted:
op-amp quiescent power, ADC, sample-and-hold, drivers' internal losses, word-line and bit-line
set-up (static during reads). The paper projects {PAPER_TOPS_W['training_post_layout']:g}
TOPS/W (training, post-layout; {PAPER_TOPS_W['training_pre_layout']:g} pre-layout) and
{PAPER_TOPS_W['inference']:g} TOPS/W (inference) for a 22 nm cell with peripheral circuits and
larger bit-line voltages. Ours is the as-fabricated 3 um device in an 8 x 3 array at 0.1 V,
array only: the energy is set by the uA read current over the TIA's settling time and by the
large device capacitances (the 30 um2 floating gate overlapping the contacts) charged each
read; the number is not a like-for-like comparison, only the same order of magnitude.

**Programming** (8 x 3, full model, cell (1,1)): bit-line pulse; the selected word line at
{wl_on:g} V, the others at {wl_off:g} V (highest bit-line level + Vt + {a.wl_overdrive_V:g} V /
lowest level + Vt - {a.wl_margin_V:g} V); drains and sources grounded; word lines static
during the burst. I program (+{op.program_V:g} V, {op.pulse_s * 1e9:g} ns): swing
{prog.selected_swing:.3f} of P/Ps, 90 % in {prog.switch_time_s * 1e9:.2f} ns through the
selector; energy from all drivers over the pulse {prog.total_energy_J * 1e12:.2f} pJ ({e_kind});
the device alone needs ~3.4 pJ. Nearly all of it is bit-line energy, and most of that is the
selected selector: its gate-to-channel capacitance ({c_gc * 1e12:.2f} pF, W x L =
{sel.w_um:g} x {sel.l_um:g} um on {sel.t_ox_nm:g} nm HfO2) sits between the static word line and
a channel that follows the bit line, so each pulse swings it by the pulse amplitude (up to
C*V^2 = {c_gc * op.program_V ** 2 * 1e12:.0f} pJ); a narrower selector or a word-line pulse
that follows the bit line would cut it. Erase:
{erase.total_energy_J * 1e12:.2f} pJ. Largest |dP/Ps| of any unselected segment in the three
events (I program, I erase, T potentiate + depress): {max(e.max_unselected for e in r.disturb):.1e},
i.e. {r.max_disturb:.1e} of the P/Ps window: the deselected selectors isolate the gates, and
same-column cells have their gates held at 0 V through their own bit lines.

**T-to-I transfer** (2 x 2, full model, cell (1,1)): {len(tr.g_train_S)} T potentiation pulses
give a trained read of {tr.target_S * 1e6:.3f} uS; T reset (one {-op.program_V:g} V pulse)
and the word-line switch ({a.wl_edge_ns:g} ns edges) leave {tr.g_switched_S:.1e} S;
I write-verify (staircase, stop at the first read >= {(1 - tr.tolerance) * 100:.0f} % of the
target) ends at {tr.achieved_S * 1e6:.3f} uS ({tr.error * 100:+.2f} %) after {tr.chosen + 1}
fine pulses. The staircase steps the state in increments of ~{steps_uS:.2f} uS near the
target (accumulative switching near threshold), which bounds the transfer precision.
Other cells' largest |dP/Ps| over the whole sequence: {tr.wl_switch_disturb:.1e}.

**Scaling** (frozen MAC read, this run, wall time): with parasitics {par_times}
(growth exponent {sc.exponent():.2f}); ideal wires {ideal_times}
(exponent {sc.exponent('sim0'):.2f}); generation exponent {sc.exponent('gen'):.2f}. `make bench`
(benchmarks/array_bench.py) runs 8x3 .. 128x128 with and without wire resistance: the wire
network is a 2-D grid, whose sparse LU (ngspice 39's Sparse 1.3, no KLU in the Debian build)
dominates at 128 x 128.
"""
