"""2T1D arrays (spicefet/netlist/array.py): layout, wiring, frozen reads, programming, with the
real ngspice."""
from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from spicefet.errors import ValidationError
from spicefet.netlist import array as A
from spicefet.netlist.devices import duplex
from spicefet.rawfile import read_raw

NETLISTS = Path(__file__).resolve().parents[1] / "netlists"


# ----------------------------------------------------------------------------- hand model
def _hand_cell_current(params, pm: float, vd: float) -> float:
    """Current of a duplex FeFET with its I gate at P/Ps = pm (neutral floating gate), T gate
    parked off, gate at 0 V, drain at vd, source at 0: the equations of models/mos2.lib and
    models/fefet.lib written out here (charge balance of the FG, drift-diffusion channel,
    contact resistance per side, g_off), solved with bisection."""
    _, p = duplex(params, params.duplex.p0_t_reset, pm)
    eps0, kq = 8.8541878128e-12, 1.380649e-23 / 1.602176634e-19
    t_de = p.get("t_de_nm", p.get("t_ox_nm"))
    eps_de = p.get("eps_de", p.get("eps_ox"))
    w, l = p["w_i_um"], p["l_um"]
    tk = p["temp_C"] + 273.15
    u = p["ss_mVdec"] * 1e-3 / (math.log(10) * kq * 300) * kq * tk
    cox = eps0 * eps_de / (t_de * 1e-9)
    ispec = p["mu_cm2Vs"] * 1e-4 * cox * (w / l) * u * u
    qhalf = 0.5 * w * l * 1e-12 * cox * u
    cfe = eps0 * p["eps_fe"] * p["a_fe_i_um2"] * 1e-12 / (p["t_fe_nm"] * 1e-9)
    cov = eps0 * eps_de * (p["a_de_i_um2"] - w * l) * 1e-12 / (t_de * 1e-9)
    q = p["a_fe_i_um2"] * p["ps_uC_cm2"] * 1e-14 * pm + p["q_fg0_i_fC"] * 1e-15
    rc = p["rc_ohm_um"] / w

    def sp(x):
        return math.log1p(math.exp(min(x, 40.0))) + max(x - 40.0, 0.0)

    def gli(lv):
        t = math.tanh(0.3039635509270133 * lv)
        return 0.5 * lv * lv + 3.289868133696453 * t / (1 + t)

    def bisect(f, lo, hi):
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if f(mid) > 0 else (mid, hi)
        return 0.5 * (lo + hi)

    def channel(i):  # given the current, contact drops fix the internal nodes
        vdi, vsi = vd - i * rc, i * rc
        vfg = bisect(lambda v: (cfe + cov) * v + qhalf * (sp((v - vsi - p["vt_V"]) / u)
                                                          + sp((v - vdi - p["vt_V"]) / u))
                     - q - 0.5 * cov * vd, -50, 50)
        return ispec * (gli(sp((vfg - vsi - p["vt_V"]) / u)) - gli(sp((vfg - vdi - p["vt_V"]) / u)))

    i_ch = bisect(lambda i: i - channel(i), 0.0, vd / (2 * rc))
    return i_ch + p["g_off_S"] * vd  # both segments' g_off (T channel: < 1e-16 A)


@pytest.fixture(scope="module")
def ideal_wiring(params):
    return A.Wiring.from_params(params.array, parasitics=False)


# ----------------------------------------------------------------------------- reads
def test_2x2_mac_equals_hand_computed_currents(engine, params, ideal_wiring):
    layout = A.pseudo_crossbar(2, 2)
    pm = np.array([[1.0, 0.8], [-1.0, 0.9]])
    v = {"in1": 0.1, "in2": 0.05}
    state = A.nominal_state(params, layout, pm)
    circ = A.frozen_read(params, layout, state, ideal_wiring, v)
    res = engine.run(circ.netlist)
    vin = [v["in1"], v["in2"]]
    for r in range(2):
        hand = sum(_hand_cell_current(params, pm[r, c], vin[c]) for c in range(2))
        sim = circ.sense_current(res, f"out{r + 1}")[0]
        assert sim == pytest.approx(hand, rel=0.01), (r, sim, hand)
    # row 2 holds one erased cell: its current is the off floor, far below the on cell
    assert _hand_cell_current(params, -1.0, 0.1) < 1e-12


