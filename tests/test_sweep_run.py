"""Sweeps executed with the real ngspice: local process pool and a Dask LocalCluster, journal
and resume, failures as rows, the numerics check, tables and the report section."""
from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spicefet.netlist.core import Netlist, Op
from spicefet.netlist.reference import slow_transient, stuck_inductor
from spicefet.params import load_params
from spicefet.sweep import (EXPERIMENTS, Experiment, Journal, local_pool, open_executor,
                            parse_spec, run_sweep, sweep_table, verify_numerics, write_table)
from spicefet.sweep.executors import DASK_RUNS_PER_TASK
from spicefet.sweep.numerics import relative_change
from spicefet.sweep.report import section

BASE = load_params()
ROOT = Path(__file__).resolve().parents[1]


def divider(params, engine, stuck_at_ohm_um=-1.0, hang_at_ohm_um=-1.0, crash_at_ohm_um=-1.0):
    """Test experiment: 1 V across rc_ohm_um and 1 kOhm. At the given resistances it runs a
    circuit that cannot converge, one that outlasts the timeout, or kills its worker process."""
    rc = params.channel.rc_ohm_um
    if rc == crash_at_ohm_um:
        os._exit(3)
    if rc == stuck_at_ohm_um:
        engine.run(stuck_inductor())
    if rc == hang_at_ohm_um:
        engine.run(slow_transient())
    n = Netlist("divider", Op())
    n.add("v1", ("a", "0"), 1.0)
    n.add("r1", ("a", "b"), rc)
    n.add("r2", ("b", "0"), 1e3)
    return {"v_out_V": float(engine.run(n)["v(b)"][0])}


@pytest.fixture
def toy(monkeypatch):
    # workers import this module by name: pytest put tests/ on sys.path, spawned workers inherit it
    monkeypatch.setitem(EXPERIMENTS, "divider", Experiment("divider", f"{__name__}:divider"))


