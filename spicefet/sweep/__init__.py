"""Grid, corner and Monte Carlo sweeps of any registered experiment, on a local process pool or
a Dask cluster, with a resumable journal and a numerics self-check.

    spec = load_spec("examples/sweeps/channel_mc.toml")
    with open_executor() as executor:                  # or open_executor("tcp://host:8786")
        result = run_sweep(spec, load_params(), executor, Journal("mc.journal.jsonl"))
    write_table(Path("mc.csv"), *sweep_table(result))

`spicefet.sweep.report.section` turns a result into a report section (histograms, yield).
"""
from .executors import local_pool, open_executor
from .journal import Journal, journal_path
from .numerics import NumericsCheck, verify_numerics
from .plan import Run, plan_runs
from .registry import EXPERIMENTS, Experiment, get_experiment, register
from .runner import SweepResult, run_sweep
from .spec import SweepSpec, load_spec, parse_spec
from .table import sweep_table, write_table

__all__ = ["EXPERIMENTS", "Experiment", "Journal", "NumericsCheck", "Run", "SweepResult",
           "SweepSpec", "get_experiment", "journal_path", "load_spec", "local_pool",
           "open_executor", "parse_spec", "plan_runs", "register", "run_sweep", "sweep_table",
           "verify_numerics", "write_table"]
