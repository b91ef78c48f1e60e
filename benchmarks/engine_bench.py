"""Engine overhead against bare `ngspice -b`: a tiny run and a 10,000-point nested DC sweep."""
from __future__ import annotations

from spicefet.engine import LADDER, Engine
from spicefet.netlist.core import Netlist, Op
from spicefet.netlist.reference import nested_dc

from .common import bare_ngspice, best_of, record


def tiny() -> Netlist:
    n = Netlist("tiny", Op())
    n.add("v1", ("a", "0"), 1.0)
    n.add("r1", ("a", "b"), 1e3)
    n.add("r2", ("b", "0"), 1e3)
    return n


def main() -> None:
    rows: dict[str, float | str] = {}
    sweep = nested_dc(points_inner=1000, points_outer=10)
    with Engine("shared", cache=None, ladder=LADDER[:1]) as eng:
        eng.run(tiny())  # start the worker: steady-state cost is what we measure
        n_tiny = 300
        t_tiny = best_of(lambda: [eng.run(tiny()) for _ in range(n_tiny)], 3) / n_tiny
        t_sweep = best_of(lambda: eng.run(sweep), 5)
        assert len(eng.run(sweep)["v-sweep"]) == 10_000
    with Engine("cli", cache=None, ladder=LADDER[:1]) as cli:
        t_cli_sweep = best_of(lambda: cli.run(sweep), 5)
    t_bare_tiny = best_of(bare_ngspice(tiny().render()), 20)
    t_bare_sweep = best_of(bare_ngspice(sweep.render()), 5)
    rows["tiny run, shared path (ms)"] = t_tiny * 1e3
    rows["tiny run, bare ngspice -b (ms)"] = t_bare_tiny * 1e3
    rows["tiny ratio shared / bare"] = t_tiny / t_bare_tiny
    rows["10k-point sweep, shared path (ms)"] = t_sweep * 1e3
    rows["10k-point sweep, cli path (ms)"] = t_cli_sweep * 1e3
    rows["10k-point sweep, bare ngspice -b (ms)"] = t_bare_sweep * 1e3
    rows["sweep ratio shared / bare (target <= 1.2)"] = t_sweep / t_bare_sweep
    rows["sweep ratio cli / bare"] = t_cli_sweep / t_bare_sweep
    rows["tiny run target <= 5 ms"] = "met" if t_tiny <= 5e-3 else "MISSED"
    record("engine", rows)