@pytest.fixture(scope="module")
def pool():
    with local_pool(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def cluster_address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def channel_mc(runs: int, **tables):
    return parse_spec({"experiment": "channel", "timeout_s": 60, "monte_carlo": {
        "runs": runs, "seed": 11, "vary": {
            "channel.mu_cm2Vs": {"dist": "normal", "sigma_rel": 0.1},
            "channel.vt_V": {"dist": "normal", "sigma": 0.1}}}, **tables}, "mc.toml")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def without_timing(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def test_pool_worker_counts_and_local_cluster_give_the_same_table(tmp_path, pool, cluster_address):
    spec = channel_mc(6)
    tables = {}
    with local_pool(1) as one:
        runs = {"pool1": one, "pool2": pool}
        for name, executor in runs.items():
            result = run_sweep(spec, BASE, executor, Journal(tmp_path / f"{name}.jsonl"))
            write_table(tmp_path / f"{name}.csv", *sweep_table(result))
            tables[name] = without_timing(read_csv(tmp_path / f"{name}.csv"))
    with open_executor(cluster_address) as executor:  # a real tcp:// client, batched tasks
        result = run_sweep(spec, BASE, executor, Journal(tmp_path / "dask.jsonl"),
                           runs_per_task=DASK_RUNS_PER_TASK)
    write_table(tmp_path / "dask.csv", *sweep_table(result))
    tables["dask"] = without_timing(read_csv(tmp_path / "dask.csv"))
    assert tables["pool1"] == tables["pool2"] == tables["dask"]
    rows = tables["dask"]
    assert [r["run"] for r in rows] == [str(i) for i in range(6)]
    assert all(r["status"] == "ok" and r["error"] == "" and r["rung"] == "default" for r in rows)
    assert len({r["channel.mu_cm2Vs"] for r in rows}) == 6  # the samples differ
    mobility = [float(r["mobility_cm2_Vs"]) for r in rows]
    band = [float(r["channel.mu_cm2Vs"]) for r in rows]
    # the extracted field-effect mobility follows the sampled band mobility
    assert sorted(range(6), key=mobility.__getitem__) == sorted(range(6), key=band.__getitem__)


def test_resume_runs_only_what_the_journal_lacks(tmp_path, pool):
    spec = channel_mc(8)
    path = tmp_path / "j.jsonl"
    first = run_sweep(spec, BASE, pool, Journal(path))
    assert first.executed == 8
    lines = path.read_text().splitlines()
    assert len(lines) == 8
    path.write_text("\n".join(lines[:4]) + "\n" + lines[4][:20])  # half, then a torn line
    resumed = run_sweep(spec, BASE, pool, Journal(path))
    assert resumed.executed == 4
    assert [o.figures for o in resumed.outcomes] == [o.figures for o in first.outcomes]
    again = run_sweep(spec, BASE, pool, Journal(path))
    assert again.executed == 0
    # more samples: only the new ones run, the first eight keep their samples and results
    more = run_sweep(channel_mc(10), BASE, pool, Journal(path))
    assert more.executed == 2
    assert [r.values for r in more.runs[:8]] == [r.values for r in first.runs]


def test_failed_runs_are_rows_with_their_error(tmp_path, pool, toy):
    spec = parse_spec({"experiment": "divider", "timeout_s": 5,
                       "options": {"stuck_at_ohm_um": 2000.0, "hang_at_ohm_um": 3000.0},
                       "grid": {"channel.rc_ohm_um": [1000, 2000, 3000, 4000]}}, "toy.toml")
    path = tmp_path / "j.jsonl"
    result = run_sweep(spec, BASE, pool, Journal(path))
    status = [o.status for o in result.outcomes]
    assert status == ["ok", "failed", "failed", "ok"]
    assert result.outcomes[0].figures["v_out_V"] == pytest.approx(0.5)
    assert result.outcomes[3].figures["v_out_V"] == pytest.approx(0.2)
    stuck, hang = result.outcomes[1], result.outcomes[2]
    assert stuck.error.startswith("ConvergenceError: stuck_inductor")
    assert "timestep too small" in stuck.error.lower() and stuck.rung == "small_step"
    assert hang.error.startswith("SimulationTimeout: slow_transient")
    # failures are journaled like successes: a re-run does not repeat them ...
    assert len(Journal(path).load()) == 4
    assert run_sweep(spec, BASE, pool, Journal(path)).executed == 0
    # ... unless asked to
    assert run_sweep(spec, BASE, pool, Journal(path), retry_failed=True).executed == 2
    columns, rows = sweep_table(result)
    table = [dict(zip(columns, row)) for row in rows]
    assert table[1]["v_out_V"] is None and "timestep too small" in table[1]["error"].lower()


def test_extraction_failures_and_out_of_bounds_samples_are_failed_rows(tmp_path, pool):
    spec = parse_spec({"experiment": "channel", "timeout_s": 60,
                       "grid": {"channel.temp_C": [27, -273]},
                       "monte_carlo": {"runs": 4, "seed": 3, "vary": {
                           "channel.g_off_S": {"dist": "normal", "sigma": 1e-10}}}}, "f.toml")
    result = run_sweep(spec, BASE, pool, Journal(tmp_path / "j.jsonl"))
    kinds = set()
    for run, outcome in zip(result.runs, result.outcomes):
        if run.values["channel.g_off_S"] < 0:  # the normal tail left the physical bounds
            kind = "bounds"
            assert outcome.status == "failed" and "g_off_S" in outcome.error
            assert "outside [0, 0.001]" in outcome.error
        elif run.values["channel.temp_C"] == 27:
            kind = "ok"
            assert outcome.status == "ok" and outcome.error == ""
        else:  # near 0 K the subthreshold region collapses: the swing cannot be extracted
            kind = "extraction"
            assert outcome.status == "failed" and outcome.error.startswith("ValueError:")
        kinds.add(kind)
    assert kinds == {"bounds", "ok", "extraction"}


def test_a_dying_worker_process_fails_its_rows_without_journaling_them(tmp_path, toy):
    spec = parse_spec({"experiment": "divider", "options": {"crash_at_ohm_um": 3000.0},
                       "grid": {"channel.rc_ohm_um": [1000, 2000, 3000, 4000]}}, "toy.toml")
    path = tmp_path / "j.jsonl"
    with local_pool(1) as executor:
        result = run_sweep(spec, BASE, executor, Journal(path))
    assert len(result.outcomes) == 4 and result.lost >= 1
    crashed = result.outcomes[2]
    assert crashed.status == "failed" and "BrokenProcessPool" in crashed.error
    journaled = Journal(path).load()
    assert all(o.status == "ok" for o in journaled.values())
    assert result.lost == 4 - len(journaled)


def test_verify_numerics_reports_each_figures_change(tmp_path, pool):
    spec = channel_mc(4)
    path = tmp_path / "j.jsonl"
    result = run_sweep(spec, BASE, pool, Journal(path))
    check = verify_numerics(result, BASE, pool, Journal(path), count=2)
    assert check.runs == [0, 3] and check.errors == ["", ""]
    by_figure = check.max_by_figure()
    assert set(by_figure) == {"vth_V", "ss_mV_per_dec", "on_off", "mobility_cm2_Vs"}
    assert all(0 <= v < 0.2 for v in by_figure.values())
    assert max(by_figure.values()) > 0  # tighter tolerances move something
    assert check.max_rel_change == max(by_figure.values())
    assert check.flagged() == [f for f, v in by_figure.items() if v > 0.01]
    # the tightened runs are journaled under their own keys: checking again runs nothing new
    lines = len(path.read_text().splitlines())
    assert lines == 4 + 2
    verify_numerics(result, BASE, pool, Journal(path), count=2)
    assert len(path.read_text().splitlines()) == lines


def test_relative_change_treats_vanishing_figures_as_infinite():
    change = relative_change({"a": 2.0, "b": 0.0, "c": math.nan, "d": 1.0, "e": 0.0},
                             {"a": 2.1, "b": 0.0, "c": math.nan, "d": math.nan, "e": 1e-9})
    assert change == {"a": pytest.approx(0.05), "b": 0.0, "c": 0.0, "d": math.inf, "e": math.inf}


def test_csv_and_parquet_tables_hold_the_same_rows(tmp_path, pool, toy):
    pq = pytest.importorskip("pyarrow.parquet")
    spec = parse_spec({"experiment": "divider", "options": {"stuck_at_ohm_um": 2000.0},
                       "corners": {"a": {}, "b": {"channel.g_off_S": 1e-12}},
                       "grid": {"channel.rc_ohm_um": [1000, 2000]}}, "toy.toml")
    result = run_sweep(spec, BASE, pool, Journal(tmp_path / "j.jsonl"))
    write_table(tmp_path / "t.csv", *sweep_table(result))
    write_table(tmp_path / "t.parquet", *sweep_table(result))
    rows = read_csv(tmp_path / "t.csv")
    table = pq.read_table(tmp_path / "t.parquet").to_pylist()
    assert list(rows[0]) == list(table[0]) == [
        "run", "corner", "channel.rc_ohm_um", "channel.g_off_S", "v_out_V", "status", "error",
        "rung", "seconds"]
    assert [r["corner"] for r in rows] == ["a", "b", "a", "b"]
    assert [r["status"] for r in table] == [r["status"] for r in rows] == ["ok", "ok", "failed",
                                                                           "failed"]
    assert table[2]["v_out_V"] is None and rows[2]["v_out_V"] == ""
    assert [float(r["v_out_V"]) for r in rows[:2]] == [r["v_out_V"] for r in table[:2]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.jsonl", "t.csv", "t.parquet"]


def test_report_section_has_histograms_yield_and_summary_keys(tmp_path, pool):
    spec = channel_mc(6, spec={"vth_V": {"max": 0.55}, "on_off": {"min": 1e6}})
    result = run_sweep(spec, BASE, pool, Journal(tmp_path / "j.jsonl"))
    check = verify_numerics(result, BASE, pool, Journal(tmp_path / "j.jsonl"), count=1)
    sec = section(result, tmp_path, check)
    vth = [o.figures["vth_V"] for o in result.outcomes]
    assert 0 < sum(v <= 0.55 for v in vth) < 6  # the limit splits the sample
    assert sec.summary["sweep"] == {"runs": 6, "mc_runs": 6, "failed_runs": 0,
                                    "yield": sum(v <= 0.55 for v in vth) / 6}
    assert "memory_window_sigma_V" not in sec.summary["sweep"]
    assert sec.summary["numerics"]["max_rel_change"] == check.max_rel_change
    assert (tmp_path / sec.figures[0]).stat().st_size > 10_000
    assert "| ss_mV_per_dec |" in sec.markdown


SWEEP_CLI = ("import argparse, sys\n"
             "from spicefet.sweep.cli import add_subcommands\n"
             "parser = argparse.ArgumentParser()\n"
             "add_subcommands(parser.add_subparsers())\n"
             "args = parser.parse_args(sys.argv[1:])\n"
             "args.func(args)\n")


def test_sigint_stops_a_sweep_cleanly_and_the_same_command_resumes(tmp_path):
    spec_path = tmp_path / "mc.toml"
    spec_path.write_text('experiment = "channel"\n[monte_carlo]\nruns = 60\nseed = 5\n'
                         '[monte_carlo.vary]\nchannel.vt_V = { dist = "normal", sigma = 0.1 }\n')
    out, journal = tmp_path / "mc.csv", tmp_path / "mc.journal.jsonl"
    command = [sys.executable, "-c", SWEEP_CLI, "sweep", str(spec_path), "--out", str(out),
               "--workers", "2"]
    proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (not journal.exists() or len(journal.read_text().splitlines()) < 6) \
            and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0, stderr
    assert "interrupted" in stderr and "resume" in stderr
    assert not out.exists()  # no half table
    kept = [json.loads(line) for line in journal.read_text().splitlines()]
    assert 6 <= len(kept) < 60 and all(k["status"] == "ok" for k in kept)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"({60 - len(kept)} executed now, 0 failed)" in done.stderr
    rows = read_csv(out)
    assert [r["run"] for r in rows] == [str(i) for i in range(60)]
    assert all(r["status"] == "ok" for r in rows)
