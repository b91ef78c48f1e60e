"""The ngspice engine against the real simulator: both paths, typed failures, cache, parallel."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from spicefet.netlist.reference import diode_rc, nested_dc, slow_transient, stuck_inductor
from spicefet.engine import LADDER, Cache, Engine, Result, _check_vectors, _hash_inputs
from spicefet.errors import (ConvergenceError, ValidationError, IncompleteError, NetlistError, SimulationTimeout,
                             WorkerCrash)
from spicefet.netlist.core import Netlist, Op


def assert_same_vectors(a: Result, b: Result, rtol: float = 1e-9) -> None:
    assert set(a.vectors) == set(b.vectors)
    for name in a.vectors:
        x, y = a[name], b[name]
        assert x.shape == y.shape, name
        scale = max(np.max(np.abs(x)), 1e-300)
        np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol * scale, err_msg=name)


@pytest.mark.parametrize("make", [diode_rc, nested_dc])
def test_shared_and_cli_paths_agree(engine, cli_engine, make):
    shared, cli = engine.run(make()), cli_engine.run(make())
    assert shared.backend == "shared" and cli.backend == "cli"
    assert_same_vectors(shared, cli)


def test_transient_reaches_tstop_and_names_are_canonical(engine):
    r = engine.run(diode_rc())
    assert r["time"][-1] == pytest.approx(20e-9)
    assert {"time", "v(a)", "v(n)", "i(v1)"} <= set(r.vectors)
    # diode clamps the node well below the 5 V drive while the pulse is high
    assert 0.5 < r["v(n)"].max() < 1.0
    assert r.rung == "default"


def test_parse_error_is_a_netlist_error_with_ngspice_message(engine):
    n = Netlist("bad_model", Op())
    n.add("v1", ("a", "0"), 1.0)
    n.add("x1", ("a", "0"), "no_such_subckt")
    with pytest.raises(NetlistError) as err:
        engine.run(n)
    msg = str(err.value)
    assert "bad_model" in msg and "no_such_subckt" in msg.lower()


def test_wrong_pin_count_is_a_netlist_error_on_both_paths(cli_engine, engine):
    n = Netlist("pins", Op(), libraries=("mos2.lib",))
    n.add("v1", ("a", "0"), 1.0)
    n.add("x1", ("a", "0"), "mos2fet")  # mos2fet has three pins
    for eng in (engine, cli_engine):
        with pytest.raises(NetlistError, match="pins"):
            eng.run(n)


def test_value_less_resistor_is_refused_before_ngspice():
    n = Netlist("no_value", Op())
    n.add("r1", ("a", "0"))  # ngspice itself would quietly make this 1 mOhm
    with pytest.raises(ValidationError, match="r1 needs a value"):
        n.render()


@pytest.mark.parametrize("backend", ["shared", "cli"])
def test_timestep_too_small_is_a_convergence_error_naming_the_node(backend, engine, cli_engine):
    eng = engine if backend == "shared" else cli_engine
    with pytest.raises(ConvergenceError) as err:
        eng.run(stuck_inductor())
    assert "timestep too small" in str(err.value).lower()
    assert 'node "b"' in err.value.detail


def test_ladder_tries_every_rung_and_reports_them():
    with Engine("shared", cache=None) as eng:
        with pytest.raises(ConvergenceError) as err:
            eng.run(stuck_inductor())
        assert f"every convergence rung ({len(LADDER)})" in str(err.value)
        for rung in LADDER:
            assert f"{rung.name}:" in err.value.detail
        ok = eng.run(diode_rc())
        assert ok.rung == "default"


def test_incomplete_transient_missing_vectors_and_nan_are_refused(engine):
    good = engine.run(diode_rc())
    net = diode_rc()
    cut = {k: v[: len(v) // 2] for k, v in good.vectors.items()}
    with pytest.raises(IncompleteError, match="before tstop"):
        _check_vectors(cut, net, "default", [])
    with pytest.raises(IncompleteError, match="no vectors"):
        _check_vectors({}, net, "default", [])
    poisoned = dict(good.vectors, **{"v(n)": np.where(good["time"] > 5e-9, np.nan, good["v(n)"])})
    with pytest.raises(IncompleteError, match=r"v\(n\) holds NaN"):
        _check_vectors(poisoned, net, "default", [])
    dc = nested_dc()
    short = {k: v[:-3] for k, v in engine.run(dc).vectors.items()}
    with pytest.raises(IncompleteError, match="points"):
        _check_vectors(short, dc, "default", [])


def test_hang_times_out_and_the_next_run_works():
    with Engine("shared", timeout_s=1.0, cache=None, ladder=LADDER[:1]) as eng:
        t0 = time.perf_counter()
        with pytest.raises(SimulationTimeout):
            eng.run(slow_transient())
        assert time.perf_counter() - t0 < 15
        eng.timeout_s = 60
        assert eng.run(diode_rc())["time"][-1] == pytest.approx(20e-9)


def test_cli_hang_times_out():
    with Engine("cli", timeout_s=1.0, cache=None, ladder=LADDER[:1]) as eng:
        with pytest.raises(SimulationTimeout):
            eng.run(slow_transient())


def test_worker_crash_raises_and_the_next_run_works():
    with Engine("shared", timeout_s=60, cache=None, ladder=LADDER[:1]) as eng:
        eng.run(diode_rc())  # start a worker
        (pid,) = eng._pool.pids
        killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
        killer.start()
        try:
            with pytest.raises(WorkerCrash, match="slow_transient"):
                eng.run(slow_transient())
        finally:
            killer.cancel()
        assert eng.run(diode_rc())["time"][-1] == pytest.approx(20e-9)
        assert len(eng._pool.pids) == 2


def test_cache_hit_returns_identical_vectors(tmp_path):
    with Engine("shared", cache=Cache(tmp_path), ladder=LADDER[:1]) as eng:
        first = eng.run(diode_rc())
        second = eng.run(diode_rc())
        changed = eng.run(diode_rc(stop_s=10e-9))
    assert not first.cached and second.cached and not changed.cached
    assert_same_vectors(first, second, rtol=0)
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_cache_key_covers_included_library_text(tmp_path):
    lib = tmp_path / "m.lib"
    lib.write_text("* v1\n")
    text = f'.include "{lib}"\n.end\n'
    before = _hash_inputs(text, "shared", LADDER)
    lib.write_text("* v2\n")
    assert _hash_inputs(text, "shared", LADDER) != before


_WRITER = """
import sys, numpy as np
from spicefet.engine import Cache
Cache(sys.argv[1]).put("victim", {"v(x)": np.arange(3e7, dtype=float)}, {"rung": "default", "log": []})
"""


def test_cache_survives_a_kill_during_a_write(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)])
    deadline = time.time() + 60
    while not list(tmp_path.glob("*.tmp")) and time.time() < deadline:
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    assert not (tmp_path / "victim.npz").exists(), "the writer finished before it was killed"
    cache = Cache(tmp_path)
    assert cache.get("victim") is None
    cache.put("victim", {"v(x)": np.ones(3)}, {"rung": "default", "log": []})
    vectors, meta = cache.get("victim")
    np.testing.assert_array_equal(vectors["v(x)"], np.ones(3))


def test_corrupt_cache_entry_is_a_miss(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    assert Cache(tmp_path).get("bad") is None
    assert not (tmp_path / "bad.npz").exists()


def test_run_many_in_parallel_matches_serial_runs(engine):
    nets = [diode_rc(stop_s=s) for s in (10e-9, 15e-9, 20e-9)] + [nested_dc()]
    serial = [engine.run(n) for n in nets]
    with Engine("shared", cache=None, ladder=LADDER[:1]) as eng:
        parallel = eng.run_many(nets)
        with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
            foreign = eng.run_many(nets, executor=pool)
    for a, b, c in zip(serial, parallel, foreign):
        assert_same_vectors(a, b, rtol=0)
        assert_same_vectors(a, c, rtol=0)


def test_run_many_can_return_failures_in_place(engine):
    out = engine.run_many([diode_rc(), stuck_inductor()], return_exceptions=True)
    assert isinstance(out[0], Result) and isinstance(out[1], ConvergenceError)
