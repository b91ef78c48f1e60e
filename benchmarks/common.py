"""Helpers shared by the benchmark suites."""
from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

RESULTS = Path(__file__).resolve().parents[1] / "bench-results"


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Minimum wall time of `repeat` calls, in seconds (the least disturbed measurement)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bare_ngspice(text: str) -> Callable[[], None]:
    """A callable running `ngspice -b -r` on the netlist text, the baseline everything is
    compared with."""
    tmp = Path(tempfile.mkdtemp(prefix="spicefet-bench-"))
    (tmp / "net.cir").write_text(text)

    def run() -> None:
        subprocess.run(["ngspice", "-b", "-r", str(tmp / "out.raw"), str(tmp / "net.cir")],
                       check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return run


def record(name: str, rows: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
    width = max(len(k) for k in rows)
    print(f"== {name}")
    for key, value in rows.items():
        print(f"  {key:<{width}}  {value:.4g}" if isinstance(value, float) else f"  {key:<{width}}  {value}")
