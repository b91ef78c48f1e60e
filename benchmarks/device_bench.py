"""FeFET transients: the 128+128-pulse T-type train (target < 10 s) and one transfer sweep, each
against the same netlist under bare `ngspice -b`."""
from __future__ import annotations

from spicefet.engine import LADDER, Engine
from spicefet.experiments.multilevel import N_PULSES, T_START_P0
from spicefet.netlist.fefet_benches import fefet_pulse_train, fefet_transfer
from spicefet.params import load_params

from .common import bare_ngspice, best_of, record


def main() -> None:
    params = load_params()
    op = params.operation
    train, _ = fefet_pulse_train(params, [op.t_pot_V] * N_PULSES + [op.t_dep_V] * N_PULSES,
                                 params.duplex.ratio_t, T_START_P0, op.t_pulse_s, op.t_edge_s,
                                 op.t_period_s, max_step_s=2 * op.t_edge_s, name="t_train")
    sweep = fefet_transfer(params, params.duplex.ratio_i)
    with Engine("shared", cache=None, ladder=LADDER[:1]) as eng:
        t_train = best_of(lambda: eng.run(train), 2)
        t_sweep = best_of(lambda: eng.run(sweep), 3)
    rows = {"128+128 pulse train, engine (s)": t_train,
            "128+128 pulse train, bare ngspice -b (s)": best_of(bare_ngspice(train.render()), 2),
            "transfer sweep (0.053), engine (s)": t_sweep,
            "transfer sweep (0.053), bare ngspice -b (s)": best_of(bare_ngspice(sweep.render()), 3),
            "pulse train target < 10 s": "met" if t_train < 10 else "MISSED"}
    record("device", rows)
