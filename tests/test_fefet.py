"""The Preisach ferroelectric and the MFMIS / duplex FeFET, simulated by ngspice (issue 3)."""
from __future__ import annotations

import math
import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from spicefet import measure
from spicefet.experiments import ferro, multilevel, switching, window
from spicefet.netlist.core import Netlist, Tran
from spicefet.netlist.fefet_benches import fefet_pulse_train, linear_cap_energy
from spicefet.netlist.stimuli import sample
from spicefet.params import FerroParams, spice_params

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def pv(engine, params):
    return ferro.run(params, engine)


def test_return_point_memory(pv):
    assert pv.return_point_error() < 0.02  # of the full swing, at 1 us/V


def test_wiping_out(pv):
    assert pv.wiping_out_error() < 1e-3


def test_minor_loops_depend_on_history(pv):
    # at the same voltage A the state depends on where the field came from: reached from -6 V
    # (first visit) it is far below the descending major branch that comes from +6 V
    v, p = pv.v_V, pv.p_uC_cm2 / pv.ps_uC_cm2
    k6 = np.argmax(v)  # the first +6 V turning point
    after = np.arange(v.size) > k6
    descending_at_a = np.interp(-ferro.PV_A, -v[after][:200], p[after][:200])
    assert descending_at_a - pv.pm_at_turns[3] > 0.5


def test_state_is_held_at_zero_bias(engine, params):
    """A partly switched film keeps its polarisation through 1 us at 0 V."""
    n = Netlist("fe_hold", Tran(1e-9, 1e-6), libraries=("ferroelectric.lib",),
                options={"method": "gear"})
    n.add("va", ("a", "0"), 0.0)
    n.add("xfe", ("a", "0"), "fecap", **spice_params(params.ferro), a_fe_um2=100.0, p0=0.3)
    pm = engine.run(n)["v(xfe.pm)"]
    assert pm[0] == pytest.approx(0.3, abs=0.04)  # 32 domains: p0 is met to one domain
    assert np.ptp(pm) < 1e-6


def test_window_falls_with_ratio_and_pure_dielectric_has_none(engine, params):
    r = window.run(params, engine)
    assert r.monotonic()
    assert r.window(window.RATIOS[0]) > 2.0
    assert abs(r.window(math.inf)) < 0.01


def test_energy_extraction_on_a_linear_capacitor(engine):
    net, train = linear_cap_energy(amplitude_V=5.0, cap_F=2e-12)
    r = engine.run(net)
    energy = measure.energy_J(r["time"], r["v(g)"], r["i(vg)"])
    assert energy == pytest.approx(2e-12 * 5.0 ** 2, rel=0.01)


def test_t_type_gives_128_distinct_monotonic_states_each_way(engine, params):
    g_pot, g_dep = multilevel.t_type_train(params, engine)
    assert measure.distinct_levels(g_pot) >= 129 and np.all(np.diff(g_pot) > 0)
    assert measure.distinct_levels(g_dep) >= 129 and np.all(np.diff(g_dep) < 0)


def test_switched_fraction_grows_with_width_and_amplitude(engine, params):
    widths, amps = (1e-9, 3e-9, 10e-9), (0.5 * params.operation.program_V, params.operation.program_V)
    runs = [switching._widths_run(params, a, w) for a in amps for w in widths]
    results = engine.run_many([n for n, _ in runs])
    frac = np.array([switching._fractions(r, t)[0] for r, (_, t) in zip(results, runs)])
    frac = frac.reshape(len(amps), len(widths))
    assert np.all(np.diff(frac, axis=1) > 0) and np.all(frac[1] > frac[0])
    assert frac[0, 0] < 0.9 and frac[1, -1] > 0.95


def test_i_type_read_after_write_holds_and_reads_do_not_disturb(engine, params):
    op = params.operation
    net, train = fefet_pulse_train(params, (op.program_V,), params.duplex.ratio_i, -1.0,
                                   op.pulse_s, op.edge_s, op.pulse_s + 60e-9,
                                   tail_s=20e-9 + 1e-3, name="hold")
    net.analysis = Tran(1e-9, train.stop_s, 1e-5)
    r = engine.run(net)
    pm = sample(r["time"], r["v(xfet.xfe.pm)"], [train.ends_s[0] + 20e-9, train.stop_s])
    assert pm[0] > 0.95 and abs(pm[1] - pm[0]) < 0.01 * 2  # < 1% of the swing


@pytest.mark.parametrize("subckt", ["fecap", "mfmis_fefet", "duplex_fefet"])
def test_library_defaults_equal_the_default_parameter_file(params, subckt):
    """The .lib files run without Python; their ferroelectric defaults must be the shipped set."""
    text = (MODELS / ("ferroelectric.lib" if subckt == "fecap" else "fefet.lib")).read_text()
    block = re.search(rf"\.subckt {subckt} [^\n]*params:(.*?)\n[^+]", text, re.S).group(1)
    defaults = dict(re.findall(r"(\w+)=([-\d.e+]+)", block))
    for f in fields(FerroParams):
        assert float(defaults[f.name]) == pytest.approx(getattr(params.ferro, f.name)), f.name
