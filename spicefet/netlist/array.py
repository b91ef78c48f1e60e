"""2T1D pseudo-crossbar arrays of duplex FeFETs: layout, wiring with parasitics, cell models.

The cell (targets A1, paper Fig. 1c/1d)
---------------------------------------
A cell (r, c) holds a duplex FeFET (``duplex_fefet d gt gi s``) and two pure-dielectric
selectors (``mos2sel``): the *T-selector* has its drain on the row's **bit line**, its gate on
the column's **T word line** and its source on the FeFET's T gate (through a via); the
*I-selector* likewise with the **I word line** and the I gate. The FeFET drain sits on an
**input line** (``V_in``: forward input and backprop read), its source on an **output line**
(currents summed). So a selected word line connects the bit line to one gate of every cell in
its column, and a bit-line pulse programs only the cell where the selected word line crosses
it; the FeFET drain and source are grounded while pulsing (paper Methods).

The paper's 8 x 3 array (targets A2, Fig. 3a, Methods)
------------------------------------------------------
Counts in the paper: 8 x 3 cells, 8 bit lines, 8 hidden nodes, 6 word lines, 2 input lines,
1 output line; L1 = 2 x 4 and L2 = 4 x 1 weights, each a differential pair of cells. Our
reading (`paper_8x3`), which reproduces every count with 24 = 16 + 8 cells:

* 3 columns x 8 rows. Word lines run along columns: T and I per column = **6 word lines**.
  Bit lines run along rows: **8 bit lines**; a bit line reaches the 3 cells of its row.
* Columns 1 and 2 hold L1: **input lines** ``in1``, ``in2`` (M1) run down them and drive
  the FeFET drains. The FeFET sources of row r (columns 1 and 2) join on **hidden node** ``h{r}``
  (M3, as the paper's Methods say), so ``I(h_r) = G_r1*V_in1 + G_r2*V_in2``; hidden neuron k
  takes the differential pair ``h(2k-1) - h(2k)``: **8 hidden nodes** for 4 neurons x (+, -).
* Column 3 holds L2: its FeFET drains sit on the same hidden nodes and its sources on the single
  **output line** ``out`` (M1) running down column 3. In the L2 phase the hidden nodes are
  driven with the neuron activations, ``+a_k*V_read`` on h(2k-1) and ``-a_k*V_read`` on h(2k),
  so ``I(out) = sum_k a_k*V_read*(G_(2k-1),3 - G_(2k),3)``: the differential weight is formed
  by the drive polarity on the one output line.
* A hidden node is therefore *read* (virtual ground, transimpedance amplifier) in the L1 phase
  and *driven* in the L2 phase, as a probe-card measurement through a switch matrix does it; we
  simulate the two phases as two reads (`l1_drives`, `l2_drives` give their drives). The draft this
  module replaces gave L2 separate drive lines ``a1..a8``; that needs 16 hidden lines, not 8.
  During L2 the input lines are grounded, so L1 cells carry current from the hidden drivers to
  ground; it loads the drivers but does not reach ``out``.
* Pads: input lines and ``out`` are driven/read at row 1; bit lines and hidden nodes at the
  right edge (next to column 3); word lines at row 1.

Wiring and parasitics
---------------------
Every line is a chain of wire segments, one per cell pitch, from its pad end: node
``{line}_0`` is the pad, ``{line}_k`` the tap of the k-th cell along it; each segment has
``r_seg`` in series and ``c_seg`` to ground, by metal (M1: input/output lines, M2: word lines,
M3: bit lines and hidden nodes; ``ArrayParams``). A device terminal on an M1/M2 line meets it
through a via (``r_via_ohm``); terminals on M3 (the source/drain metal itself) need none, and
the selector source reaches the FeFET gate (M1 back gate) through one via. Zero resistance
*merges* nodes (no 0-ohm resistor is ever written); zero capacitance writes no capacitor.
Read lines end in a transimpedance amplifier: a single-pole op-amp (open-loop gain
``tia_gain``, gain-bandwidth ``tia_gbw_Hz``) with feedback ``r_tia_ohm`` || ``c_tia_fF``;
the pad is its virtual ground (error simulated, not assumed) and the line current is
``i(vs_{line})`` (a 0-V sense source between the pad and the amplifier input). Drivers are
ideal sources ``v_{line}``; the current they deliver is ``-i(v_{line})``.

Cell models
-----------
``full``: ``duplex_fefet`` + two ``mos2sel`` (the switching model: 2 x 32 Preisach domains per
cell); used for programming, disturb, transfer and energy transients.

``frozen``: a read-only model, exact for reads. After programming, what a segment holds is its
polarisation P and its floating-gate charge Q_FG (both conserved at read bias); the read
current depends on them only through ``Q = Q_FG + A_FE*P``. The frozen segment writes the
floating-gate charge balance of ``mfmis_fefet`` as one equation
``(C_fe + C_ov)*V_fg + Q_ch(V_fg, V_si, V_di) - C_fe*V_g - C_ov*(V_d + V_s)/2 = Q`` (a B current
source on the FG node) and the channel current with the same expressions as ``mos2fet``
(constants computed here from the same parameters, see `_Segment`), contact resistances
included. It has no domains, no selectors (at DC the FeFET gate sits at the bit-line voltage:
the selector carries no current), no bit or word lines. A segment whose channel current at
every read bias stays below 1e-6 of an on segment's scale ``ispec*V/u`` (an erased I gate, the
parked T gate: ~1e-16 A against ~1e-6 A) is written as its ``g_off`` alone; with one
conducting segment, via and contact resistance are one resistor and ``g_off`` moves inside
the contacts (a 1e-10 relative change of a 1e-14 A current). Frozen
states come either from a full transient (`extract_state`: Q from the simulated FG, channel
charge and terminal voltages, exact) or nominally (`nominal_state`: P = pm*Ps with the
neutral as-fabricated FG charge, the state a device programmed from the erased state holds).
Note that a *full* netlist started at an on-state ``p0`` gets its FG charge from the
operating-point pin of ``fefet.lib`` (within ~20 mV when the channel is on), so compare a full
run with the frozen state extracted from it, not with the nominal one. Measured: frozen and
full reads of the same state agree to ~1e-8 (tests ask for 1e-3).

Operations (full model)
-----------------------
`program_circuit`: pulses on the selected cell's bit line; its word line (T or I) at the
*select* level ``max(bit-line levels, 0) + Vt_sel + wl_overdrive_V``, every other word line at
the *deselect* level ``min(levels, 0) + Vt_sel - wl_margin_V`` (an n-type MoS2 selector passes
the highest level and blocks the lowest); other bit lines, input and hidden lines at 0 V,
outputs at virtual ground, a read after every pulse. Word lines are static during a burst:
a selector's channel charge is ~100x what moves an I gate by 1 V, so fast word-line edges
inject enough charge to write the cells on that word line (seen in simulation with 1-ns edges);
`transfer_circuit` switches them with ``wl_edge_ns`` edges. `full_read`: one MAC read cycle.
`transfer_circuit`: train T, reset T, switch word lines, ISPP on I with reads (write-verify is
decided on the reads afterwards; the state after pulse k does not depend on later pulses).

Size and speed
--------------
Frozen reads scale to 128 x 128 (``benchmarks/array_bench.py``). With wire resistance on both
line directions the network is a 2-D resistor grid; ngspice 39's Sparse 1.3 LU (the Debian
build has no KLU) orders it with heavy fill, which dominates the read time at 128 x 128. With
ideal wires (merged nodes) the same read is several times faster. The full model carries
2 x 32 domain subcircuits per cell (~270 unknowns against ~5 for a frozen cell).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

from ..errors import ValidationError
from ..params import ArrayParams, ParamSet
from .core import (Dc, Expr, Netlist, Op, Pulse, Pwl, Sweep, Tran, check_name, check_number,
                   fmt)
from .devices import FEFET_LIBS, duplex, selector

Cell = tuple[int, int]          # (row, col), 0-based
Tap = tuple[Cell, str]          # (cell, pin)
PINS = ("d", "s", "bl", "wlt", "wli")   # FeFET drain, FeFET source, bit line, T/I word line
KINDS = ("input", "output", "hidden", "bit", "wlt", "wli")
METALS = ("m1", "m2", "m3")
SEGMENTS = ("t", "i")
EPS0 = 8.8541878128e-12
KQ = 1.380649e-23 / 1.602176634e-19
_RESERVED = re.compile(r"n[0-9]")  # cell-internal nodes are n{r}_{c}_...


# ============================================================================ layout
@dataclass(frozen=True)
class Line:
    """A line of the array: its taps (cell, pin) in order from the pad end, and its metal."""
    name: str
    kind: str
    metal: str
    taps: tuple[Tap, ...]

    def __post_init__(self) -> None:
        check_name(self.name, "line name")
        if _RESERVED.match(self.name):
            raise ValidationError(f"line name {self.name!r} is reserved (n<digit>... names cells)")
        if self.kind not in KINDS:
            raise ValidationError(f"line {self.name}: unknown kind {self.kind!r}; kinds: "
                                  f"{', '.join(KINDS)}")
        if self.metal not in METALS:
            raise ValidationError(f"line {self.name}: unknown metal {self.metal!r}")
        if not self.taps:
            raise ValidationError(f"line {self.name} has no taps")
        for _, pin in self.taps:
            if pin not in PINS:
                raise ValidationError(f"line {self.name}: unknown pin {pin!r}")


def check_size(rows: object, cols: object) -> tuple[int, int]:
    """Rows and columns as positive integers (a float that is an integer is accepted)."""
    out = []
    for what, v in (("rows", rows), ("cols", cols)):
        x = check_number(v, f"array {what}")
        if x != int(x) or x < 1:
            raise ValidationError(f"array {what} must be a positive integer, got {v!r}")
        if x > 4096:
            raise ValidationError(f"array {what} = {int(x)} exceeds 4096")
        out.append(int(x))
    return out[0], out[1]


@dataclass(frozen=True)
class Layout:
    """Which cell sits on which line. Every cell has exactly one line for each pin."""
    rows: int
    cols: int
    lines: tuple[Line, ...]
    name: str = "array"

    def __post_init__(self) -> None:
        check_size(self.rows, self.cols)
        check_name(self.name, "layout name")
        names = [ln.name for ln in self.lines]
        if len(set(names)) != len(names):
            raise ValidationError("layout: line names must be unique")
        seen: dict[Tap, str] = {}
        for line in self.lines:
            for cell, pin in line.taps:
                r, c = cell
                if not (0 <= r < self.rows and 0 <= c < self.cols):
                    raise ValidationError(f"line {line.name}: cell {cell} outside "
                                          f"{self.rows} x {self.cols}")
                if (cell, pin) in seen:
                    raise ValidationError(f"cell {cell} pin {pin} is on lines "
                                          f"{seen[(cell, pin)]} and {line.name}")
                seen[(cell, pin)] = line.name
        missing = [(cell, pin) for cell in self.cells() for pin in PINS if (cell, pin) not in seen]
        if missing:
            cell, pin = missing[0]
            raise ValidationError(f"layout: cell {cell} pin {pin} is on no line "
                                  f"({len(missing)} terminals unconnected)")

    def cells(self) -> list[Cell]:
        return [(r, c) for r in range(self.rows) for c in range(self.cols)]

    def of_kind(self, *kinds: str) -> list[Line]:
        return [ln for ln in self.lines if ln.kind in kinds]

    def line(self, name: str) -> Line:
        for ln in self.lines:
            if ln.name == name:
                return ln
        raise ValidationError(f"layout {self.name} has no line {name!r}; lines: "
                              f"{', '.join(ln.name for ln in self.lines)}")

    def tap(self, cell: Cell, pin: str) -> tuple[Line, int]:
        """The line through `cell`'s `pin` and the cell's 1-based position along it."""
        return self._index()[(cell, pin)]

    def _index(self) -> dict[Tap, tuple[Line, int]]:
        idx = self.__dict__.get("_idx")
        if idx is None:
            idx = {tap: (ln, k) for ln in self.lines for k, tap in enumerate(ln.taps, 1)}
            object.__setattr__(self, "_idx", idx)
        return idx


def pseudo_crossbar(rows: int, cols: int) -> Layout:
    """The generic R x C array: per column an input line (drains, M1) and T/I word lines (M2);
    per row an output line (sources, M1) and a bit line (M3). ``I_r = sum_c G_rc*V_c``.
    Inputs and word lines are driven from row 0; outputs and bit lines have their pads beyond
    the last column, so cell (R-1, 0) is the farthest from both pads."""
    rows, cols = check_size(rows, cols)
    col = [tuple((r, c) for r in range(rows)) for c in range(cols)]
    row_far = [tuple((r, c) for c in reversed(range(cols))) for r in range(rows)]
    lines = ([Line(f"in{c + 1}", "input", "m1", tuple((x, "d") for x in col[c]))
              for c in range(cols)]
             + [Line(f"out{r + 1}", "output", "m1", tuple((x, "s") for x in row_far[r]))
                for r in range(rows)]
             + [Line(f"bl{r + 1}", "bit", "m3", tuple((x, "bl") for x in row_far[r]))
                for r in range(rows)]
             + [Line(f"wlt{c + 1}", "wlt", "m2", tuple((x, "wlt") for x in col[c]))
                for c in range(cols)]
             + [Line(f"wli{c + 1}", "wli", "m2", tuple((x, "wli") for x in col[c]))
                for c in range(cols)])
    return Layout(rows, cols, tuple(lines), name=f"xbar{rows}x{cols}")


def paper_8x3() -> Layout:
    """The paper's 8 x 3 TIIO array for the 2-4-1 network (module docstring for the mapping)."""
    rows, cols = 8, 3
    col = [tuple((r, c) for r in range(rows)) for c in range(cols)]
    lines = ([Line("in1", "input", "m1", tuple((x, "d") for x in col[0])),
              Line("in2", "input", "m1", tuple((x, "d") for x in col[1]))]
             + [Line(f"h{r + 1}", "hidden", "m3", (((r, 2), "d"), ((r, 1), "s"), ((r, 0), "s")))
                for r in range(rows)]
             + [Line("out", "output", "m1", tuple((x, "s") for x in col[2]))]
             + [Line(f"bl{r + 1}", "bit", "m3", tuple(((r, c), "bl") for c in (2, 1, 0)))
                for r in range(rows)]
             + [Line(f"wlt{c + 1}", "wlt", "m2", tuple((x, "wlt") for x in col[c]))
                for c in range(cols)]
             + [Line(f"wli{c + 1}", "wli", "m2", tuple((x, "wli") for x in col[c]))
                for c in range(cols)])
    return Layout(rows, cols, tuple(lines), name="paper8x3")


