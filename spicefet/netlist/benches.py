"""Device benches: functions of keyword options that return a `Netlist`.

Every bench takes the `ParamSet` first and numeric keyword options (units in their names);
`BENCHES` maps the CLI name to the function. Drain current is ``-i(vd)`` (ngspice reports the
current flowing into the source's + node).
"""
from __future__ import annotations

import inspect
from typing import Callable

from ..errors import ValidationError
from ..params import ParamSet, parse_number, spice_params
from .array import array_netlist
from .core import Dc, Netlist, Sweep
from .fefet_benches import fe_pv, fefet_switch, fefet_transfer


# Sub-pA currents need tight tolerances: ngspice's default abstol (1 pA) moves the extracted SS
# by ~2% (models/mos2.lib notes); abstol below ~1e-16 fails at mA currents.
SUBTHRESHOLD_OPTIONS = {"reltol": 1e-6, "abstol": 1e-16, "vntol": 1e-10}


def channel_idvg(params: ParamSet, vd_V: float = 0.1, vg_start_V: float = -5.0,
                 vg_stop_V: float = 10.0, vg_step_V: float = 0.02,
                 section: str = "channel") -> Netlist:
    """Id-Vg transfer sweep of the MoS2 channel at a fixed drain bias."""
    n = Netlist("channel_idvg", Dc((Sweep("vg", vg_start_V, vg_stop_V, vg_step_V),)),
                libraries=("mos2.lib",), options=dict(SUBTHRESHOLD_OPTIONS),
                title=f"MoS2 FET Id-Vg at Vd = {vd_V:g} V")
    n.add("vd", ("d", "0"), vd_V)
    n.add("vg", ("g", "0"), vg_start_V)
    n.add("xfet", ("d", "g", "0"), "mos2fet", **spice_params(params.section(section)))
    return n


def channel_idvd(params: ParamSet, vd_stop_V: float = 5.0, vd_step_V: float = 0.05,
                 vg_start_V: float = 0.0, vg_stop_V: float = 8.0, vg_step_V: float = 2.0,
                 section: str = "channel") -> Netlist:
    """Id-Vd output family: Vd swept (inner), Vg stepped (outer)."""
    n = Netlist("channel_idvd", Dc((Sweep("vd", 0.0, vd_stop_V, vd_step_V),
                                    Sweep("vg", vg_start_V, vg_stop_V, vg_step_V))),
                libraries=("mos2.lib",), options=dict(SUBTHRESHOLD_OPTIONS),
                title="MoS2 FET Id-Vd family")
    n.add("vd", ("d", "0"), 0.0)
    n.add("vg", ("g", "0"), vg_start_V)
    n.add("xfet", ("d", "g", "0"), "mos2fet", **spice_params(params.section(section)))
    return n


BENCHES: dict[str, Callable[..., Netlist]] = {
    "idvg": channel_idvg,
    "idvd": channel_idvd,
    "fe_pv": fe_pv,
    "fefet_transfer": fefet_transfer,
    "fefet_switch": fefet_switch,
    "array": array_netlist,
}


def bench_options(bench: str) -> dict[str, object]:
    """Keyword options of a bench with their defaults (everything after `params`)."""
    sig = inspect.signature(get_bench(bench))
    return {k: v.default for k, v in list(sig.parameters.items())[1:]}


def get_bench(bench: str) -> Callable[..., Netlist]:
    if bench not in BENCHES:
        raise ValidationError(f"unknown bench {bench!r}; benches: {', '.join(BENCHES)}")
    return BENCHES[bench]


def build_bench(bench: str, params: ParamSet, options: dict[str, str]) -> Netlist:
    """Build a bench from CLI option strings; numbers are parsed, names checked."""
    known = bench_options(bench)
    kwargs: dict[str, object] = {}
    for key, text in options.items():
        if key not in known:
            raise ValidationError(f"bench {bench!r} has no option {key!r}; options: "
                                  f"{', '.join(known)}")
        if isinstance(known[key], str):
            kwargs[key] = text  # validated where it is used (e.g. as a section name)
        elif isinstance(known[key], int) and not isinstance(known[key], bool):
            value = parse_number(text, f"{bench} option {key}")
            kwargs[key] = int(value) if value == int(value) else value  # the bench refuses 2.5
        else:
            kwargs[key] = parse_number(text, f"{bench} option {key}")
    return get_bench(bench)(params, **kwargs)
