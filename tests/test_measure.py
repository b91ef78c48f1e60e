"""Tests of spicefet.measure on analytic curves whose answers are known exactly."""
import numpy as np
import pytest

from spicefet import measure as m

LN10 = np.log(10.0)


def softplus(x):
    return np.logaddexp(0.0, x)


def charge_fet(vg, vt=0.7, ss_mV=150.0, beta_A_V=1e-4, floor_A=1e-14):
    """Linear-region charge-model FET: I = beta*u*ln(1+exp((Vg-Vt)/u)) + floor.

    Deep below Vt it is an exact exponential with swing ss_mV; far above Vt it is exactly
    beta*(Vg - Vt) (so gm_max = beta and the max-gm intercept is Vt).
    """
    u = ss_mV * 1e-3 / LN10
    return beta_A_V * u * softplus((vg - vt) / u) + floor_A


# --------------------------------------------------------------------------- swing
@pytest.mark.parametrize("ss_mV", [61.0, 150.0, 400.0])
def test_swing_exact_on_charge_model(ss_mV):
    vg = np.linspace(-5, 8, 1301)
    ss = m.subthreshold_swing_mV_dec(vg, charge_fet(vg, ss_mV=ss_mV))
    assert ss == pytest.approx(ss_mV, rel=2e-3)
    assert ss >= ss_mV * (1 - 1e-9)          # a secant can never beat the true minimum


def test_swing_ignores_noisy_floor_and_coarse_grid():
    rng = np.random.default_rng(1)
    vg = np.linspace(-5, 8, 131)                # 0.1 V steps: < 1 decade per step
    i = charge_fet(vg, floor_A=0.0) + 1e-13 * np.exp(0.3 * rng.standard_normal(vg.size))
    assert m.subthreshold_swing_mV_dec(vg, i) == pytest.approx(150.0, rel=0.01)


def test_swing_same_for_p_type_and_down_sweep():
    vg = np.linspace(-5, 8, 1301)
    i = charge_fet(vg)
    ref = m.subthreshold_swing_mV_dec(vg, i)
    assert m.subthreshold_swing_mV_dec(vg[::-1], i[::-1]) == pytest.approx(ref, rel=1e-12)
    assert m.subthreshold_swing_mV_dec(-vg, -i) == pytest.approx(ref, rel=1e-12)


def test_swing_window_is_respected():
    vg = np.linspace(-5, 8, 1301)
    i = charge_fet(vg)
    # a window that starts near threshold only sees the rounded part of the curve
    assert m.subthreshold_swing_mV_dec(vg, i, i_low_A=1e-6, i_high_A=2e-4) > 200.0
    assert m.subthreshold_swing_mV_dec(vg, i, i_low_A=1e-12, i_high_A=1e-9) == pytest.approx(
        150.0, rel=1e-3)
    with pytest.raises(ValueError, match="decade"):
        m.subthreshold_swing_mV_dec(vg, i, i_low_A=1e-9, i_high_A=5e-9)


def test_swing_rejects_small_on_off():
    vg = np.linspace(0, 1, 50)
    with pytest.raises(ValueError, match="decade"):
        m.subthreshold_swing_mV_dec(vg, 1e-6 * (1 + vg))


# --------------------------------------------------------------------------- thresholds
def test_vth_constant_current_exact_for_exponential():
    vg = np.linspace(-2, 2, 41)                 # coarse: log interpolation must be exact
    i0, v0, ss = 1e-12, -1.0, 0.2
    i = i0 * 10 ** ((vg - v0) / ss)
    w, l = 10.0, 3.0
    expect = v0 + ss * np.log10(1e-8 * w / l / i0)
    assert m.vth_constant_current(vg, i, w, l) == pytest.approx(expect, abs=1e-12)
    assert m.vth_constant_current(vg[::-1], i[::-1], w, l) == pytest.approx(expect, abs=1e-12)
    assert m.vth_constant_current(-vg, -i, w, l) == pytest.approx(-expect, abs=1e-12)


