"""Wall time of a transfer fit and of a pulse-response fit (ngspice in the loop) on the
reference datasets; target < 60 s each.

Also times one finite-difference Jacobian (one netlist per varied parameter and drain bias)
run in parallel with `Engine.run_many` against the same netlists run one after another.
"""
from __future__ import annotations

import os
import time

from spicefet.engine import LADDER, Engine
from spicefet.fit import fit
from spicefet.fit.csvio import read_csv
from spicefet.fit.synthetic import DATA_DIR, FILES
from spicefet.fit.transfer import FIT_NAMES, TransferObjective, lmfit_parameters, start_params
from spicefet.params import load_params

from .common import RESULTS, best_of, record

TARGET_S = 60.0


def main() -> None:
    data_path = DATA_DIR / FILES["transfer"]
    out = RESULTS / "fit-transfer"
    rows: dict[str, float | str] = {"cores": os.cpu_count() or 1}
    t0 = time.perf_counter()
    outcome = fit("transfer", data_path, None, out / "fit.json", out / "fit.png", out / "fit.txt")
    cold = time.perf_counter() - t0
    with Engine("shared", cache=None, ladder=LADDER[:1]) as engine:
        data = read_csv(data_path, "transfer")
        base = start_params(load_params(), data, "channel")
        objective = TransferObjective(data, base, engine)
        params = lmfit_parameters(base.channel, FIT_NAMES)
        objective.jacobian(params)  # start the workers
        values = params.valuesdict()
        nets = [n for name in FIT_NAMES
                for n in objective.netlists({**values, name: values[name] * 1.001})]
        t_parallel = best_of(lambda: engine.run_many(nets), 5)
        t_serial = best_of(lambda: [engine.run(n) for n in nets], 5)
        t_warm = best_of(lambda: fit("transfer", data_path, None, out / "fit.json",
                                     engine=engine), 2)
    rows["transfer fit incl. engine start (s)"] = cold
    rows["transfer fit, warm engine (s)"] = t_warm
    rows["ngspice runs per fit"] = outcome.product.runs
    rows["jacobian batch: netlists"] = len(nets)
    rows["jacobian batch, run_many (s)"] = t_parallel
    rows["jacobian batch, serial (s)"] = t_serial
    rows["parallel speed-up"] = t_serial / t_parallel
    rows[f"target < {TARGET_S:g} s"] = "met" if cold < TARGET_S else "MISSED"
    # the pulse-response fit: 32 + 32 pulses of the T gate, one transient per evaluation
    pulse_path = DATA_DIR / FILES["pulse"]
    t0 = time.perf_counter()
    pulse = fit("pulse", pulse_path, None, out / "pulse.json", out / "pulse.png",
                out / "pulse.txt")
    t_pulse = time.perf_counter() - t0
    rows["pulse fit incl. engine start (s)"] = t_pulse
    rows["pulse fit: ngspice runs"] = pulse.product.runs
    rows["pulse fit: R^2"] = pulse.r2
    rows[f"pulse target < {TARGET_S:g} s"] = "met" if t_pulse < TARGET_S else "MISSED"
    record("fit", rows)


if __name__ == "__main__":
    main()
