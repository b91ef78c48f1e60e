"""Physical properties of the MoS2 channel model (models/mos2.lib), simulated by ngspice."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from spicefet import measure
from spicefet.netlist.benches import channel_idvg
from spicefet.netlist.core import Dc, Netlist, Sweep
from spicefet.params import ChannelParams, spice_params

LIB = Path(__file__).resolve().parents[1] / "models" / "mos2.lib"


def two_terminal_sweep(params, swap: bool, vg_V: float) -> Netlist:
    """Sweep V(a) from -1 to 1 V; the FET's d/s pins on (a, ground) or swapped."""
    n = Netlist("gummel", Dc((Sweep("va", -1.0, 1.0, 0.01),)), libraries=("mos2.lib",))
    n.add("va", ("a", "0"), 0.0)
    n.add("vg", ("g", "0"), vg_V)
    n.add("xfet", ("0", "g", "a") if swap else ("a", "g", "0"), "mos2fet",
          **spice_params(params.channel))
    return n


@pytest.mark.parametrize("vg_V", [-2.0, 0.7, 3.0, 8.0])
def test_gummel_symmetry_swapping_source_and_drain_reverses_current(engine, params, vg_V):
    a = -engine.run(two_terminal_sweep(params, False, vg_V))["i(va)"]
    b = -engine.run(two_terminal_sweep(params, True, vg_V))["i(va)"]
    # the device is S/D symmetric and the gate is referred to ground in both cases: the current
    # entering node a is the same function of V(a) whichever pin a is tied to
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-21)
    assert a[0] < 0 < a[-1]  # current flows from the higher-potential terminal


@pytest.mark.parametrize("vg_V", [0.0, 1.0, 4.0])
def test_output_conductance_is_continuous_through_zero_drain_bias(engine, params, vg_V):
    n = Netlist("gds", Dc((Sweep("vd", -0.02, 0.02, 0.0005),)), libraries=("mos2.lib",))
    n.add("vd", ("d", "0"), 0.0)
    n.add("vg", ("g", "0"), vg_V)
    n.add("xfet", ("d", "g", "0"), "mos2fet", **spice_params(params.channel))
    r = engine.run(n)
    gds = np.diff(-r["i(vd)"]) / np.diff(r["v-sweep"])
    assert np.all(gds > 0)
    jumps = np.abs(np.diff(gds)) / gds[:-1]
    assert jumps.max() < 0.02, f"gds jumps by {jumps.max():.3%} between neighbouring steps"


@pytest.mark.parametrize("vd_V", [0.1, 1.0, 5.0])
def test_drain_current_is_monotonic_in_gate_voltage(engine, params, vd_V):
    r = engine.run(channel_idvg(params, vd_V=vd_V, vg_start_V=-20, vg_stop_V=40, vg_step_V=0.05))
    i_d = -r["i(vd)"]
    # allow only solver noise: ngspice solves currents to ~1e-19 A at the 1e-14 A floor
    assert np.all(np.diff(i_d) >= -1e-9 * np.abs(i_d[1:]) - 1e-18)
    floor = params.channel.g_off_S * vd_V
    above = i_d[:-1] > 10 * floor
    assert np.all(np.diff(i_d)[above] > 0)


def test_extracted_subthreshold_swing_matches_the_parameter(engine, params):
    r = engine.run(channel_idvg(params, vd_V=0.1, vg_step_V=0.01))
    ss = measure.subthreshold_swing_mV_dec(r["v-sweep"], -r["i(vd)"])
    assert ss == pytest.approx(params.channel.ss_mVdec, rel=0.05)


def test_extracted_mobility_matches_the_parameter_on_a_long_channel(engine, params):
    long = params.with_overrides(["channel.l_um=100", "channel.w_um=10"])
    r = engine.run(channel_idvg(long, vd_V=0.05, vg_start_V=-2, vg_stop_V=15, vg_step_V=0.02))
    ch = long.channel
    mu = measure.field_effect_mobility_cm2Vs(r["v-sweep"], -r["i(vd)"], 0.05, ch.w_um, ch.l_um,
                                             ch.cox_F_m2)
    assert mu == pytest.approx(ch.mu_cm2Vs, rel=0.10)


def test_mobility_and_swing_follow_temperature(engine, params):
    hot = params.with_overrides(["channel.temp_C=125"])
    cold_r, hot_r = (engine.run(channel_idvg(p, vg_step_V=0.01)) for p in (params, hot))
    ss = [measure.subthreshold_swing_mV_dec(r["v-sweep"], -r["i(vd)"]) for r in (cold_r, hot_r)]
    t_ratio = (125 + 273.15) / (27 + 273.15)
    assert ss[1] / ss[0] == pytest.approx(t_ratio, rel=0.03)  # SS = n ln10 kT/q
    assert (-hot_r["i(vd)"])[-1] < (-cold_r["i(vd)"])[-1]    # phonon-limited mobility falls


def test_library_defaults_equal_the_default_parameter_file(params):
    """models/mos2.lib is usable without Python; its .param defaults must be the shipped set."""
    text = LIB.read_text()
    for subckt in ("mos2fet", "mos2sel"):
        block = re.search(rf"\.subckt {subckt} d g s params:(.*?)\n[^+]", text, re.S).group(1)
        defaults = dict(re.findall(r"(\w+)=([-\d.e+]+)", block))
        section = params.channel if subckt == "mos2fet" else params.selector
        assert set(defaults) == {f.name for f in fields(ChannelParams)}
        for name, value in defaults.items():
            assert float(value) == pytest.approx(getattr(section, name)), f"{subckt}.{name}"