# ============================================================================ wiring
@dataclass(frozen=True)
class Wiring:
    """Per-segment parasitics by metal, via resistance and the readout amplifier."""
    r_seg_ohm: Mapping[str, float]
    c_seg_F: Mapping[str, float]
    r_via_ohm: float
    tia_gain: float
    tia_gbw_Hz: float
    r_tia_ohm: float
    c_tia_F: float = 0.0

    def __post_init__(self) -> None:
        for what, table in (("wire resistance", self.r_seg_ohm),
                            ("wire capacitance", self.c_seg_F)):
            if set(table) != set(METALS):
                raise ValidationError(f"{what} needs a value for each of {', '.join(METALS)}")
            for metal, v in table.items():
                if check_number(v, f"{what} of {metal}") < 0:
                    raise ValidationError(f"{what} of {metal} = {v!r} must be >= 0")
        if check_number(self.r_via_ohm, "via resistance") < 0:
            raise ValidationError(f"via resistance = {self.r_via_ohm!r} must be >= 0")
        for what, v in (("TIA gain", self.tia_gain), ("TIA gain-bandwidth", self.tia_gbw_Hz),
                         ("TIA feedback resistance", self.r_tia_ohm)):
            if check_number(v, what) <= 0:
                raise ValidationError(f"{what} = {v!r} must be > 0")
        if check_number(self.c_tia_F, "TIA feedback capacitance") < 0:
            raise ValidationError(f"TIA feedback capacitance = {self.c_tia_F!r} must be >= 0")

    @classmethod
    def from_params(cls, a: ArrayParams, parasitics: bool = True) -> "Wiring":
        """Segment R = sheet resistance x pitch / width; segment C = c per length x pitch.
        Without `parasitics`: ideal wires and vias (the amplifier keeps its finite gain)."""
        squares = a.pitch_um / a.w_line_um
        sheet = {"m1": a.r_sheet_m1_ohm_sq, "m2": a.r_sheet_m2_ohm_sq, "m3": a.r_sheet_m3_ohm_sq}
        k = 1.0 if parasitics else 0.0
        return cls({m: k * sheet[m] * squares for m in METALS},
                   {m: k * a.c_line_fF_um * a.pitch_um * 1e-15 for m in METALS},
                   k * a.r_via_ohm, a.tia_gain, a.tia_gbw_Hz, a.r_tia_ohm, a.c_tia_fF * 1e-15)

    def scaled(self, factor: float) -> "Wiring":
        """Wire and via resistance (not capacitance) times `factor` (>= 0)."""
        if check_number(factor, "parasitic scale") < 0:
            raise ValidationError(f"parasitic scale = {factor!r} must be >= 0")
        return Wiring({m: v * factor for m, v in self.r_seg_ohm.items()}, dict(self.c_seg_F),
                      self.r_via_ohm * factor, self.tia_gain, self.tia_gbw_Hz, self.r_tia_ohm,
                      self.c_tia_F)

    def via(self, line: Line, pin: str) -> float:
        """Via resistance between `line` and a device pin (none on M3, the S/D metal)."""
        return 0.0 if line.metal == "m3" else self.r_via_ohm