def test_vth_constant_current_uses_last_crossing_above_noisy_floor():
    vg = np.linspace(-3, 3, 601)
    i = 1e-12 * 10 ** (vg / 0.1)
    i[:100] = 3e-8 * (1 + 0.5 * np.sin(np.arange(100)))   # floor that wanders over the criterion
    expect = 0.1 * np.log10(1e-8 * 10 / 1e-12)           # 0.5 V
    assert m.vth_constant_current(vg, i, 10.0, 1.0) == pytest.approx(expect, abs=1e-9)


def test_vth_constant_current_errors():
    vg = np.linspace(0, 1, 11)
    with pytest.raises(ValueError, match="never crosses"):
        m.vth_constant_current(vg, np.full(11, 1e-12), 10, 3)
    with pytest.raises(ValueError, match="monotonic"):
        m.vth_constant_current(np.r_[vg, vg], np.r_[vg, vg] + 1e-12, 10, 3)
    with pytest.raises(ValueError, match="NaN"):
        m.vth_constant_current(vg, np.r_[np.nan, vg[1:]], 10, 3)
    with pytest.raises(ValueError, match="length"):
        m.vth_constant_current(vg, vg[:-1] + 1, 10, 3)
    with pytest.raises(ValueError, match="positive"):
        m.vth_constant_current(vg, vg + 1, 0, 3)


def test_vth_max_gm_recovers_vt():
    vg = np.linspace(-5, 8, 1301)
    assert m.vth_max_gm(vg, charge_fet(vg, vt=0.7, floor_A=0)) == pytest.approx(0.7, abs=1e-6)
    assert m.vth_max_gm(vg, -charge_fet(vg, vt=0.7, floor_A=0)) == pytest.approx(0.7, abs=1e-6)


def test_vth_max_gm_with_mobility_degradation():
    # I = b*Vov/(1+theta*Vov) for Vov>0: gm peaks at Vov=0+, tangent there passes through Vt
    vg = np.linspace(0.0, 5.0, 5001)
    vov = np.clip(vg - 1.0, 0.0, None)
    i = 1e-4 * vov / (1 + 0.5 * vov)
    assert m.vth_max_gm(vg, i) == pytest.approx(1.0, abs=2e-3)


def test_vth_max_gm_rejects_flat_curve():
    with pytest.raises(ValueError, match="zero"):
        m.vth_max_gm(np.linspace(0, 1, 5), np.ones(5))


# --------------------------------------------------------------------------- on/off, mobility
def test_on_off_ratio():
    assert m.on_off_ratio([1e-14, -3e-9, 2e-6]) == pytest.approx(2e8)
    with pytest.raises(ValueError, match="zero"):
        m.on_off_ratio([0.0, 1e-6])


@pytest.mark.parametrize("vd", [0.1, -0.05])
def test_field_effect_mobility_exact(vd):
    w, l, cox, mu = 10.0, 100.0, 1.328e-2, 20.0
    beta = mu * 1e-4 * cox * w / l * vd          # I = mu*Cox*(W/L)*Vd*(Vg - Vt) in strong inversion
    vg = np.linspace(-5, 8, 1301)
    i = charge_fet(vg, beta_A_V=beta, floor_A=0)
    assert m.field_effect_mobility_cm2Vs(vg, i, vd, w, l, cox) == pytest.approx(mu, rel=1e-6)
    assert m.field_effect_mobility_cm2Vs(vg[::-1], i[::-1], vd, w, l, cox) == pytest.approx(
        mu, rel=1e-6)


def test_field_effect_mobility_errors():
    vg = np.linspace(0, 1, 11)
    with pytest.raises(ValueError, match="drain"):
        m.field_effect_mobility_cm2Vs(vg, vg, 0.0, 10, 3, 1e-2)
    with pytest.raises(ValueError, match="positive"):
        m.field_effect_mobility_cm2Vs(vg, vg, 0.1, 10, 3, -1e-2)


