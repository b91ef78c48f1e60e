"""Extraction of device figures from simulated (or measured) curves.

Pure numpy, vectorised. Every function takes plain arrays with units in the argument names
(``vg_V``, ``id_A``, ``t_s`` ...) and returns a float in the unit its name says. Unusable input
(wrong shapes, NaN, too few points, a curve that never reaches the requested current, ...)
raises ``ValueError`` with a message that says what is wrong.

Conventions
-----------
* Transfer curves are one sweep branch: ``vg_V`` strictly monotonic (up or down). Currents are
  used by magnitude where a logarithm is taken, so n- and p-type curves and either drain
  polarity work.
* ngspice reports ``I(vsource)`` flowing *into* the source's + node, so the power delivered by a
  source is ``-V*I`` (see :func:`energy_J`).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "vth_constant_current",
    "vth_max_gm",
    "subthreshold_swing_mV_dec",
    "on_off_ratio",
    "field_effect_mobility_cm2Vs",
    "hysteresis_window_V",
    "energy_J",
]


# --------------------------------------------------------------------------- input checks
def _as_1d(name: str, x, min_points: int = 2) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if a.size < min_points:
        raise ValueError(f"{name} needs at least {min_points} points, got {a.size}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _pair(vg_V, id_A, min_points: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Validate one sweep branch and return it ordered by increasing gate voltage."""
    vg = _as_1d("vg_V", vg_V, min_points)
    i = _as_1d("id_A", id_A, min_points)
    if vg.shape != i.shape:
        raise ValueError(f"vg_V and id_A differ in length ({vg.size} vs {i.size})")
    step = np.diff(vg)
    if np.all(step > 0):
        return vg, i
    if np.all(step < 0):
        return vg[::-1].copy(), i[::-1].copy()
    raise ValueError("vg_V must be strictly monotonic: pass one sweep branch (split up/down "
                     "sweeps first and drop repeated points)")


def _log10_abs(i: np.ndarray) -> np.ndarray:
    a = np.abs(i)
    if np.any(a <= 0):
        raise ValueError("id_A contains zero current: a logarithmic extraction needs |I| > 0 "
                         "(add the instrument/leakage floor or trim those points)")
    return np.log10(a)


def _rising(logi: np.ndarray) -> bool:
    """True when |I| grows with Vg (n-type branch), judged from the two halves of the curve."""
    half = logi.size // 2
    return float(np.mean(logi[logi.size - half:])) >= float(np.mean(logi[:half]))


def _vg_at_current(vg_V, id_A, i_A: float) -> float:
    """Gate voltage where |Id| crosses ``i_A`` (log-linear interpolation), on the last crossing
    before the on-state, so noise on the off-state floor does not matter."""
    if not np.isfinite(i_A) or i_A <= 0:
        raise ValueError(f"the read current must be a positive finite number of amperes, got {i_A}")
    vg, i = _pair(vg_V, id_A, 2)
    logi = _log10_abs(i)
    target = np.log10(i_A)
    if not _rising(logi):          # p-type / falling branch: mirror the gate axis
        vg, logi = -vg[::-1], logi[::-1]
        sign = -1.0
    else:
        sign = 1.0
    below = logi < target
    if not below.any() or below.all():
        raise ValueError(f"|Id| never crosses {i_A:.3g} A (range {10**logi.min():.3g} .. "
                         f"{10**logi.max():.3g} A): widen the gate sweep or change the current")
    k = int(np.flatnonzero(below)[-1])         # last point below the target
    if k == logi.size - 1:
        raise ValueError(f"|Id| ends below {i_A:.3g} A: the branch does not turn on")
    frac = (target - logi[k]) / (logi[k + 1] - logi[k])
    return sign * float(vg[k] + frac * (vg[k + 1] - vg[k]))


