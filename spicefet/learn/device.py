"""The T-type synapse as training sees it: a potentiation pulse table measured with ngspice,
the paper's update rule (identical pulses, no verify, a quarter-pulse dead zone) and the two
variation models (Methods Eq. 2-5).

Why potentiation only
---------------------
Each weight is a differential pair ``W = (G+ - G-)/g_unit``. A positive change potentiates
G+, a negative one potentiates G- (identical ``operation.t_pot_V`` pulses on the T gate,
through the cell's bit line and T word line). The film model has return-point memory
(``models/ferroelectric.lib``): after a run of depression pulses, the next potentiation pulse
restores the earlier state in one step (measured with ngspice: `reversal_check`), so a state
table for mixed up/down pulses would misstate the device. For potentiation-only sequences the
device's state after k identical pulses does not depend on when they came (reads at Vg = 0 leave
it unchanged: the array's measured half-select/read disturb is ~1e-15 of the swing), so the
table of states after k pulses *is* the simulated device, pulse by pulse.

The table
---------
`measure_table` runs one full-model transient of a 1 x 1 array (duplex FeFET, both selectors,
bit/word/input/output lines with parasitics): the T gate starts at ``T_START_P0`` with the I gate
erased, then `n` identical potentiation pulses, each followed by an array read. After every
pulse the cell's frozen state (T-segment P/Ps and floating-gate charge, exact, see
`array.extract_state`) and its read conductance are recorded. A cell's state during training is
a real-valued pulse index ``k``; its frozen state is interpolated between table rows.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ..engine import Engine
from ..errors import ValidationError
from ..experiments.multilevel import T_START_P0
from ..netlist import array as A
from ..netlist.fefet_benches import fefet_pulse_train
from ..netlist.stimuli import sample
from ..params import ParamSet

N_TABLE = 384            # potentiation pulses in the table (training uses far fewer per cell)
DEAD_ZONE = 0.25         # paper: no update below a quarter of one pulse's average change
MAX_PULSES = 16          # pulses per cell per update (caps a runaway gradient step)


@dataclass(frozen=True)
class PulseTable:
    """States after k = 0..n identical potentiation pulses on the T gate of one cell."""
    g_S: np.ndarray          # read conductance (array read, sensed current / V_read)
    pm_t: np.ndarray         # T-segment P/Ps
    q_fg_t_C: np.ndarray     # T-segment floating-gate charge (C)
    i_state: A.SegmentState  # the erased I segment during training
    amplitude_V: float

    @property
    def n(self) -> int:
        return len(self.g_S) - 1

    @property
    def mean_step_S(self) -> float:
        """Average conductance change of one pulse over the table."""
        return float((self.g_S[-1] - self.g_S[0]) / self.n)

    def g_at(self, k) -> np.ndarray:
        return np.interp(k, np.arange(self.n + 1), self.g_S)

    def k_at(self, g_S) -> np.ndarray:
        """Pulse index of conductance `g_S` (inverse of `g_at`; the table is monotonic)."""
        return np.interp(g_S, self.g_S, np.arange(self.n + 1))

    def cell_state(self, k: float) -> A.CellState:
        idx = np.arange(self.n + 1)
        t = A.SegmentState(float(np.interp(k, idx, self.pm_t)),
                           float(np.interp(k, idx, self.q_fg_t_C)))
        return A.CellState(t, self.i_state)

    def to_json(self) -> str:
        return json.dumps({"g_S": self.g_S.tolist(), "pm_t": self.pm_t.tolist(),
                           "q_fg_t_C": self.q_fg_t_C.tolist(), "amplitude_V": self.amplitude_V,
                           "i_pm": self.i_state.pm, "i_q_fg_C": self.i_state.q_fg_C})


def measure_table(params: ParamSet, engine: Engine, n: int = N_TABLE) -> PulseTable:
    """Potentiation table of the T gate, simulated through a 1 x 1 array (module docstring)."""
    op = params.operation
    layout = A.pseudo_crossbar(1, 1)
    wiring = A.Wiring.from_params(params.array)
    circuit, timing = A.program_circuit(params, layout, wiring, (0, 0), "T", [op.t_pot_V] * n,
                                        p0_t=T_START_P0, p0_i=-1.0, name="learn_t_table",
                                        max_step_s=2 * op.t_edge_s)
    res = engine.run(circuit.netlist)
    reads = np.concatenate([[timing.starts_s[0] - 1e-9], timing.reads_s])
    states = [A.extract_state(params, circuit, res, t).cells[(0, 0)] for t in reads]
    g = np.array([float(np.interp(t, res["time"], circuit.sense_current(res, "out1")))
                  for t in reads[1:]]) / op.read_vd_V
    # before the first pulse the input line is not at the read level: take the frozen read
    g0 = _frozen_g(params, engine, states[0])
    g = np.concatenate([[g0], g])
    if not np.all(np.diff(g) > 0):
        bad = int(np.argmin(np.diff(g)))
        raise ValidationError(f"T-gate potentiation table is not monotonic at pulse {bad + 1} "
                              f"(G {g[bad]:.4g} -> {g[bad + 1]:.4g} S); check operation.t_pot_V")
    return PulseTable(g, np.array([s.t.pm for s in states]),
                      np.array([s.t.q_fg_C for s in states]), states[-1].i, op.t_pot_V)


def _frozen_g(params: ParamSet, engine: Engine, state: A.CellState) -> float:
    layout = A.pseudo_crossbar(1, 1)
    c = A.frozen_read(params, layout, A.ArrayState({(0, 0): state}),
                      A.Wiring.from_params(params.array), {"in1": params.operation.read_vd_V},
                      name="learn_t_table_g0")
    return float(c.sense_current(engine.run(c.netlist), "out1")[0]) / params.operation.read_vd_V


def reversal_check(params: ParamSet, engine: Engine, n: int = 32) -> dict:
    """Why updates are potentiation-only: `n` potentiation, `n` depression, then one
    potentiation pulse on one T gate (full model). Returns the conductances and the fraction of
    the depression run that the single potentiation pulse undoes (1 = all of it)."""
    op = params.operation
    amps = [op.t_pot_V] * n + [op.t_dep_V] * n + [op.t_pot_V]
    net, train = fefet_pulse_train(params, amps, params.duplex.ratio_t, T_START_P0,
                                   op.t_pulse_s, op.t_edge_s, op.t_period_s,
                                   max_step_s=2 * op.t_edge_s, name="learn_reversal")
    r = engine.run(net)
    g = sample(r["time"], -r["i(vd)"], train.reads_s) / op.read_vd_V
    top, bottom, after = g[n - 1], g[2 * n - 1], g[2 * n]
    return {"g_top_S": float(top), "g_after_depression_S": float(bottom),
            "g_after_one_pot_S": float(after),
            "undone_fraction": float((after - bottom) / (top - bottom))}


# ============================================================================ update rule
def pulse_counts(delta_g_S: np.ndarray, mean_step_S: float, dead_zone: float = DEAD_ZONE,
                 max_pulses: int = MAX_PULSES) -> np.ndarray:
    """Identical pulses for a wanted conductance change: ``round(|dG|/step)``, at least one when
    |dG| reaches `dead_zone` of a pulse's average change, none below it; capped."""
    ratio = np.abs(np.asarray(delta_g_S, dtype=float)) / mean_step_S
    n = np.where(ratio >= dead_zone, np.maximum(1, np.rint(ratio)), 0)
    return np.minimum(n, max_pulses).astype(int)