# --------------------------------------------------------------------------- hysteresis
def test_hysteresis_window_exact_shift_and_sign():
    up = np.linspace(-5, 8, 261)                # 0.05 V grid; the 1.5 V shift is on-grid
    down = up[::-1]
    i_up = charge_fet(up, vt=2.0)
    i_down = charge_fet(down, vt=0.5)
    assert m.hysteresis_window_V(up, i_up, down, i_down, 1e-9) == pytest.approx(1.5, abs=1e-9)
    assert m.hysteresis_window_V(up, charge_fet(up, vt=0.5), down, charge_fet(down, vt=2.0),
                                 1e-9) == pytest.approx(-1.5, abs=1e-9)


def test_hysteresis_window_reports_branch():
    up = np.linspace(-5, 8, 301)
    with pytest.raises(ValueError, match="down branch"):
        m.hysteresis_window_V(up, charge_fet(up), up, np.full(up.size, 1e-14), 1e-9)


# --------------------------------------------------------------------------- energy
def test_energy_constant_and_sine():
    t = np.linspace(0, 1e-6, 1001)
    # source at 2 V delivering 1 mA: ngspice reports I(vsource) = -1 mA
    assert m.energy_J(t, np.full(t.size, 2.0), np.full(t.size, -1e-3)) == pytest.approx(2e-9)
    v = np.sin(2 * np.pi * 1e6 * t)
    assert m.energy_J(t, v, -1e-3 * v) == pytest.approx(0.5e-9, rel=1e-5)
    # a purely reactive current delivers no net energy over a period
    assert abs(m.energy_J(t, v, 1e-3 * np.cos(2 * np.pi * 1e6 * t))) < 1e-15


def test_energy_errors():
    t = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="non-decreasing"):
        m.energy_J(t[::-1], t, t)
    with pytest.raises(ValueError, match="length"):
        m.energy_J(t, t[:-1], t)
    with pytest.raises(ValueError, match="1-D"):
        m.energy_J(t.reshape(5, 1), t, t)


# --------------------------------------------------------------------------- multi-level
def test_distinct_levels_counts_monotonic_steps_and_merges_stalls():
    g = np.concatenate([np.linspace(1e-6, 2e-6, 129)])
    assert m.distinct_levels(g) == 129
    assert m.distinct_levels(g[::-1]) == 129        # depression counts the same way
    stalled = g.copy()
    stalled[50:60] = stalled[50]                           # ten pulses that did nothing
    assert m.distinct_levels(stalled) == 129 - 9
    assert m.distinct_levels(np.ones(5)) == 1


def test_neurosim_label_matches_its_published_anchor_points():
    # rows of NeuroSim's NL <-> normalized-A table (documents/Nonlinearity-NormA)
    for nl, a in [(1.51, 0.8195), (3.01, 0.3853), (6.01, 0.1351)]:
        assert m.neurosim_nl(a) == pytest.approx(nl, rel=2e-3)
    assert m.neurosim_nl(1e4) < 1e-3                 # linear


@pytest.mark.parametrize("a_norm", [0.2, 1.0, 5.0])
def test_soft_bounds_fit_recovers_the_generating_curve(a_norm):
    p = np.arange(129.0)
    g = m.soft_bounds_curve(p, 1e-7, 3e-6, a_norm * 128, 128)
    up = m.fit_soft_bounds(g, increasing=True)
    assert up["a_norm"] == pytest.approx(a_norm, rel=1e-4) and up["r2"] > 0.999999
    down = m.fit_soft_bounds(g[0] + g[-1] - g, increasing=False)  # mirrored: steep first
    assert down["a_norm"] == pytest.approx(a_norm, rel=1e-4)
    assert up["alpha_per_pulse"] == pytest.approx(1 / (a_norm * 128))