# --------------------------------------------------------------------------- public API
def vth_constant_current(vg_V, id_A, w_um: float, l_um: float,
                         i_crit_A_per_sq: float = 1e-8) -> float:
    """Constant-current threshold voltage [V].

    Vth is the gate voltage where ``|Id| = i_crit_A_per_sq * W/L`` [A], found by linear
    interpolation of ``log10|Id|`` versus ``vg_V`` [V] on one sweep branch (``vg_V`` strictly
    monotonic; up or down). The last crossing before the on-state is used, so a noisy floor
    that touches the criterion is ignored. ``w_um``, ``l_um`` in µm (only the ratio matters).
    """
    if not (w_um > 0 and l_um > 0):
        raise ValueError(f"w_um and l_um must be positive, got {w_um}, {l_um}")
    return _vg_at_current(vg_V, id_A, i_crit_A_per_sq * w_um / l_um)


def vth_max_gm(vg_V, id_A) -> float:
    """Threshold voltage [V] by linear extrapolation at maximum transconductance.

    ``gm = dId/dVg`` (second-order finite differences, ``np.gradient``); at the Vg of maximum
    ``|gm|`` the tangent ``Id = Id_k + gm_k (Vg - Vg_k)`` is extrapolated to ``Id = 0``.
    No ``Vds/2`` correction is applied (subtract it yourself for the linear-region ELR
    convention). Works for either sign of the drain current.
    """
    vg, i = _pair(vg_V, id_A, 3)
    gm = np.gradient(i, vg)
    k = int(np.argmax(np.abs(gm)))
    if gm[k] == 0:
        raise ValueError("transconductance is zero everywhere: the curve has no gate control")
    return float(vg[k] - i[k] / gm[k])


def subthreshold_swing_mV_dec(vg_V, id_A, i_low_A: float | None = None,
                              i_high_A: float | None = None) -> float:
    """Minimum subthreshold swing [mV/decade] inside a current window.

    For every point with ``i_low_A <= |Id| <= i_high_A`` the swing is taken as a secant over
    (at least) one decade: from that point to the first later point whose ``|Id|`` is one
    decade higher (on the monotone envelope of the curve, so floor noise cannot make a
    spuriously steep pair). The minimum over the window is returned. For a pure exponential
    ``Id = I0*10**(Vg/SS)`` this is exactly SS; elsewhere it is >= the local minimum swing.

    Defaults: ``i_low_A`` = 10 x the smallest ``|Id|`` (one decade above the floor),
    ``i_high_A`` = max ``|Id|`` / 100 (two decades below the on-current).
    The window must span at least one decade.
    """
    vg, i = _pair(vg_V, id_A, 3)
    logi = _log10_abs(i)
    if not _rising(logi):
        vg, logi = -vg[::-1], logi[::-1]
    lo = logi.min() + 1.0 if i_low_A is None else _log_positive("i_low_A", i_low_A)
    hi = logi.max() - 2.0 if i_high_A is None else _log_positive("i_high_A", i_high_A)
    if hi - lo < 1.0:
        raise ValueError(f"the current window {10**lo:.3g} .. {10**hi:.3g} A spans less than one "
                         "decade: the curve has too small an on/off ratio for a swing, or "
                         "widen i_low_A/i_high_A")
    env = np.maximum.accumulate(logi)          # monotone envelope (handles floor noise)
    start = np.flatnonzero((logi >= lo) & (logi <= hi) & (logi >= env - 1e-12))
    if start.size == 0:
        raise ValueError("no point of the curve lies inside the current window")
    j = np.searchsorted(env, logi[start] + 1.0, side="left")
    ok = j < logi.size
    start, j = start[ok], j[ok]
    ok = logi[j] <= hi + 1e-12
    start, j = start[ok], j[ok]
    if start.size == 0:
        raise ValueError("no one-decade span of the curve fits inside the current window "
                         f"{10**lo:.3g} .. {10**hi:.3g} A")
    ss = (vg[j] - vg[start]) / (logi[j] - logi[start])
    return float(1e3 * ss.min())


def _log_positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite current in A, got {value}")
    return float(np.log10(value))


