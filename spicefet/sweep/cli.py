"""The ``spicefet sweep`` subcommand; `spicefet.cli` registers it with `add_subcommands`.

    spicefet sweep SPEC.toml [--out TABLE.csv|.parquet] [--params FILE] [--workers N]
                   [--scheduler tcp://HOST:PORT] [--runs-per-task N] [--retry-failed]
                   [--verify-numerics] [--verify-runs N] [--report DIR]

Errors in the spec or the arguments are `ValidationError`s (one line, exit 2). Failed runs are
rows of the table, not errors of the command. Ctrl-C cancels pending runs, keeps the finished
ones in the journal and exits 130; the same command resumes.
"""
from __future__ import annotations

import sys
from pathlib import Path


def cmd_sweep(args) -> None:
    from ..engine import ngspice_version
    from ..params import load_params
    from ..report import write_report
    from .executors import DASK_RUNS_PER_TASK, open_executor
    from .journal import Journal, journal_path
    from .numerics import verify_numerics
    from .report import section
    from .runner import run_sweep
    from .spec import load_spec
    from .table import check_table_path, numerics_table, sweep_table, write_table

    spec = load_spec(args.spec)
    base = load_params(args.params)
    out = Path(args.out) if args.out else Path(Path(args.spec).stem + ".csv")
    check_table_path(out)
    journal = Journal(journal_path(out))
    per_task = args.runs_per_task or (DASK_RUNS_PER_TASK if args.scheduler else 1)
    check = None
    try:
        with open_executor(args.scheduler, args.workers) as executor:
            result = run_sweep(spec, base, executor, journal, args.retry_failed,
                               runs_per_task=per_task)
            if args.verify_numerics:
                check = verify_numerics(result, base, executor, journal, args.verify_runs,
                                        args.retry_failed, runs_per_task=per_task)
    except KeyboardInterrupt:
        print(f"sweep: finished runs are kept in {journal.path}; run the same command again "
              f"to resume", file=sys.stderr)
        raise
    write_table(out, *sweep_table(result))
    print(f"sweep {spec.experiment.name}: {len(result.runs)} runs ({result.executed} executed "
          f"now, {result.failed} failed) -> {out}", file=sys.stderr)
    if result.lost:
        print(f"  {result.lost} runs were lost by the executor (see their error); the next "
              f"run of this command retries them", file=sys.stderr)
    if check is not None:
        numerics_out = out.with_suffix(".numerics" + out.suffix)
        write_table(numerics_out, *numerics_table(check))
        print(f"numerics: {len(check.runs)} runs re-run with tightened tolerances -> "
              f"{numerics_out}", file=sys.stderr)
        flagged = check.flagged()
        for figure, change in check.max_by_figure().items():
            mark = "  FLAGGED" if figure in flagged else ""
            print(f"  {figure:<24} max relative change {change:.3g}{mark}", file=sys.stderr)
    if args.report:
        write_report(Path(args.report),
                     [("sweep report", lambda stage: section(result, stage, check))],
                     {"ngspice": ngspice_version(), "params": base.source},
                     progress=lambda line: None)
        print(f"report -> {args.report}/report.md", file=sys.stderr)


def add_subcommands(subparsers) -> None:
    """Register ``sweep`` on an argparse subparsers object."""
    from .numerics import DEFAULT_CHECKED_RUNS
    p = subparsers.add_parser(
        "sweep", help="grid / corner / Monte Carlo sweep of an experiment (local pool or Dask)",
        description="Run an experiment over a grid, corners and Monte Carlo samples described "
                    "in a TOML spec; one table row per run. Finished runs are journaled beside "
                    "the table, so an interrupted sweep resumes where it stopped.")
    p.add_argument("spec", metavar="SPEC.toml", help="sweep spec (see spicefet.sweep.spec)")
    p.add_argument("--out", metavar="TABLE",
                   help="result table, .csv or .parquet (default: SPEC's name with .csv, here)")
    p.add_argument("--params", metavar="FILE",
                   help="base parameter file (JSON); default fits/default.json")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: one per core)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on this Dask scheduler instead of the local pool")
    p.add_argument("--runs-per-task", type=int, metavar="N",
                   help="runs sent to a worker in one task (default 1 on the local pool, 4 on "
                        "Dask, whose per-task overhead is a few ms)")
    p.add_argument("--retry-failed", action="store_true",
                   help="re-run runs the journal holds as failed (default: keep them)")
    p.add_argument("--verify-numerics", action="store_true",
                   help="re-run some runs with tightened tolerances and half the max step; "
                        "flag figures moving more than 1%%")
    p.add_argument("--verify-runs", type=int, default=DEFAULT_CHECKED_RUNS, metavar="N",
                   help=f"runs to re-check, spread over the sweep; 0 = all "
                        f"(default {DEFAULT_CHECKED_RUNS})")
    p.add_argument("--report", metavar="DIR",
                   help="also write report.md, summary.json and histograms to DIR")
    p.set_defaults(func=cmd_sweep)