def test_zero_wire_resistance_reduces_to_the_ideal_dot_product(engine, params, ideal_wiring):
    layout = A.pseudo_crossbar(3, 4)
    rng = np.random.default_rng(0)
    state = A.nominal_state(params, layout, rng.uniform(0.5, 1.0, (3, 4)))
    vin = {f"in{c + 1}": x for c, x in enumerate((0.1, -0.07, 0.04, 0.1))}
    circ = A.frozen_read(params, layout, state, ideal_wiring, vin)
    text = circ.netlist.render()
    assert not re.search(r"^r(w|v)_", text, re.M), "zero resistance must merge nodes"
    assert not re.search(r"^r\S* \S+ \S+ 0(\.0)?$", text, re.M)
    res = engine.run(circ.netlist)
    bias = {(r, c): vin[f"in{c + 1}"] for r in range(3) for c in range(4)}
    alone = engine.run(A.isolated_cells(params, layout, state, bias))
    for r in range(3):
        ideal = sum(alone[f"i(v_src{r}_{c})"][0] for c in range(4))
        sim = circ.sense_current(res, f"out{r + 1}")[0]
        assert sim == pytest.approx(ideal, rel=1e-4)
    # the same array with wire resistance deviates: the parasitics are really there
    par = A.frozen_read(params, layout, state, A.Wiring.from_params(params.array), vin)
    res_p = engine.run(par.netlist)
    assert abs(par.sense_current(res_p, "out3")[0] / circ.sense_current(res, "out3")[0] - 1) > 1e-4


def test_frozen_read_matches_the_full_netlist(engine, params):
    layout = A.pseudo_crossbar(2, 2)
    wiring = A.Wiring.from_params(params.array)
    drives = {"in1": 0.1, "in2": 0.07}
    full = A.full_read(params, layout, wiring, drives, p0_i=np.array([[0.9, -1.0], [0.3, 0.7]]),
                       hold_s=100e-9, tail_s=5e-9)
    res = engine.run(full.netlist)
    t_read = full.meta["fall_s"] - 1e-9
    state = A.extract_state(params, full, res, t_read)
    frozen = A.frozen_read(params, layout, state, wiring, drives)
    res_f = engine.run(frozen.netlist)
    for line in ("out1", "out2"):
        a = np.interp(t_read, res["time"], full.sense_current(res, line))
        b = frozen.sense_current(res_f, line)[0]
        assert b == pytest.approx(a, rel=1e-3), line
    # the frozen cells carry no switching machinery
    assert "fecap" not in frozen.netlist.render() and not frozen.netlist.libraries


def test_nominal_and_extracted_states_agree_for_states_programmed_from_erased(params):
    layout = A.pseudo_crossbar(1, 2)
    st = A.nominal_state(params, layout, [[0.4, -1.0]])
    assert st.cells[(0, 0)].i.pm == 0.4
    assert st.cells[(0, 0)].t.pm == params.duplex.p0_t_reset
    with pytest.raises(ValidationError):
        A.nominal_state(params, layout, [[1.5, 0.0]])


# ----------------------------------------------------------------------------- programming
@pytest.mark.parametrize("gate", ["I", "T"])
def test_half_select_disturb_is_below_one_percent_of_the_window(engine, params, gate):
    layout = A.pseudo_crossbar(2, 2)
    op = params.operation
    amps = [op.program_V] if gate == "I" else [op.t_pot_V] * 2
    p0_i = np.full((2, 2), 0.6)
    p0_i[0, 0] = -1.0
    circ, timing = A.program_circuit(params, layout, A.Wiring.from_params(params.array), (0, 0),
                                     gate, amps, p0_i=p0_i)
    res = engine.run(circ.netlist)
    sel = res[f"v(xf_0_0.x{gate.lower()}.xfe.pm)"]
    swing = abs(sel[-1] - sel[0])
    assert swing > (1.0 if gate == "I" else 0.05)  # the selected gate really switched
    window = 2.0  # P/Ps from -1 to +1
    for cell in layout.cells():
        for seg in "ti":
            if cell == (0, 0) and seg == gate.lower():
                continue
            pm = res[f"v({circ.instance(cell)}.x{seg}.xfe.pm)"]
            assert np.max(np.abs(pm - pm[0])) < 0.01 * min(window, swing), (cell, seg)
    # the read after the pulse sees the selected cell through the array
    i_read = np.interp(timing.reads_s[-1], res["time"], circ.sense_current(res, "out1"))
    assert i_read > 1e-8


def test_selection_voltages_pass_and_block_every_bit_line_level(params):
    on, off = A.selection_voltages(params, [10.0, -10.0])
    vt = params.selector.vt_V
    assert on - 10.0 > vt and off - (-10.0) < vt


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("rows, cols", [(0, 2), (2, 0), (-1, 3), (2.5, 2), ("4", 4),
                                        (float("nan"), 2), (True, 2)])
def test_non_positive_or_non_integer_sizes_are_refused(params, rows, cols):
    with pytest.raises(ValidationError) as err:
        A.pseudo_crossbar(rows, cols)
    assert "\n" not in str(err.value)
    with pytest.raises(ValidationError):
        A.array_netlist(params, rows, cols)