def on_off_ratio(id_A) -> float:
    """On/off ratio ``max|Id| / min|Id|`` (dimensionless) of a transfer curve [A]."""
    i = np.abs(_as_1d("id_A", id_A, 2))
    low = i.min()
    if low <= 0:
        raise ValueError("id_A contains zero current: the on/off ratio is unbounded "
                         "(include the leakage/instrument floor)")
    return float(i.max() / low)


def field_effect_mobility_cm2Vs(vg_V, id_A, vd_V: float, w_um: float, l_um: float,
                                cox_F_m2: float) -> float:
    """Peak linear-region field-effect mobility [cm^2/(V s)].

    ``mu_FE = max(gm / Vd) * L / (W * Cox)`` with ``gm = dId/dVg`` [S] (np.gradient),
    ``vd_V`` the drain bias of the sweep [V] (small, linear region; its sign follows Id),
    ``w_um``/``l_um`` [µm] and ``cox_F_m2`` the gate capacitance per area [F/m^2].
    Contact resistance is not removed: it lowers the result (use a long channel).
    """
    vg, i = _pair(vg_V, id_A, 3)
    if not np.isfinite(vd_V) or vd_V == 0:
        raise ValueError(f"vd_V must be a nonzero drain bias in V, got {vd_V}")
    if not (w_um > 0 and l_um > 0 and cox_F_m2 > 0):
        raise ValueError(f"w_um, l_um and cox_F_m2 must be positive, got {w_um}, {l_um}, "
                         f"{cox_F_m2}")
    g = np.gradient(i, vg) / vd_V
    peak = float(np.max(np.abs(g)))
    if peak == 0:
        raise ValueError("transconductance is zero everywhere: no mobility can be extracted")
    mu_m2 = peak * l_um / (w_um * cox_F_m2)
    return mu_m2 * 1e4


def hysteresis_window_V(vg_up, id_up, vg_down, id_down, i_read_A: float) -> float:
    """Memory (hysteresis) window [V] at a read current ``i_read_A`` [A].

    ``window = Vth_up - Vth_down`` where each Vth is the gate voltage at which ``|Id|`` crosses
    ``i_read_A`` on that branch (log interpolation, as in :func:`vth_constant_current`).
    Positive for counter-clockwise (ferroelectric) hysteresis of an n-type device, negative
    for clockwise (charge-trapping) hysteresis; take ``abs`` for a magnitude.
    """
    try:
        v_up = _vg_at_current(vg_up, id_up, i_read_A)
    except ValueError as err:
        raise ValueError(f"up branch: {err}") from None
    try:
        v_down = _vg_at_current(vg_down, id_down, i_read_A)
    except ValueError as err:
        raise ValueError(f"down branch: {err}") from None
    return v_up - v_down


def energy_J(t_s, v_V, i_A) -> float:
    """Energy delivered by a source [J]: ``-∫ V(t)·I(t) dt`` (trapezoid rule).

    ``t_s`` [s] non-decreasing, ``v_V`` [V] the source voltage, ``i_A`` [A] the ngspice
    current ``I(vsource)``, which flows into the source's + node: a source delivering power
    has ``V*I < 0``, hence the minus sign. Do not use ``.options interp`` output for this.
    """
    t = _as_1d("t_s", t_s, 2)
    v = _as_1d("v_V", v_V, 2)
    i = _as_1d("i_A", i_A, 2)
    if not (t.size == v.size == i.size):
        raise ValueError(f"t_s, v_V and i_A differ in length ({t.size}, {v.size}, {i.size})")
    if np.any(np.diff(t) < 0):
        raise ValueError("t_s must be non-decreasing (one transient, in time order)")
    return float(-np.trapezoid(v * i, t))