# ============================================================================ states
@dataclass(frozen=True)
class SegmentState:
    """What one gate segment holds after programming: P/Ps and the floating-gate charge
    (coulombs, apart from the polarisation)."""
    pm: float
    q_fg_C: float


@dataclass(frozen=True)
class CellState:
    t: SegmentState
    i: SegmentState

    def seg(self, name: str) -> SegmentState:
        return self.t if name == "t" else self.i


@dataclass
class ArrayState:
    """Frozen states of every cell of a layout (read-only netlists are written from these)."""
    cells: dict[Cell, CellState]

    def pm(self, seg: str) -> np.ndarray:
        rows = 1 + max(r for r, _ in self.cells)
        cols = 1 + max(c for _, c in self.cells)
        out = np.full((rows, cols), np.nan)
        for (r, c), st in self.cells.items():
            out[r, c] = st.seg(seg).pm
        return out


def nominal_state(params: ParamSet, layout: Layout, pm_i, pm_t=None) -> ArrayState:
    """States with P/Ps = `pm_i` (I gate) and `pm_t` (T gate; default: parked off at
    ``duplex.p0_t_reset``) and the neutral FG charge ``duplex.q_fg0_fC``: exactly what a device
    programmed from the erased state holds. `pm_*` are scalars or (rows, cols) arrays."""
    shape = (layout.rows, layout.cols)
    pi = np.broadcast_to(np.asarray(pm_i, dtype=float), shape)
    pt = np.broadcast_to(np.asarray(params.duplex.p0_t_reset if pm_t is None else pm_t,
                                    dtype=float), shape)
    for what, arr in (("pm_i", pi), ("pm_t", pt)):
        if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > 1):
            raise ValidationError(f"{what} must be finite values in [-1, 1]")
    q0 = params.duplex.q_fg0_fC * 1e-15
    return ArrayState({(r, c): CellState(SegmentState(float(pt[r, c]), q0),
                                         SegmentState(float(pi[r, c]), q0))
                       for r, c in layout.cells()})


# ============================================================================ segment model
@dataclass(frozen=True)
class _Segment:
    """DC constants of one MFMIS gate segment of ``duplex_fefet``, computed with the formulas
    of models/mos2.lib (``mos2fet``) and models/fefet.lib (``mfmis_fefet``) from the same
    parameters `devices.duplex` passes; used to write frozen segments and to extract states."""
    ispec_A: float
    u_V: float
    vte_V: float
    qhalf_C: float
    rcon_ohm: float
    goff_S: float
    cfe_F: float
    cov_F: float
    afe_ps_C: float

    @classmethod
    def of(cls, params: ParamSet, seg: str) -> "_Segment":
        _, p = duplex(params, p0_t=0.0, p0_i=0.0)
        w, a_fe, a_de = p[f"w_{seg}_um"], p[f"a_fe_{seg}_um2"], p[f"a_de_{seg}_um2"]
        t_de = p["t_de_nm"] if "t_de_nm" in p else p["t_ox_nm"]   # the lib's name for the
        eps_de = p["eps_de"] if "eps_de" in p else p["eps_ox"]    # HfO2 layer changed once
        tk = p["temp_C"] + 273.15
        u = p["ss_mVdec"] * 1e-3 / (math.log(10) * KQ * 300) * KQ * tk
        cox = EPS0 * eps_de / (t_de * 1e-9)
        mu = p["mu_cm2Vs"] * 1e-4 * math.exp(-p["mu_temp_exp"] * math.log(tk / 300))
        aov = max(a_de - w * p["l_um"], 0.0)
        return cls(ispec_A=mu * cox * (w / p["l_um"]) * u * u, u_V=u,
                   vte_V=p["vt_V"] + p["dvt_dT_V_K"] * (tk - 300),
                   qhalf_C=0.5 * (w * 1e-6) * (p["l_um"] * 1e-6) * cox * u,
                   rcon_ohm=max(p["rc_ohm_um"] / w, 1e-3), goff_S=0.5 * p["g_off_S"],
                   cfe_F=EPS0 * p["eps_fe"] * a_fe * 1e-12 / (p["t_fe_nm"] * 1e-9),
                   cov_F=max(EPS0 * eps_de * aov * 1e-12 / (t_de * 1e-9), 1e-21),
                   afe_ps_C=a_fe * p["ps_uC_cm2"] * 1e-14)

    @staticmethod
    def sp(x):
        x = np.asarray(x, dtype=float)
        return np.log1p(np.exp(np.minimum(x, 40.0))) + np.maximum(x - 40.0, 0.0)

    def q_eff(self, st: SegmentState) -> float:
        return st.q_fg_C + self.afe_ps_C * st.pm

    def v_fg(self, q, vg: float, vd=0.0, vs=0.0) -> np.ndarray:
        """FG voltage from the charge balance with no channel current (V_di = V_d, V_si = V_s);
        vectorised over `q` (C)."""
        q = np.asarray(q, dtype=float)
        rhs = q + self.cfe_F * vg + 0.5 * self.cov_F * (vd + vs)
        lo, hi = np.full(q.shape, -200.0), np.full(q.shape, 200.0)
        for _ in range(64):  # bisection: the balance is monotonic in V_fg
            mid = 0.5 * (lo + hi)
            f = ((self.cfe_F + self.cov_F) * mid + self.qhalf_C
                 * (self.sp((mid - vs - self.vte_V) / self.u_V)
                    + self.sp((mid - vd - self.vte_V) / self.u_V)) - rhs)
            hi = np.where(f > 0, mid, hi)
            lo = np.where(f > 0, lo, mid)
        return 0.5 * (lo + hi)

    def channel_current(self, q, vg: float, vd: float, vs: float) -> np.ndarray:
        """Channel transport current (A, d -> s) without contact drops; vectorised over `q`."""
        v = self.v_fg(q, vg, vd, vs)

        def g(x):
            lv = self.sp(x)
            t = np.tanh(0.3039635509270133 * lv)
            return 0.5 * lv * lv + 3.289868133696453 * t / (1 + t)
        return self.ispec_A * (g((v - vs - self.vte_V) / self.u_V)
                               - g((v - vd - self.vte_V) / self.u_V))

    def conducts(self, q, vg: float, v_max: float) -> np.ndarray:
        """False where the channel current at every terminal bias within +-v_max stays below
        1e-6 of an on segment's scale ``ispec*v_max/u``: such a segment reads as its g_off
        alone. Vectorised over `q` (C)."""
        worst = np.max([np.abs(self.channel_current(q, vg, vd, vs))
                        for vd, vs in ((v_max, 0.0), (-v_max, 0.0), (0.0, v_max), (0.0, -v_max))],
                       axis=0)
        return worst >= 1e-6 * self.ispec_A * v_max / self.u_V

    def q_from_nodes(self, v_fg, qs, qd, vg, vd, vs):
        """Q = Q_FG + A_FE*P from simulated node voltages of a full segment (exact: the FG
        charge balance of ``mfmis_fefet``; ``qs``, ``qd`` are ``mos2fet``'s sp nodes)."""
        return ((self.cfe_F + self.cov_F) * v_fg + self.qhalf_C * (qs + qd)
                - self.cfe_F * vg - 0.5 * self.cov_F * (vd + vs))

    # -- expressions for the frozen netlist ------------------------------------------------
    def _sp_expr(self, fg: str, ch: str) -> str:
        x = f"((V({fg})-V({ch}))*{fmt(1 / self.u_V)}-{fmt(self.vte_V / self.u_V)})"
        return f"(ln(1+exp(min({x},40)))+max({x}-40,0))"

    @staticmethod
    def _gli_expr(lval: str) -> str:
        return (f"(0.5*{lval}*{lval}+3.289868133696453*tanh(0.3039635509270133*{lval})"
                f"/(1+tanh(0.3039635509270133*{lval})))")

    def channel_expr(self, fg: str, di: str, si: str, gain: float = 1.0) -> Expr:
        """Channel current; `gain` scales it (read variation, `frozen_read`)."""
        return Expr(f"{fmt(gain * self.ispec_A)}*({self._gli_expr(self._sp_expr(fg, si))}"
                    f"-{self._gli_expr(self._sp_expr(fg, di))})")

    def balance_expr(self, fg: str, di: str, si: str, vd: str, vs: str, vg_V: float,
                     q_C: float) -> Expr:
        """1e12 A per coulomb of charge-balance residual (1 mA per fC); `vd`, `vs` are
        expressions for the device-pin voltages."""
        k = 1e12
        const = k * (q_C + self.cfe_F * vg_V)
        return Expr(f"{fmt(k * (self.cfe_F + self.cov_F))}*V({fg})"
                    f"+{fmt(k * self.qhalf_C)}*({self._sp_expr(fg, si)}+{self._sp_expr(fg, di)})"
                    f"-{fmt(k * 0.5 * self.cov_F)}*({vd}+{vs})-({fmt(const)})")