def pair_pulses(delta_w: np.ndarray, g_unit_S: float, mean_step_S: float,
                dead_zone: float = DEAD_ZONE, max_pulses: int = MAX_PULSES):
    """(pulses on G+, pulses on G-) for weight changes `delta_w` (potentiation only)."""
    n = pulse_counts(np.asarray(delta_w) * g_unit_S, mean_step_S, dead_zone, max_pulses)
    pos = np.asarray(delta_w) > 0
    return np.where(pos, n, 0), np.where(pos, 0, n)


def apply_pulses(table: PulseTable, k: np.ndarray, n: np.ndarray, sigma_u: float,
                 rng: np.random.Generator | None) -> np.ndarray:
    """New pulse indices after `n` pulses from `k`. Update variation (Eq. 4-5): the change
    of conductance is scaled by ``1 + N(0, sigma_u^2)`` per cell and update (off: exact)."""
    k = np.asarray(k, dtype=float)
    k_nominal = np.minimum(k + n, table.n)
    if sigma_u <= 0 or rng is None:
        return np.where(n > 0, k_nominal, k)
    g0 = table.g_at(k)
    dg = (table.g_at(k_nominal) - g0) * (1.0 + sigma_u * rng.standard_normal(k.shape))
    g_new = np.clip(g0 + np.maximum(dg, 0.0), table.g_S[0], table.g_S[-1])
    return np.where(n > 0, table.k_at(g_new), k)


def table_from_dict(d: dict) -> PulseTable:
    """Inverse of `PulseTable.to_json` (after ``json.loads``), validated."""
    g = np.asarray(d["g_S"], dtype=float)
    pm, q = np.asarray(d["pm_t"], dtype=float), np.asarray(d["q_fg_t_C"], dtype=float)
    if g.ndim != 1 or g.size < 2 or pm.shape != g.shape or q.shape != g.shape \
            or not np.all(np.isfinite(g)) or not np.all(np.diff(g) > 0):
        raise ValueError("pulse table must hold >= 2 increasing, finite conductances")
    return PulseTable(g, pm, q, A.SegmentState(float(d["i_pm"]), float(d["i_q_fg_C"])),
                      float(d["amplitude_V"]))