@pytest.mark.parametrize("field, value", [("r_seg_ohm", {"m1": -1.0, "m2": 0, "m3": 0}),
                                          ("c_seg_F", {"m1": float("nan"), "m2": 0, "m3": 0}),
                                          ("r_via_ohm", -5.0), ("r_via_ohm", float("inf")),
                                          ("tia_gain", 0.0), ("r_tia_ohm", -1.0),
                                          ("c_tia_F", -1e-15),
                                          ("r_seg_ohm", {"m1": 1.0})])
def test_invalid_parasitics_are_refused_with_one_line(params, field, value):
    good = A.Wiring.from_params(params.array)
    kwargs = {f: getattr(good, f) for f in good.__dataclass_fields__}
    kwargs[field] = value
    with pytest.raises(ValidationError) as err:
        A.Wiring(**kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name, value", [("r_via_ohm", -1.0), ("pitch_um", 0.0),
                                         ("c_line_fF_um", float("nan")),
                                         ("r_sheet_m1_ohm_sq", -3.0)])
def test_array_parameter_section_refuses_invalid_values(params, name, value):
    with pytest.raises(ValidationError):
        params.replace_values("array", {name: value})


def test_parasitic_scale_and_options_are_checked(params):
    with pytest.raises(ValidationError):
        A.Wiring.from_params(params.array).scaled(-1.0)
    for kwargs in ({"operation": "sing"}, {"gate": "X"}, {"row": 5}, {"col": -1},
                   {"operation": "program", "model": "frozen"}, {"pulses": 0},
                   {"vin_V": float("nan")}):
        with pytest.raises(ValidationError):
            A.array_netlist(params, 4, 4, **kwargs)


# ----------------------------------------------------------------------------- layouts
def test_paper_8x3_has_the_papers_line_counts():
    lay = A.paper_8x3()
    count = {k: len(lay.of_kind(k)) for k in A.KINDS}
    assert (lay.rows, lay.cols) == (8, 3)
    assert count == {"input": 2, "output": 1, "hidden": 8, "bit": 8, "wlt": 3, "wli": 3}
    # L1 cells (columns 1-2) sum on hidden nodes, L2 (column 3) drains on them, sources on out
    for r in range(8):
        h = lay.line(f"h{r + 1}")
        assert set(h.taps) == {((r, 0), "s"), ((r, 1), "s"), ((r, 2), "d")}
    assert {cell for cell, _ in lay.line("out").taps} == {(r, 2) for r in range(8)}


def test_layout_refuses_a_cell_on_two_lines_or_none():
    lines = A.pseudo_crossbar(1, 2).lines
    with pytest.raises(ValidationError):
        A.Layout(1, 2, lines[1:])  # in1 missing: cells (0,0) drain on no line
    dup = A.Line("inx", "input", "m1", (((0, 0), "d"),))
    with pytest.raises(ValidationError):
        A.Layout(1, 2, lines + (dup,))
    with pytest.raises(ValidationError):
        A.Line("n0bad", "input", "m1", (((0, 0), "d"),))


def test_cli_entry_renders_every_operation(params):
    for op in ("mac", "read"):
        text = A.array_netlist(params, 3, 2, operation=op).render()
        assert ".op" in text and "v_in1" in text
    text = A.array_netlist(params, 2, 2, operation="program", gate="T", pulses=2).render()
    assert "duplex_fefet" in text and ".tran" in text
    full = A.array_netlist(params, 2, 2, operation="mac", model="full").render()
    assert "mos2sel" in full


# ----------------------------------------------------------------------------- netlists/
def test_paper_mac_netlist_reads_the_hidden_nodes_in_plain_ngspice(tmp_path):
    """netlists/array_8x3_mac.cir (written by `make netlists`; test_netlists checks that it runs
    and is up to date) reads the hidden nodes through their TIAs."""
    raw = tmp_path / "out.raw"
    proc = subprocess.run(["ngspice", "-b", "-r", str(raw), str(NETLISTS / "array_8x3_mac.cir")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "error" not in (proc.stdout + proc.stderr).lower()
    names = [n.lower() for n in read_raw(raw)[-1].vectors()]
    assert any("vs_h1" in n for n in names)


def test_paper_program_netlist_runs_in_plain_ngspice(tmp_path):
    path = NETLISTS / "array_8x3_program.cir"
    raw = tmp_path / "out.raw"
    proc = subprocess.run(["ngspice", "-b", "-r", str(raw), str(path)], capture_output=True,
                          text=True, cwd=NETLISTS, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    plot = read_raw(raw)[-1]
    pm = plot.vectors()["v(xf_0_0.xi.xfe.pm)"] if "v(xf_0_0.xi.xfe.pm)" in plot.vectors() \
        else plot.vectors()["xf_0_0.xi.xfe.pm"]
    assert pm[-1] - pm[0] > 1.0


@pytest.mark.slow
def test_paper_8x3_disturb_below_one_percent(engine, params):
    from spicefet.experiments.array import disturb_events
    for ev in disturb_events(params, engine, t_pulses=1):
        assert ev.fraction < 0.01, ev.name