# ============================================================================ building
@dataclass(frozen=True)
class Batch:
    """One DC level per point of a batched read: the line's driver follows the index source
    ``vidx`` (swept 0, 1, .. n-1 by `batch_sweep`) through a B-source ``pwl(V(idx), ...)``,
    so one ``.dc`` run reads n input vectors (every point an exact operating point)."""
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValidationError("a batched drive needs at least one value")
        for v in self.values:
            check_number(v, "batched drive value")

    def expr(self) -> Expr:
        vals = self.values if len(self.values) > 1 else self.values * 2
        return Expr("pwl(V(idx)," + ",".join(f"{k},{fmt(v)}" for k, v in enumerate(vals)) + ")")


BATCH_INDEX = "vidx"


def batch_sweep(n: int) -> Dc:
    """The `.dc` analysis of a batched read of `n` points (see `Batch`)."""
    return Dc((Sweep(BATCH_INDEX, 0, max(int(n) - 1, 0), 1),))


@dataclass(frozen=True)
class Drive:
    """A driven line: DC volts, a `Pulse`/`Pwl` waveform or a `Batch` of DC levels."""
    value: float | Pulse | Pwl | Batch


SENSE = "sense"


@dataclass
class ArrayCircuit:
    """A built array netlist with the node names needed to read its results."""
    netlist: Netlist
    layout: Layout
    wiring: Wiring
    model: str                               # "full" or "frozen"
    terminals: dict[Tap, str]                # device terminal node of each (cell, pin)
    gates: dict[tuple[Cell, str], str]       # FeFET gate node of each (cell, segment), full model
    sensed: tuple[str, ...]                  # lines read by a TIA: current i(vs_<line>)
    driven: tuple[str, ...]                  # lines with a driver: delivered current -i(v_<line>)
    meta: dict = field(default_factory=dict)

    @staticmethod
    def instance(cell: Cell) -> str:
        return f"xf_{cell[0]}_{cell[1]}"

    def sense_current(self, result, line: str) -> np.ndarray:
        """Current flowing from `line` into its amplifier (A)."""
        return result[f"i(vs_{line})"]

    def drive_current(self, result, line: str) -> np.ndarray:
        """Current delivered by the driver of `line` into the array (A)."""
        return -result[f"i(v_{line})"]


