"""`make bench`: wall-time benchmarks, printed as ratios against a baseline measured in the same
run, and saved to bench-results/. Never part of `make test`."""
from __future__ import annotations

import sys

from . import array_bench, device_bench, engine_bench, fit_bench, sweep_bench

SUITES = {"engine": engine_bench.main, "device": device_bench.main, "fit": fit_bench.main,
          "sweep": sweep_bench.main, "array": array_bench.main}


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    for name in names:
        if name not in SUITES:
            print(f"unknown benchmark {name!r}; have {', '.join(SUITES)}", file=sys.stderr)
            return 2
        SUITES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