# --------------------------------------------------------------------------- multi-level states
def distinct_levels(g_S, min_step_rel: float = 1e-3) -> int:
    """Number of distinct states in a monotonic pulse sequence ``g_S`` (state 0 = before the
    first pulse). A state counts when it moves beyond the previous one in the sequence's overall
    direction by at least ``min_step_rel`` of the total range; a step backwards or a step
    smaller than that merges with its predecessor."""
    g = _as_1d("g_S", g_S)
    span = g[-1] - g[0]
    if span == 0:
        return 1
    step = np.diff(g) * np.sign(span)
    return 1 + int(np.count_nonzero(step >= min_step_rel * abs(span)))


def soft_bounds_curve(pulse, g_min_S: float, g_max_S: float, a_pulses: float,
                      p_max: float) -> np.ndarray:
    """NeuroSim's potentiation curve ``G(P) = B(1 - exp(-P/A)) + Gmin`` with
    ``B = (Gmax - Gmin)/(1 - exp(-Pmax/A))`` (A in pulses). A depression curve is the same
    form read from the other end: pass ``p_max - P`` and swap the bounds."""
    b = (g_max_S - g_min_S) / -np.expm1(-p_max / a_pulses)
    return b * -np.expm1(-np.asarray(pulse, float) / a_pulses) + g_min_S


def neurosim_nl(a_norm: float) -> float:
    """NeuroSim's nonlinearity label (0 = linear ... ~10) of the normalized curve with
    ``A/Pmax = a_norm``. NeuroSim's published NL <-> A table is the largest deviation of the
    normalized curve from the straight line, in units of 0.099 (we checked the table's rows
    reproduce to 4 digits), so it is computed here from that definition."""
    if not a_norm > 0:
        raise ValueError(f"normalized A must be > 0, got {a_norm!r}")
    x = np.linspace(0.0, 1.0, 20001)
    g = -np.expm1(-x / a_norm) / -np.expm1(-1.0 / a_norm)
    return float(np.max(g - x) / 0.099)


def fit_soft_bounds(g_S, increasing: bool) -> dict[str, float]:
    """Fit NeuroSim's curve to a potentiation (`increasing`) or depression sequence ``g_S``
    (state after 0..Pmax pulses). Depression is read as the saturating drop from its first
    state, ``G(0) - G(P)``: the same form mirrored, steep first pulses and soft bound last. Returns ``g_min_S``, ``g_max_S``, ``a_pulses`` (NeuroSim's A),
    ``a_norm`` (A/Pmax), ``nl`` (NeuroSim label) and ``r2``; also the aihwkit SoftBoundsPmax
    view, whose ``alpha = 1/A`` per pulse and ``p_max`` = number of pulses."""
    from scipy.optimize import curve_fit

    g = _as_1d("g_S", g_S, 4)
    p_max = g.size - 1
    seq = g if increasing else -g  # a depression is a potentiation curve mirrored in G
    pulses = np.arange(g.size, dtype=float)
    span = seq[-1] - seq[0]
    if span <= 0:
        raise ValueError("the sequence does not move in the stated direction")

    norm = (seq - seq[0]) / span  # fit in normalized units: siemens would be ~1e-12 squared

    def model(p, log_a):
        return soft_bounds_curve(p, 0.0, 1.0, 10.0 ** log_a * p_max, p_max)

    # start from the best point of a coarse grid: the cost is flat for nearly linear curves
    grid = np.linspace(-3, 4, 141)
    log_a0 = grid[int(np.argmin([np.sum((model(pulses, a) - norm) ** 2) for a in grid]))]
    (log_a,), _ = curve_fit(model, pulses, norm, p0=[log_a0], bounds=([-4], [6]))
    a_norm = 10.0 ** log_a
    resid = model(pulses, log_a) - norm
    r2 = 1.0 - np.sum(resid ** 2) / np.sum((norm - norm.mean()) ** 2)
    lo, hi = (g[0], g[-1]) if increasing else (g[-1], g[0])
    return {"g_min_S": float(lo), "g_max_S": float(hi), "a_pulses": float(a_norm * p_max),
            "a_norm": float(a_norm), "nl": neurosim_nl(a_norm), "r2": float(r2),
            "alpha_per_pulse": float(1.0 / (a_norm * p_max)), "p_max": float(p_max)}