class _Builder:
    def __init__(self, netlist: Netlist, layout: Layout, wiring: Wiring, model: str):
        self.n, self.layout, self.w, self.model = netlist, layout, wiring, model
        self.terminals: dict[Tap, str] = {}
        self.gates: dict[tuple[Cell, str], str] = {}

    def line_node(self, line: Line, k: int) -> str:
        return f"{line.name}_{k}" if self.w.r_seg_ohm[line.metal] > 0 else f"{line.name}_0"

    def add_lines(self, lines: Iterable[Line]) -> None:
        for line in lines:
            r, c = self.w.r_seg_ohm[line.metal], self.w.c_seg_F[line.metal]
            for k in range(1, len(line.taps) + 1):
                if r > 0:
                    self.n.add(f"rw_{line.name}_{k}", (self.line_node(line, k - 1),
                                                       self.line_node(line, k)), r)
                if c > 0:
                    self.n.add(f"cw_{line.name}_{k}", (self.line_node(line, k), "0"), c)

    def add_ends(self, roles: Mapping[str, object]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        sensed, driven = [], []
        for name, role in roles.items():
            line = self.layout.line(name)
            end = self.line_node(line, 0)
            if role == SENSE:
                self._tia(name, end)
                sensed.append(name)
            elif isinstance(role, Drive) and isinstance(role.value, Batch):
                # 0-V source in series: its current is the delivered current, as for DC
                self.n.add(f"v_{name}", (end, f"{name}_bx"), 0.0)
                self.n.add(f"b_{name}", (f"{name}_bx", "0"), role.value.expr(), kind="V")
                if not any(e.name == BATCH_INDEX for e in self.n.elements):
                    self.n.add(BATCH_INDEX, ("idx", "0"), 0.0)
                driven.append(name)
            elif isinstance(role, Drive):
                self.n.add(f"v_{name}", (end, "0"), role.value)
                driven.append(name)
            else:
                raise ValidationError(f"line {name}: role must be a Drive or SENSE")
        return tuple(sensed), tuple(driven)

    def _tia(self, name: str, end: str) -> None:
        """Single-pole inverting op-amp with feedback R || C; its input is the virtual ground."""
        w, vg = self.w, f"{name}_vg"
        self.n.add(f"vs_{name}", (end, vg), 0.0)
        self.n.add(f"e_{name}", (f"{name}_oa", "0", "0", vg), w.tia_gain)
        r_pole = 1e3
        self.n.add(f"rp_{name}", (f"{name}_oa", f"{name}_op"), r_pole)
        self.n.add(f"cp_{name}", (f"{name}_op", "0"),
                   w.tia_gain / (2 * math.pi * r_pole * w.tia_gbw_Hz))
        self.n.add(f"eb_{name}", (f"{name}_o", "0", f"{name}_op", "0"), 1.0)
        self.n.add(f"rf_{name}", (vg, f"{name}_o"), w.r_tia_ohm)
        if w.c_tia_F > 0:
            self.n.add(f"cf_{name}", (vg, f"{name}_o"), w.c_tia_F)

    def terminal(self, cell: Cell, pin: str) -> str:
        """Device-side node of (cell, pin): the line tap, or a node behind a via."""
        line, k = self.layout.tap(cell, pin)
        tap = self.line_node(line, k)
        r_via = self.w.via(line, pin)
        if r_via > 0:
            node = f"n{cell[0]}_{cell[1]}_{pin}"
            self.n.add(f"rv_{cell[0]}_{cell[1]}_{pin}", (tap, node), r_via)
        else:
            node = tap
        self.terminals[(cell, pin)] = node
        return node

    # -- full cell ------------------------------------------------------------------------
    def full_cell(self, params: ParamSet, cell: Cell, p0_t: float, p0_i: float) -> None:
        r, c = cell
        d, s, bl = self.terminal(cell, "d"), self.terminal(cell, "s"), self.terminal(cell, "bl")
        gates = {}
        for seg, pin in (("t", "wlt"), ("i", "wli")):
            wl_line, k = self.layout.tap(cell, pin)
            wl = self.line_node(wl_line, k)
            gate = f"n{r}_{c}_g{seg}"
            if self.w.r_via_ohm > 0:
                src = f"n{r}_{c}_q{seg}"
                self.n.add(f"rv_{r}_{c}_g{seg}", (src, gate), self.w.r_via_ohm)
            else:
                src = gate
            sub, sp = selector(params)
            self.n.add(f"xs{seg}_{r}_{c}", (bl, wl, src), sub, **sp)
            gates[seg] = gate
            self.gates[(cell, seg)] = gate
        sub, dp = duplex(params, p0_t=p0_t, p0_i=p0_i)
        self.n.add(ArrayCircuit.instance(cell), (d, gates["t"], gates["i"], s), sub, **dp)

    # -- frozen cell ----------------------------------------------------------------------
    def frozen_cell(self, segs: dict[str, _Segment], cell: Cell, st: CellState, gate_V: float,
                    on: list[str], gain: float = 1.0) -> None:
        r, c = cell
        base = f"n{r}_{c}"
        line_d, kd = self.layout.tap(cell, "d")
        line_s, ks = self.layout.tap(cell, "s")
        tap_d, tap_s = self.line_node(line_d, kd), self.line_node(line_s, ks)
        via_d, via_s = self.w.via(line_d, "d"), self.w.via(line_s, "s")
        goff = sum(segs[seg].goff_S for seg in SEGMENTS)
        if len(on) == 0:
            self.terminals[(cell, "d")], self.terminals[(cell, "s")] = tap_d, tap_s
            if goff > 0:
                self.n.add(f"roff_{r}_{c}", (tap_d, tap_s), via_d + via_s + 1.0 / goff)
            return
        if len(on) == 1:
            seg = on[0]
            m = segs[seg]
            di, si, fg = f"{base}_d{seg}", f"{base}_s{seg}", f"{base}_fg{seg}"
            self.n.add(f"rcd_{r}_{c}", (tap_d, di), via_d + m.rcon_ohm)
            self.n.add(f"rcs_{r}_{c}", (si, tap_s), via_s + m.rcon_ohm)
            if goff > 0:
                self.n.add(f"roff_{r}_{c}", (di, si), 1.0 / goff)
            # pin voltages behind the vias, exact linear combinations of tap and contact nodes
            vd = _divider(tap_d, di, via_d, m.rcon_ohm)
            vs = _divider(tap_s, si, via_s, m.rcon_ohm)
            self._frozen_segment(m, seg, cell, fg, di, si, vd, vs, gate_V, st.seg(seg), gain)
            self.terminals[(cell, "d")], self.terminals[(cell, "s")] = di, si
            return
        d, s = self.terminal(cell, "d"), self.terminal(cell, "s")
        for seg in SEGMENTS:
            m = segs[seg]
            di, si, fg = f"{base}_d{seg}", f"{base}_s{seg}", f"{base}_fg{seg}"
            self.n.add(f"rcd{seg}_{r}_{c}", (d, di), m.rcon_ohm)
            self.n.add(f"rcs{seg}_{r}_{c}", (si, s), m.rcon_ohm)
            if m.goff_S > 0:
                self.n.add(f"roff{seg}_{r}_{c}", (d, s), 1.0 / m.goff_S)
            self._frozen_segment(m, seg, cell, fg, di, si, f"V({d})", f"V({s})", gate_V,
                                 st.seg(seg), gain)

    def _frozen_segment(self, m: _Segment, seg: str, cell: Cell, fg: str, di: str, si: str,
                        vd: str, vs: str, gate_V: float, st: SegmentState,
                        gain: float = 1.0) -> None:
        r, c = cell
        self.n.add(f"bch{seg}_{r}_{c}", (di, si), m.channel_expr(fg, di, si, gain), kind="I")
        self.n.add(f"bfg{seg}_{r}_{c}", (fg, "0"),
                   m.balance_expr(fg, di, si, vd, vs, gate_V, m.q_eff(st)), kind="I")


def _conducting(params: ParamSet, layout: Layout, state: ArrayState, gate_V: float,
                v_max: float) -> tuple[dict[str, _Segment], dict[Cell, list[str]]]:
    """Segment models and, per cell, the segments whose channel can conduct at the read."""
    segs = {seg: _Segment.of(params, seg) for seg in SEGMENTS}
    cells = layout.cells()
    flags = {seg: segs[seg].conducts([segs[seg].q_eff(state.cells[cell].seg(seg))
                                      for cell in cells], gate_V, v_max) for seg in SEGMENTS}
    return segs, {cell: [seg for seg in SEGMENTS if flags[seg][k]]
                  for k, cell in enumerate(cells)}


def _divider(tap: str, inner: str, r_outer: float, r_inner: float) -> str:
    """Voltage of the node between `tap` -(r_outer)- X -(r_inner)- `inner`."""
    if r_outer == 0:
        return f"V({tap})"
    a = r_inner / (r_outer + r_inner)
    return f"({fmt(a)}*V({tap})+{fmt(1 - a)}*V({inner}))"


# ============================================================================ operations
def selection_voltages(params: ParamSet, bl_levels_V: Iterable[float]) -> tuple[float, float]:
    """(selected, deselected) word-line voltages for bit-line voltages `bl_levels_V`: a
    selected n-type MoS2 selector must pass the highest level (gate above it by Vt + overdrive);
    a deselected one must block the lowest (gate below it + Vt by the margin)."""
    levels = [0.0, *bl_levels_V]
    a, vt = params.array, params.selector.vt_V
    return max(levels) + vt + a.wl_overdrive_V, min(levels) + vt - a.wl_margin_V


def _default_roles(layout: Layout, drives: Mapping[str, object], sense: Iterable[str],
                   kinds: tuple[str, ...]) -> dict[str, object]:
    """Roles of every line of `kinds`: those in `sense` get a TIA, the rest a driver
    (``drives`` value, default 0 V). Output lines are sensed unless driven."""
    sense = set(sense)
    known = {ln.name for ln in layout.of_kind(*kinds)}
    unknown = (set(drives) | sense) - known
    if unknown:
        raise ValidationError(f"no line {', '.join(sorted(unknown))} in layout {layout.name}")
    both = set(drives) & sense
    if both:
        raise ValidationError(f"line {', '.join(sorted(both))} cannot be driven and sensed")
    roles: dict[str, object] = {}
    for line in layout.of_kind(*kinds):
        if line.name in sense or (line.kind == "output" and line.name not in drives):
            roles[line.name] = SENSE
        else:
            v = drives.get(line.name, 0.0)
            roles[line.name] = v if isinstance(v, Drive) else Drive(v)
    return roles


def _check_state(layout: Layout, state: ArrayState) -> None:
    missing = [cell for cell in layout.cells() if cell not in state.cells]
    if missing:
        raise ValidationError(f"state has no entry for cell {missing[0]} of {layout.name}")


def _max_level(values: Iterable[object]) -> float:
    out = 0.0
    for v in values:
        if isinstance(v, Drive):
            v = v.value
        if isinstance(v, Pwl):
            out = max(out, max(abs(x) for x in v.values))
        elif isinstance(v, Pulse):
            out = max(out, abs(v.v1_V), abs(v.v2_V))
        elif isinstance(v, Batch):
            out = max(out, max(abs(x) for x in v.values))
        else:
            out = max(out, abs(float(v)))
    return out


def frozen_read(params: ParamSet, layout: Layout, state: ArrayState, wiring: Wiring,
                drives: Mapping[str, object], sense: Iterable[str] = (),
                analysis=None, name: str = "array_read",
                gains: Mapping[Cell, float] | None = None,
                options: Mapping[str, float | str] | None = None) -> ArrayCircuit:
    """Read-only netlist of frozen cells: input/hidden lines driven (`drives`: line -> volts,
    waveform or `Batch`, default 0 V), output lines (and `sense`) read by TIAs. Default
    analysis `.op` (`batch_sweep` for `Batch` drives). `gains`: per-cell factor on the channel
    current (read variation), default 1. `options`: ngspice options (e.g. tolerances)."""
    _check_state(layout, state)
    roles = _default_roles(layout, drives, sense, ("input", "output", "hidden"))
    n = Netlist(check_name(name, "netlist name"), analysis or Op(), options=dict(options or {}),
                title=f"{layout.name} frozen-state read")
    b = _Builder(n, layout, wiring, "frozen")
    b.add_lines(layout.of_kind("input", "output", "hidden"))
    sensed, driven = b.add_ends(roles)
    gate_V = params.operation.read_vg_V
    v_max = max(_max_level(roles[k] for k in driven), 1e-3)
    segs, on = _conducting(params, layout, state, gate_V, v_max)
    gains = gains or {}
    for cell in layout.cells():
        gain = check_number(gains.get(cell, 1.0), f"gain of cell {cell}")
        b.frozen_cell(segs, cell, state.cells[cell], gate_V, on[cell], gain)
    return ArrayCircuit(n, layout, wiring, "frozen", b.terminals, {}, sensed, driven)


def full_circuit(params: ParamSet, layout: Layout, wiring: Wiring, analysis: Tran,
                 drives: Mapping[str, object], sense: Iterable[str] = (),
                 p0_t=None, p0_i=-1.0, name: str = "array_full",
                 options: Mapping[str, float | str] | None = None) -> ArrayCircuit:
    """Full-model netlist (duplex FeFETs + selectors, every line): `drives` maps driven lines
    (bit, word, input, hidden) to volts or waveforms (default 0 V); output lines and `sense`
    are read by TIAs. Initial states `p0_t`, `p0_i`: scalars or (rows, cols) arrays."""
    shape = (layout.rows, layout.cols)
    pt = np.broadcast_to(np.asarray(params.duplex.p0_t_reset if p0_t is None else p0_t,
                                    dtype=float), shape)
    pi = np.broadcast_to(np.asarray(p0_i, dtype=float), shape)
    if np.any(np.abs(pt) > 1) or np.any(np.abs(pi) > 1):
        raise ValidationError("initial P/Ps must lie in [-1, 1]")
    roles = _default_roles(layout, drives, sense, KINDS)
    n = Netlist(check_name(name, "netlist name"), analysis, libraries=FEFET_LIBS,
                options={"method": "gear", **(options or {})},
                title=f"{layout.name} 2T1D array, full model")
    b = _Builder(n, layout, wiring, "full")
    b.add_lines(layout.lines)
    sensed, driven = b.add_ends(roles)
    for cell in layout.cells():
        r, c = cell
        b.full_cell(params, cell, float(pt[r, c]), float(pi[r, c]))
    return ArrayCircuit(n, layout, wiring, "full", b.terminals, b.gates, sensed, driven)


def isolated_cells(params: ParamSet, layout: Layout, state: ArrayState,
                   vd_V: Mapping[Cell, float], name: str = "cells_alone") -> Netlist:
    """Every cell of `state` alone with ideal terminals: drain at ``vd_V[cell]`` (default 0),
    source at 0 V through ``v_src_r_c`` (its current is the cell current), no wires or vias.
    The conductances of the ideal dot product are measured with this (`.op`)."""
    _check_state(layout, state)
    n = Netlist(check_name(name, "netlist name"), Op(), title=f"{layout.name} cells alone")
    ideal = Wiring({m: 0.0 for m in METALS}, {m: 0.0 for m in METALS}, 0.0, 1.0, 1.0, 1.0)
    lines, gate_V = [], params.operation.read_vg_V
    v_max = max([abs(v) for v in vd_V.values()] + [1e-3])
    segs, on = _conducting(params, layout, state, gate_V, v_max)
    for (r, c) in layout.cells():
        lines += [Line(f"d{r}x{c}", "input", "m3", (((r, c), "d"),)),
                  Line(f"s{r}x{c}", "output", "m3", (((r, c), "s"),))]
    # a one-cell-per-line layout: every terminal is its own ideal node
    iso = Layout(layout.rows, layout.cols, tuple(lines) + tuple(
        ln for ln in layout.lines if ln.kind in ("bit", "wlt", "wli")), name=layout.name)
    b = _Builder(n, iso, ideal, "frozen")
    for (r, c) in layout.cells():
        n.add(f"v_d{r}x{c}", (f"d{r}x{c}_0", "0"), float(vd_V.get((r, c), 0.0)))
        n.add(f"v_src{r}_{c}", (f"s{r}x{c}_0", "0"), 0.0)
        b.frozen_cell(segs, (r, c), state.cells[(r, c)], gate_V, on[(r, c)])
    return n


def extract_state(params: ParamSet, circuit: ArrayCircuit, result, t_s: float) -> ArrayState:
    """Frozen states of a full-model run at instant `t_s` (choose a quiet instant: no pulse,
    lines settled). Q = Q_FG + A_FE*P of each segment from the simulated FG voltage, channel
    charge nodes and pin voltages; P/Ps from the domain mean ``pm``."""
    if circuit.model != "full":
        raise ValidationError("states can only be extracted from a full-model run")
    t = result["time"]

    def at(vec: str) -> float:
        return float(np.interp(t_s, t, result[vec]))

    def v(node: str) -> float:
        return 0.0 if node == "0" else at(f"v({node})")

    segs = {seg: _Segment.of(params, seg) for seg in SEGMENTS}
    cells = {}
    for cell in circuit.layout.cells():
        inst = circuit.instance(cell)
        vd, vs = v(circuit.terminals[(cell, "d")]), v(circuit.terminals[(cell, "s")])
        out = {}
        for seg in SEGMENTS:
            m, x = segs[seg], f"{inst}.x{seg}"
            q = m.q_from_nodes(v(f"{x}.fg"), v(f"{x}.xch.qs"), v(f"{x}.xch.qd"),
                               v(circuit.gates[(cell, seg)]), vd, vs)
            pm = v(f"{x}.xfe.pm")
            out[seg] = SegmentState(pm, q - m.afe_ps_C * pm)
        cells[cell] = CellState(out["t"], out["i"])
    return ArrayState(cells)


# ============================================================================ CLI entry
OPERATIONS = ("mac", "read", "program", "erase")


def array_netlist(params: ParamSet, rows: int = 8, cols: int = 8, operation: str = "mac",
                  model: str = "", row: int = 0, col: int = 0, gate: str = "I",
                  vin_V: float | None = None, pulses: int = 1, parasitics: float = 1.0,
                  seed: int = 0) -> Netlist:
    """The netlist behind ``spicefet netlist array --rows R --cols C``.

    operation: ``mac`` (every input line at `vin_V`, default ``operation.read_vd_V``; all
    outputs read), ``read`` (only cell (`row`, `col`): its input line at `vin_V`), ``program``
    / ``erase`` (`pulses` pulses of +-``operation.program_V`` (I gate) or ``t_pot_V`` /
    ``t_dep_V`` (T gate) on cell (`row`, `col`) through its bit and word line, then a read).
    model: ``frozen`` (default for mac/read: read-only cells, `.op`) or ``full`` (switching
    model, transient; always for program/erase). I states are a seeded pseudo-random pattern
    of P/Ps in [-1, 1] (`seed`), T gates parked off. `parasitics` scales wire and via
    resistance (0 = ideal wires; capacitance stays).
    """
    rows, cols = check_size(rows, cols)
    if operation not in OPERATIONS:
        raise ValidationError(f"array operation {operation!r}; operations: {', '.join(OPERATIONS)}")
    if gate not in ("I", "T"):
        raise ValidationError(f"gate must be 'I' or 'T', got {gate!r}")
    model = model or ("frozen" if operation in ("mac", "read") else "full")
    if model not in ("frozen", "full"):
        raise ValidationError(f"model must be 'frozen' or 'full', got {model!r}")
    if operation in ("program", "erase") and model != "full":
        raise ValidationError("programming needs the full model (model=full)")
    for what, v, hi in (("row", row, rows), ("col", col, cols)):
        x = check_number(v, what)
        if x != int(x) or not 0 <= x < hi:
            raise ValidationError(f"{what} = {v!r} is outside 0..{hi - 1}")
    row, col = int(row), int(col)
    k = check_number(pulses, "pulses")
    if k < 1 or k > 1000 or k != int(k):
        raise ValidationError(f"pulses must be an integer in 1..1000, got {pulses!r}")
    k = int(k)
    seed_i = int(check_number(seed, "seed"))
    layout = pseudo_crossbar(rows, cols)
    wiring = Wiring.from_params(params.array).scaled(parasitics)
    vin = params.operation.read_vd_V if vin_V is None else check_number(vin_V, "vin_V")
    pm_i = np.random.default_rng(seed_i).uniform(-1.0, 1.0, (rows, cols))
    if operation in ("mac", "read"):
        drives = ({ln.name: vin for ln in layout.of_kind("input")} if operation == "mac"
                  else {f"in{col + 1}": vin})
        if model == "frozen":
            state = nominal_state(params, layout, pm_i)
            return frozen_read(params, layout, state, wiring, drives,
                               name=f"array_{operation}").netlist
        return full_read(params, layout, wiring, drives, p0_i=pm_i,
                         name=f"array_{operation}").netlist
    op = params.operation
    p0_i, p0_t = pm_i.copy(), np.full((rows, cols), params.duplex.p0_t_reset)
    if gate == "I":
        amp = op.program_V if operation == "program" else -op.program_V
        p0_i[row, col] = -1.0 if operation == "program" else 1.0
    else:
        amp = op.t_pot_V if operation == "program" else op.t_dep_V
        p0_i[row, col] = -1.0  # the T state alone sets the read of the selected cell
        p0_t[row, col] = params.duplex.p0_t_reset if operation == "program" else 0.2
    return program_circuit(params, layout, wiring, (row, col), gate, [amp] * k, p0_t=p0_t,
                           p0_i=p0_i, name=f"array_{operation}")[0].netlist


# ============================================================================ transients
@dataclass(frozen=True)
class Timing:
    """Instants of a programming transient (s)."""
    setup_s: float          # word lines reach their program levels
    starts_s: np.ndarray    # pulse starts
    ends_s: np.ndarray      # pulse ends (after the falling edge)
    reads_s: np.ndarray     # quiet instant after each pulse (inputs at the read voltage)
    stop_s: float


READ_EDGE_S = 3e-9     # input-line edge of an array read
READ_SETTLE_S = 40e-9  # input held this long before the read (TIA settling, tau = Rf*Cf)


def _pulse_timing(params: ParamSet, gate: str) -> tuple[float, float, float]:
    """(width, edge, period) of a pulse on `gate` in the array: the device's pulse, and a
    period long enough for an array read after it (pulse + edges + read window)."""
    op = params.operation
    width, edge = (op.pulse_s, op.edge_s) if gate == "I" else (op.t_pulse_s, op.t_edge_s)
    room = width + 6 * edge + READ_SETTLE_S + 3 * READ_EDGE_S
    return width, edge, max(room, op.t_period_s)


def _read_window(t_lo: float, t_hi: float, level: float, times: list, values: list) -> float:
    """Append an input-line read pulse (0 -> level -> 0) to a PWL; return the read instant
    (just before the falling edge)."""
    times.extend([t_lo, t_lo + READ_EDGE_S, t_hi - READ_EDGE_S, t_hi])
    values.extend([0.0, level, level, 0.0])
    return t_hi - READ_EDGE_S - 0.2e-9


def program_circuit(params: ParamSet, layout: Layout, wiring: Wiring, cell: Cell, gate: str,
                    amplitudes_V, p0_t=None, p0_i=-1.0, read_inputs: bool = True,
                    name: str = "array_program", max_step_s: float = 50e-12,
                    period_s: float | None = None) -> tuple[ArrayCircuit, Timing]:
    """Program/erase `cell`'s `gate` ("I" or "T") with one pulse per amplitude on its bit line,
    its word line held at the select level (`selection_voltages`), every other word line at
    the deselect level, other bit lines, input lines and hidden lines at 0 V, outputs at
    virtual ground (FeFET drain and source grounded while pulsing, as in the paper). Between
    pulses the cell is read: its input line steps to ``operation.read_vd_V`` (if
    `read_inputs`) while the bit line rests at ``operation.read_vg_V`` = 0 (the selected
    selector passes it to the gate).

    The word lines hold their levels for the whole transient (set before the burst). Switching
    them takes slow edges in a real array: a selector's channel charge (W*L*Cox*V_ov, ~4 pC at
    the select level) is 100x the charge that moves the FeFET I gate by 1 V, so a 1-ns word-line
    edge injects enough to program or erase the cells on that word line (simulated: a 13.7 V ->
    3.7 V edge in 1 ns erased a programmed cell). `transfer_circuit` switches word lines with
    ``array.wl_edge_ns`` edges and reports what that disturbs."""
    if gate not in ("I", "T"):
        raise ValidationError(f"gate must be 'I' or 'T', got {gate!r}")
    r, c = cell
    if not (0 <= r < layout.rows and 0 <= c < layout.cols):
        raise ValidationError(f"cell {cell} outside {layout.rows} x {layout.cols}")
    amps = [check_number(a, "pulse amplitude") for a in np.atleast_1d(amplitudes_V)]
    if not amps:
        raise ValidationError("at least one pulse is needed")
    width, edge, period = _pulse_timing(params, gate)
    period = period_s or period
    op = params.operation
    wl_on, wl_off = selection_voltages(params, amps)
    setup = 1e-9
    starts = setup + 1e-9 + period * np.arange(len(amps))
    ends = starts + width + edge
    stop = float(starts[-1] + period)
    # bit line: pulses
    bt, bv = [0.0], [op.read_vg_V]
    for t0, a in zip(starts, amps):
        bt += [t0, t0 + edge, t0 + width, t0 + width + edge]
        bv += [op.read_vg_V, a, a, op.read_vg_V]
    bt.append(stop)
    bv.append(op.read_vg_V)
    # input line of the cell: a read after every pulse
    it, iv, reads = [0.0], [0.0], []
    for t0 in starts:
        lo, hi = t0 + width + 4 * edge, t0 + period - edge
        if read_inputs:
            reads.append(_read_window(lo, hi, op.read_vd_V, it, iv))
        else:
            reads.append(hi - READ_EDGE_S)
    reads = np.array(reads)
    it.append(stop)
    iv.append(0.0)
    sel_wl = layout.tap(cell, "wlt" if gate == "T" else "wli")[0].name
    sel_bl = layout.tap(cell, "bl")[0].name
    sel_in = layout.tap(cell, "d")[0]
    # word lines sit at their levels from the start (switched before the burst, see module doc)
    drives: dict[str, object] = {line.name: (wl_on if line.name == sel_wl else wl_off)
                                 for line in layout.of_kind("wlt", "wli")}
    drives[sel_bl] = Pwl(tuple(bt), tuple(bv))
    for line in layout.of_kind("bit"):
        if line.name != sel_bl:
            drives[line.name] = op.read_vg_V
    sense = ()
    if sel_in.kind in ("input", "hidden"):
        drives[sel_in.name] = Pwl(tuple(it), tuple(iv))
    sense_line = layout.tap(cell, "s")[0]
    if sense_line.kind == "hidden":
        sense = (sense_line.name,)
    circuit = full_circuit(params, layout, wiring, Tran(0.1e-9, stop, max_step_s), drives,
                           sense, p0_t=p0_t, p0_i=p0_i, name=name)
    circuit.meta.update(cell=cell, gate=gate, amplitudes_V=amps, wl_on_V=wl_on,
                        wl_off_V=wl_off, sense_line=sense_line.name, input_line=sel_in.name,
                        bit_line=sel_bl, word_line=sel_wl)
    return circuit, Timing(setup, starts, ends, reads, stop)


def full_read(params: ParamSet, layout: Layout, wiring: Wiring, drives: Mapping[str, object],
              p0_t=None, p0_i=-1.0, gate: str = "I", hold_s: float = 150e-9,
              tail_s: float = 60e-9, name: str = "array_read_full",
              sense: Iterable[str] = ()) -> ArrayCircuit:
    """One MAC read cycle on the full model: word lines of `gate` at the read select level,
    the others deselected, bit lines at ``read_vg_V``; each driven line (`drives`, volts)
    rises from 0 at 2 ns (``READ_EDGE_S`` edge), holds `hold_s`, falls, and the circuit rests
    `tail_s`. ``meta``: ``rise_s``, ``fall_s`` (start of the edges), ``stop_s``."""
    op = params.operation
    wl_read, wl_off = selection_voltages(params, [op.read_vg_V])
    t0, edge = 2e-9, READ_EDGE_S
    t_fall = t0 + edge + check_number(hold_s, "hold_s")
    stop = t_fall + edge + check_number(tail_s, "tail_s")
    roles: dict[str, object] = {}
    for line in layout.of_kind("wlt", "wli"):
        on = (line.kind == "wli") == (gate == "I")
        roles[line.name] = wl_read if on else wl_off
    for line in layout.of_kind("bit"):
        roles[line.name] = op.read_vg_V
    for name_, v in drives.items():
        v = float(check_number(v, f"drive of {name_}"))
        roles[name_] = Pwl((0.0, t0, t0 + edge, t_fall, t_fall + edge, stop),
                           (0.0, 0.0, v, v, 0.0, 0.0))
    circuit = full_circuit(params, layout, wiring, Tran(0.1e-9, stop, 0.5e-9), roles, sense,
                           p0_t=p0_t, p0_i=p0_i, name=name)
    circuit.meta.update(rise_s=t0, fall_s=t_fall, edge_s=edge, stop_s=stop)
    return circuit


@dataclass(frozen=True)
class TransferPlan:
    """Instants of a T-to-I transfer transient (s): `reads_s[k]` follows pulse k, whose
    `phase` is "train" (T potentiation), "reset" (T erase) or "ispp" (I program-verify);
    `read_before_s` precedes the first pulse, `switched_s` follows the word-line switch."""
    phases: tuple[str, ...]
    amplitudes_V: np.ndarray
    starts_s: np.ndarray
    reads_s: np.ndarray
    read_before_s: float
    switch_s: tuple[float, float]
    switched_s: float
    stop_s: float


def transfer_circuit(params: ParamSet, layout: Layout, wiring: Wiring, cell: Cell,
                     n_train: int, ispp_V, p0_t=None, p0_i=None,
                     name: str = "array_transfer") -> tuple[ArrayCircuit, TransferPlan]:
    """The T-to-I mode transfer of the paper's Methods on `cell`, as one transient:

    1. train: `n_train` T potentiation pulses (``operation.t_pot_V``) from the parked T state,
       each followed by a read (the trained weight is the last read);
    2. reset T: one erase pulse of ``-operation.program_V`` on the T gate;
    3. switch word lines: the cell column's T word line to the deselect level, its I word line
       to the select level, with ``array.wl_edge_ns`` edges;
    4. program I with write-verify: pulses of the increasing amplitudes `ispp_V` on the I gate,
       each followed by a read. The verify decision is made afterwards on the reads: the state
       after pulse k does not depend on later pulses, so stopping at k is reading the state at
       ``reads_s[k]``.

    Other cells: initial states `p0_t`, `p0_i` (default: T parked off, I = 0.5 so that a
    disturb of their stored I weights is visible); their word lines stay deselected, except
    that the selected column's word lines switch with the cell's."""
    if n_train < 0 or n_train != int(n_train):
        raise ValidationError(f"n_train must be a non-negative integer, got {n_train!r}")
    ispp = [check_number(v, "ISPP amplitude") for v in np.atleast_1d(ispp_V)]
    if not ispp:
        raise ValidationError("the write-verify staircase needs at least one amplitude")
    op, a = params.operation, params.array
    r0, c0 = cell
    if not (0 <= r0 < layout.rows and 0 <= c0 < layout.cols):
        raise ValidationError(f"cell {cell} outside {layout.rows} x {layout.cols}")
    t_w, t_e, t_per = _pulse_timing(params, "T")
    i_w, i_e, i_per = _pulse_timing(params, "I")
    pulses = ([("train", op.t_pot_V, t_w, t_e, t_per)] * int(n_train)
              + [("reset", -op.program_V, i_w, i_e, i_per)]
              + [("ispp", v, i_w, i_e, i_per) for v in ispp])
    levels = [v for _, v, *_ in pulses]
    wlt_on, _ = selection_voltages(params, [lv for ph, lv, *_ in pulses if ph != "ispp"])
    wli_on, _ = selection_voltages(params, ispp)
    _, wl_off = selection_voltages(params, levels)
    wl_edge = a.wl_edge_ns * 1e-9
    t = 2e-9
    bt, bv, it, iv = [0.0], [op.read_vg_V], [0.0], [0.0]
    phases, amps, starts, reads = [], [], [], []
    win = READ_SETTLE_S + 2 * READ_EDGE_S

    def read_window(t_lo: float, t_hi: float) -> float:
        return _read_window(t_lo, t_hi, op.read_vd_V, it, iv)

    read_before = read_window(t, t + win)
    t += win + 2e-9
    switch = (0.0, 0.0)
    switched = 0.0
    for k, (phase, amp, width, edge, period) in enumerate(pulses):
        if phase == "ispp" and pulses[k - 1][0] != "ispp":
            switch = (t, t + wl_edge)
            t += wl_edge + 20e-9
            switched = read_window(t, t + win)
            t += win + 2e-9
        bt += [t, t + edge, t + width, t + width + edge]
        bv += [op.read_vg_V, amp, amp, op.read_vg_V]
        phases.append(phase)
        amps.append(amp)
        starts.append(t)
        lo, hi = t + width + 4 * edge, t + period - edge
        reads.append(read_window(lo, hi))
        t += period
    stop = t + 2e-9
    bt.append(stop)
    bv.append(op.read_vg_V)
    it.append(stop)
    iv.append(0.0)
    sel_bl = layout.tap(cell, "bl")[0].name
    sel_in = layout.tap(cell, "d")[0]
    wlt, wli = layout.tap(cell, "wlt")[0].name, layout.tap(cell, "wli")[0].name
    t1, t2 = switch
    drives: dict[str, object] = {line.name: wl_off for line in layout.of_kind("wlt", "wli")}
    drives[wlt] = Pwl((0.0, t1, t2, stop), (wlt_on, wlt_on, wl_off, wl_off))
    drives[wli] = Pwl((0.0, t1, t2, stop), (wl_off, wl_off, wli_on, wli_on))
    for line in layout.of_kind("bit"):
        drives[line.name] = op.read_vg_V
    drives[sel_bl] = Pwl(tuple(bt), tuple(bv))
    drives[sel_in.name] = Pwl(tuple(it), tuple(iv))
    sense_line = layout.tap(cell, "s")[0]
    sense = (sense_line.name,) if sense_line.kind == "hidden" else ()
    shape = (layout.rows, layout.cols)
    pt = np.array(np.broadcast_to(params.duplex.p0_t_reset if p0_t is None else p0_t, shape),
                  dtype=float)
    pi = np.array(np.broadcast_to(0.5 if p0_i is None else p0_i, shape), dtype=float)
    pt[r0, c0], pi[r0, c0] = params.duplex.p0_t_reset, -1.0
    circuit = full_circuit(params, layout, wiring, Tran(0.5e-9, stop, 50e-12), drives, sense,
                           p0_t=pt, p0_i=pi, name=name)
    circuit.meta.update(cell=cell, sense_line=sense_line.name, wlt_on_V=wlt_on,
                        wli_on_V=wli_on, wl_off_V=wl_off)
    plan = TransferPlan(tuple(phases), np.array(amps), np.array(starts), np.array(reads),
                        read_before, switch, switched, stop)
    return circuit, plan


# ============================================================================ paper netlists
def pm_for_conductance(params: ParamSet, g_S, v_read: float | None = None) -> np.ndarray:
    """I-gate P/Ps that gives channel conductance `g_S` at the read bias (contact drops
    neglected: a 1-2 % difference that only matters for choosing states)."""
    m = _Segment.of(params, "i")
    v = params.operation.read_vd_V if v_read is None else v_read
    pm = np.linspace(-1.0, 1.0, 4001)
    q = params.duplex.q_fg0_fC * 1e-15
    g = m.channel_current(q + m.afe_ps_C * pm, params.operation.read_vg_V, v, 0.0) / v
    g = np.maximum.accumulate(g)
    return np.interp(np.asarray(g_S, dtype=float), g, pm)


def paper_states(params: ParamSet, seed: int = 3) -> ArrayState:
    """A fixed, documented weight pattern for the 8 x 3 array: I-gate conductances drawn
    uniformly in [0.02, 1] x G(P = +Ps) (seeded), T gates parked off."""
    layout = paper_8x3()
    m = _Segment.of(params, "i")
    v = params.operation.read_vd_V
    g_max = float(m.channel_current(params.duplex.q_fg0_fC * 1e-15 + m.afe_ps_C,
                                    params.operation.read_vg_V, v, 0.0)) / v
    g = np.random.default_rng(seed).uniform(0.02, 1.0, (layout.rows, layout.cols)) * g_max
    return nominal_state(params, layout, np.clip(pm_for_conductance(params, g), -1, 1))


def l1_drives(x1: float, x2: float, v_read: float) -> dict[str, float]:
    """L1 phase of the 8 x 3 array: inputs on in1/in2, hidden nodes read (sensed)."""
    return {"in1": x1 * v_read, "in2": x2 * v_read}


def l2_drives(act, v_read: float) -> dict[str, float]:
    """L2 phase: hidden neuron k drives h(2k-1) with +a_k*V and h(2k) with -a_k*V."""
    act = np.asarray(act, dtype=float)
    if act.shape != (4,):
        raise ValidationError("L2 needs 4 hidden activations")
    out = {}
    for k, a in enumerate(act):
        out[f"h{2 * k + 1}"] = float(a * v_read)
        out[f"h{2 * k + 2}"] = float(-a * v_read)
    return out


def paper_netlists(params: ParamSet) -> dict[str, Netlist]:
    """The paper's 8 x 3 array for ``make netlists``: a frozen-state L1 MAC read (in2 at the
    read voltage, in1 swept from -read to +read in 21 steps: every point is a MAC; hidden
    nodes read by TIAs, ``i(vs_h1)`` ..; nominal weight pattern, `paper_states`) and a
    full-model programming transient (one +program_V I pulse on cell (row 1, col 1), erased
    before, every other cell unselected holding the weight pattern, then a read)."""
    layout = paper_8x3()
    wiring = Wiring.from_params(params.array)
    v = params.operation.read_vd_V
    hidden = [ln.name for ln in layout.of_kind("hidden")]
    mac = frozen_read(params, layout, paper_states(params), wiring, l1_drives(1.0, 1.0, v),
                      sense=hidden, name="array_8x3_mac",
                      analysis=Dc((Sweep("v_in1", -v, v, v / 10),)))
    p0_i = paper_states(params).pm("i")
    p0_i[0, 0] = -1.0
    prog, _ = program_circuit(params, layout, wiring, (0, 0), "I", [params.operation.program_V],
                              p0_i=p0_i, name="array_8x3_program", max_step_s=0.25e-9)
    return {"array_8x3_mac.cir": mac.netlist, "array_8x3_program.cir": prog.netlist}
