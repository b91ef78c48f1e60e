"""Benches of the ferroelectric capacitor and the MFMIS FeFET (paper Fig. 2, ED 1-6).

Drain current is ``-i(vd)``; the gate source is ``vg`` (energy = -int v(g)*i(vg) dt); P/Ps of
the FeFET's ferroelectric is ``v(xfet.xfe.pm)``, its floating gate ``v(xfet.fg)``, and the
channel's own transport current (without gate-overlap displacement current) is saved as
``@b.xfet.xch.bch[i]``.
"""
from __future__ import annotations

import math

from ..params import ParamSet, spice_params
from . import devices
from .core import Netlist, Tran
from .stimuli import PulseTrain, pulse_train, segments, triangle

GEAR = {"method": "gear"}  # stiff exponential switching rates (DESIGN.md)
# major loop; reversal A -> B, nested C -> D -> C, back to A, to B, to A; wiping-out at +-6 V.
# A..D sit on the steep part of the default film's loop (Ec ~ 1.4 MV/cm at 1 us/V).
PV_A, PV_B, PV_C, PV_D = 2.317, -1.956, 2.184, -2.039
PV_LEVELS_V = (0, 6, -6, PV_A, PV_B, PV_C, PV_D, PV_C, PV_A, PV_B, PV_A, 6, -6, 0)
CHANNEL_CURRENT = "@b.xfet.xch.bch[i]"


def fe_pv(params: ParamSet, area_um2: float = 100.0, rate_V_s: float = 1e6, p0: float = -1.0,
          levels_V: tuple[float, ...] = PV_LEVELS_V) -> Netlist:
    """P-V of a bare HZO capacitor driven through a sequence of turning points at a constant
    ramp rate (default: a major loop, nested first-order reversal loops, then a wiping-out
    excursion)."""
    pwl, times = segments(levels_V, rate_V_s)
    stop = float(times[-1])
    n = Netlist("fe_pv", Tran(stop / 4000, stop, min(5e-9, stop / 2000)),
                libraries=("ferroelectric.lib",), options=dict(GEAR),
                title="HZO capacitor P-V loops")
    n.add("va", ("a", "0"), pwl)
    n.add("xfe", ("a", "0"), "fecap", **spice_params(params.ferro), a_fe_um2=area_um2, p0=p0)
    return n


def fefet_transfer(params: ParamSet, ratio: float = 0.053, p0: float = 0.0,
                   cycles: int = 2) -> Netlist:
    """Triangular gate sweep (+-`operation.sweep_V`, quarter period `operation.sweep_quarter_s`)
    of one MFMIS gate with A_FE/A_DE = `ratio` (``inf``: pure dielectric) at the read drain
    bias; `cycles` periods, the last one is the measured loop."""
    op = params.operation
    pwl, stop = triangle(op.sweep_V, op.sweep_quarter_s, cycles)
    name = f"fefet_transfer_{'de' if math.isinf(ratio) else 'r' + str(ratio).replace('.', 'p')}"
    n = Netlist(name, Tran(op.sweep_quarter_s / 500, stop, op.sweep_quarter_s / 200),
                libraries=devices.FEFET_LIBS, options=dict(GEAR), saves=(CHANNEL_CURRENT,),
                title=f"MFMIS FeFET transfer hysteresis, A_FE/A_DE = {ratio:g}")
    n.add("vg", ("g", "0"), pwl)
    n.add("vd", ("d", "0"), op.read_vd_V)
    subckt, device = devices.mfmis(params, ratio, p0)
    n.add("xfet", ("d", "g", "0"), subckt, **device)
    return n


def fefet_pulse_train(params: ParamSet, amplitudes_V, ratio: float, p0: float,
                      width_s: float, edge_s: float, period_s: float,
                      tail_s: float | None = None, max_step_s: float | None = None,
                      name: str = "fefet_pulses") -> tuple[Netlist, PulseTrain]:
    """Gate pulses on one MFMIS gate with reads at the read bias between them; returns the
    netlist and the stimulus timing (pulse starts/ends, read instants)."""
    op = params.operation
    train = pulse_train(amplitudes_V, width_s, edge_s, period_s, rest_V=op.read_vg_V,
                        tail_s=tail_s)
    tmax = max_step_s if max_step_s is not None else edge_s / 10
    n = Netlist(name, Tran(min(tmax, train.stop_s / 100), train.stop_s, tmax),
                libraries=devices.FEFET_LIBS, options=dict(GEAR), saves=(CHANNEL_CURRENT,),
                title=f"MFMIS FeFET pulse train, A_FE/A_DE = {ratio:g}")
    n.add("vg", ("g", "0"), train.pwl)
    n.add("vd", ("d", "0"), op.read_vd_V)
    subckt, device = devices.mfmis(params, ratio, p0)
    n.add("xfet", ("d", "g", "0"), subckt, **device)
    return n, train


def fefet_switch(params: ParamSet, ratio: float = 0.053, amplitude_V: float | None = None,
                 width_s: float | None = None) -> Netlist:
    """One program pulse then one erase pulse (the paper's Fig. 2e), from the erased state."""
    op = params.operation
    amp = op.program_V if amplitude_V is None else amplitude_V
    width = op.pulse_s if width_s is None else width_s
    return fefet_pulse_train(params, (amp, -amp), ratio, -1.0, width, op.edge_s,
                             period_s=width + 50e-9, name="fefet_switch")[0]


def linear_cap_energy(amplitude_V: float = 8.5, cap_F: float = 1e-12,
                      r_source_ohm: float = 1e3, width_s: float = 20e-9,
                      edge_s: float = 1e-11) -> tuple[Netlist, PulseTrain]:
    """The energy-extraction check: a pulse with edges much faster than RC into a linear
    capacitor through a resistor. Over the event the source delivers C*V^2 (half stored and
    returned to the resistor on discharge, half lost charging), to within ~edge/(3 RC)."""
    train = pulse_train((amplitude_V,), width_s, edge_s, width_s + 20 * r_source_ohm * cap_F)
    n = Netlist("linear_cap_energy", Tran(edge_s, train.stop_s, edge_s),
                title="energy extraction check on a linear capacitor")
    n.add("vg", ("g", "0"), train.pwl)
    n.add("rs", ("g", "c"), r_source_ohm)
    n.add("cl", ("c", "0"), cap_F)
    return n, train
