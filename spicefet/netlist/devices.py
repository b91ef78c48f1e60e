"""Device instances: (subcircuit name, parameters) for the MoS2 FET, the MFMIS FeFET, the
duplex FeFET and the pure-dielectric FET, built from a `ParamSet`.

The FeFET subcircuits take the channel's parameters, the ferroelectric's and the geometry;
this module is the one place that assembles them, so every bench, cell and array uses the
same device.
"""
from __future__ import annotations

import math

from ..params import ParamSet, spice_params

FEFET_LIBS = ("mos2.lib", "ferroelectric.lib", "fefet.lib")  # include each exactly once


def _channel(params: ParamSet, drop: tuple[str, ...] = ()) -> dict[str, float]:
    ch = spice_params(params.channel)
    ch["w_um"] = params.duplex.w_seg_um  # each gate sits over one segment of the channel
    return {k: v for k, v in ch.items() if k not in drop}


def mfmis(params: ParamSet, ratio: float, p0: float) -> tuple[str, dict[str, float]]:
    """One MFMIS gate over one channel segment with A_FE/A_DE = `ratio` and initial P/Ps `p0`;
    ``ratio = inf`` gives the pure-dielectric FET (no ferroelectric)."""
    d = params.duplex
    if math.isinf(ratio):
        return "pure_de_fet", {**_channel(params), "a_de_um2": d.a_de_um2}
    return "mfmis_fefet", {**_channel(params), **spice_params(params.ferro),
                           "a_fe_um2": ratio * d.a_de_um2, "a_de_um2": d.a_de_um2,
                           "q_fg0_fC": d.q_fg0_fC, "p0": p0}


def duplex(params: ParamSet, p0_t: float, p0_i: float) -> tuple[str, dict[str, float]]:
    """The duplex FeFET (pins d gt gi s) with initial states `p0_t`, `p0_i` of its gates."""
    d = params.duplex
    geometry = {"a_fe_t_um2": d.ratio_t * d.a_de_um2, "a_de_t_um2": d.a_de_um2,
                "w_t_um": d.w_seg_um, "p0_t": p0_t, "q_fg0_t_fC": d.q_fg0_fC,
                "a_fe_i_um2": d.ratio_i * d.a_de_um2, "a_de_i_um2": d.a_de_um2,
                "w_i_um": d.w_seg_um, "p0_i": p0_i, "q_fg0_i_fC": d.q_fg0_fC}
    return "duplex_fefet", {**geometry, **spice_params(params.ferro),
                            **_channel(params, drop=("w_um",))}


def selector(params: ParamSet) -> tuple[str, dict[str, float]]:
    """The pure-dielectric selector transistor of the 2T1D cell."""
    return "mos2sel", spice_params(params.selector)
