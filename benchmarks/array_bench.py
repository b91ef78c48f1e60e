"""Array scaling: frozen-state MAC reads of 8x3 .. 128x128 pseudo-crossbars, generation and
simulation time vs cell count with fitted growth exponents, and the weight of the full
(switching) cell model against the frozen read model.

Simulation runs through the CLI backend (``ngspice -b``) so that ngspice's own CPU time can be
read from the children's resource usage: wall time on a shared machine depends on the load,
CPU time much less. Target (issue 5): a 128 x 128 frozen MAC read in under 30 s.
"""
from __future__ import annotations

import resource
import time

import numpy as np

from spicefet.engine import LADDER, Engine
from spicefet.experiments.array import frozen_mac_netlist
from spicefet.netlist import array as A
from spicefet.netlist.core import Op
from spicefet.params import load_params

from .common import record

SIZES = ((8, 3), (16, 16), (32, 32), (64, 64), (128, 128))
WEIGHT_SIZES = ((2, 2), (4, 4), (8, 8))
TARGET_S = 30.0


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _exponent(cells, times, min_cells: int = 200) -> float:
    x, y = np.asarray(cells, float), np.asarray(times, float)
    m = x >= min_cells
    return float(np.polyfit(np.log(x[m]), np.log(y[m]), 1)[0])


def frozen_scaling(params, engine, parasitics: bool, sizes=SIZES) -> dict:
    cells, gen, wall, cpu, unknowns = [], [], [], [], []
    for rows, cols in sizes:
        t0 = time.perf_counter()
        circ = frozen_mac_netlist(params, rows, cols, parasitics)
        text = circ.netlist.render()
        t1 = time.perf_counter()
        c0 = _child_cpu()
        res = engine.run(circ.netlist)
        t2 = time.perf_counter()
        cells.append(rows * cols)
        gen.append(t1 - t0)
        wall.append(t2 - t1)
        cpu.append(_child_cpu() - c0)
        unknowns.append(len(res.vectors))
        print(f"  {rows}x{cols} parasitics={parasitics}: generate {t1 - t0:.2f} s "
              f"({text.count(chr(10))} lines), simulate {t2 - t1:.2f} s wall, "
              f"{cpu[-1]:.2f} s cpu, {unknowns[-1]} vectors", flush=True)
    return {"cells": cells, "gen_s": gen, "wall_s": wall, "cpu_s": cpu, "vectors": unknowns}


def model_weight(params, engine, sizes=WEIGHT_SIZES) -> dict:
    """Full cell model (duplex FeFET + selectors, 2 x 32 domains) against the frozen read
    model: DC operating point of the same read, wall time and number of vectors."""
    out = {}
    for rows, cols in sizes:
        layout = A.pseudo_crossbar(rows, cols)
        wiring = A.Wiring.from_params(params.array)
        pm = np.random.default_rng(0).uniform(0.6, 1.0, (rows, cols))
        drives = {ln.name: params.operation.read_vd_V for ln in layout.of_kind("input")}
        full = A.full_read(params, layout, wiring, drives, p0_i=pm)
        full.netlist.analysis = Op()
        frozen = A.frozen_read(params, layout, A.nominal_state(params, layout, pm), wiring, drives)
        row = {}
        for name, net in (("full", full.netlist), ("frozen", frozen.netlist)):
            t0 = time.perf_counter()
            res = engine.run(net)
            row[f"{name}_s"] = time.perf_counter() - t0
            row[f"{name}_vectors"] = len(res.vectors)
        out[f"{rows}x{cols}"] = row
        print(f"  weight {rows}x{cols}: {row}", flush=True)
    return out


def main() -> None:
    params = load_params()
    rows: dict[str, float | str] = {}
    with Engine("cli", timeout_s=3600, cache=None, ladder=LADDER[:1]) as engine:
        par = frozen_scaling(params, engine, True)
        ideal = frozen_scaling(params, engine, False)
        weight = model_weight(params, engine)
    for label, data in (("parasitics", par), ("ideal wires", ideal)):
        for (r, c), g, w, u, v in zip(SIZES, data["gen_s"], data["wall_s"], data["cpu_s"],
                                      data["vectors"]):
            rows[f"{label} {r}x{c}: generate (s)"] = g
            rows[f"{label} {r}x{c}: simulate wall (s)"] = w
            rows[f"{label} {r}x{c}: simulate ngspice cpu (s)"] = u
            rows[f"{label} {r}x{c}: vectors"] = v
        rows[f"{label}: simulation growth exponent (cells >= 200)"] = _exponent(data["cells"],
                                                                                data["cpu_s"])
        rows[f"{label}: generation growth exponent"] = _exponent(data["cells"], data["gen_s"])
        rows[f"{label}: 128x128 read under {TARGET_S:g} s"] = \
            "met" if data["wall_s"][-1] < TARGET_S else "MISSED"
    for size, row in weight.items():
        rows[f"model weight {size}: full / frozen time"] = row["full_s"] / row["frozen_s"]
        rows[f"model weight {size}: full / frozen vectors"] = \
            row["full_vectors"] / row["frozen_vectors"]
    record("array", rows)


if __name__ == "__main__":
    main()
