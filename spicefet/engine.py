"""Run netlists in ngspice and return checked numpy vectors.

Two paths give the same vectors:

* ``shared`` (default): PySpice's binding to libngspice, in long-lived worker processes started
  with ``spawn`` (one ngspice instance per process; never fork after libngspice is loaded). A
  worker that crashes or hangs is killed and replaced; the caller gets a typed error.
* ``cli``: ``ngspice -b -r out.raw net.cir`` and spicefet's own raw-file reader.

Success is decided here, not by PySpice: ngspice's messages are scanned for errors, the analysis
must reach its end (tstop, or every DC point), every vector must be present and finite.
Otherwise a `SimulationError` subclass carrying ngspice's own lines is raised. Convergence
failures walk a ladder of rungs (default, gear, relaxed tolerances, smaller max step); the
result says which rung succeeded. Results are cached by a hash of the netlist text, the text
of every included library and the options.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .errors import (ConvergenceError, IncompleteError, NetlistError, SimulationError,
                     SimulationTimeout, WorkerCrash)
from .netlist.core import DEFAULT_RUNG, Dc, Netlist, Rung, Tran
from .rawfile import read_raw

LADDER: tuple[Rung, ...] = (
    DEFAULT_RUNG,
    Rung("gear", {"method": "gear"}),
    Rung("relaxed", {"method": "gear", "reltol": 1e-2, "abstol": 1e-10, "vntol": 1e-5,
                     "chgtol": 1e-13, "itl1": 500, "itl2": 500, "itl4": 100}),
    Rung("small_step", {"method": "gear"}, max_step_factor=0.1),
)
CACHE_VERSION = "1"

_CONVERGENCE = re.compile(r"timestep too small|singular matrix|gmin stepping failed|"
                          r"source stepping failed|iteration limit|transient op failed|"
                          r"dc solution failed|no convergence|failed to converge", re.I)
_ERROR = re.compile(r"\berror\b|aborted|cannot recover|fatal|unknown (subckt|model|device)|"
                    r"could not find|can't find|not found|undefined", re.I)
_BENIGN = re.compile(r"^(warning:|note:)|unsupported ngspice version|no compatibility mode|"
                     r"can't find init file|stdout|^\s*$", re.I)


@dataclass
class Result:
    """Vectors of one completed analysis, with canonical lower-case names: ``time``,
    ``v-sweep`` (scales), ``v(node)``, ``i(vsource)`` (current into the source's + node)."""
    name: str
    vectors: dict[str, np.ndarray]
    rung: str = "default"
    backend: str = "shared"
    log: list[str] = field(default_factory=list)
    cached: bool = False
    elapsed_s: float = 0.0

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self.vectors[key.lower()]
        except KeyError:
            raise KeyError(f"{self.name}: no vector {key!r}; have {sorted(self.vectors)}") from None


# --------------------------------------------------------------------------------------------
# Checking what ngspice said and returned (shared by both backends)

def _classify(lines: Sequence[str], name: str, rung: str) -> None:
    """Raise the typed error that ngspice's messages call for, or return quietly."""
    bad = [ln.strip() for ln in lines if not _BENIGN.search(ln.strip())
           and (_CONVERGENCE.search(ln) or _ERROR.search(ln))]
    if not bad:
        return
    detail = " | ".join(dict.fromkeys(bad))[:2000]
    if any(_CONVERGENCE.search(ln) for ln in bad):
        raise ConvergenceError("analysis did not converge", netlist=name, detail=detail, rung=rung)
    raise NetlistError("ngspice reported an error", netlist=name, detail=detail, rung=rung)


def _check_vectors(vectors: dict[str, np.ndarray], netlist: Netlist, rung: str,
                   lines: Sequence[str]) -> None:
    name, analysis = netlist.name, netlist.analysis
    tail = " | ".join(ln.strip() for ln in lines[-3:] if ln.strip())
    if not vectors:
        raise IncompleteError("no vectors were returned (no analysis ran)", netlist=name,
                              detail=tail, rung=rung)
    for key, vec in vectors.items():
        if not np.all(np.isfinite(vec)):
            raise IncompleteError(f"vector {key} holds NaN or inf", netlist=name, detail=tail,
                                  rung=rung)
    if isinstance(analysis, Tran):
        if "time" not in vectors:
            raise IncompleteError("transient returned no time vector", netlist=name, rung=rung)
        reached = float(vectors["time"][-1])
        if reached < analysis.stop_s * (1 - 1e-9):
            raise IncompleteError(f"transient stopped at {reached:.6g} s before tstop "
                                  f"{analysis.stop_s:.6g} s", netlist=name, detail=tail, rung=rung)
    elif isinstance(analysis, Dc):
        got, want = len(next(iter(vectors.values()))), analysis.points()
        if got != want:
            raise IncompleteError(f"DC sweep returned {got} of {want} points", netlist=name,
                                  detail=tail, rung=rung)


def _canonical(name: str, kind: str) -> str:
    name = name.lower()
    if name.startswith("@"):  # device-internal vector, e.g. @b.x1.xch.bch[i]
        return name
    if name.startswith("v(") and name.endswith("-sweep)"):  # raw files write v(v-sweep)
        return name[2:-1]
    if name.endswith("#branch"):
        return f"i({name[:-7]})"
    if kind == "voltage" and not name.startswith(("v(", "@")) and not name.endswith("-sweep"):
        return f"v({name})"
    return name


# --------------------------------------------------------------------------------------------
# Shared-library worker (runs in a spawned process)

def _worker_main(conn) -> None:  # pragma: no cover - runs in the child process
    import logging
    logging.disable(logging.CRITICAL)  # PySpice logs every stderr line as an error
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared

    lines: list[str] = []

    class Capturing(NgSpiceShared):
        def send_char(self, message, ngspice_id):
            lines.append(message.partition(" ")[2])
            return 0

    ng = Capturing.new_instance()
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        lines.clear()
        vectors: dict[str, np.ndarray] = {}
        try:
            ng.load_circuit(request)
        except Exception:  # noqa: BLE001 - PySpice's own verdict; we judge from the lines
            pass
        loaded = not any(_ERROR.search(ln) for ln in lines if not _BENIGN.search(ln.strip()))
        if loaded:
            try:
                ng.run()
            except Exception:  # noqa: BLE001
                pass
            plot_name = ng.last_plot
            if plot_name != "const":
                for vname, vec in ng.plot(None, plot_name).items():
                    vectors[_canonical(vname, str(vec._type))] = np.real_if_close(vec._data)
        try:
            ng.exec_command("destroy all")
            ng.remove_circuit()
        except Exception:  # noqa: BLE001
            pass
        conn.send((vectors, list(lines)))


class _Worker:
    """One spawned process holding one ngspice instance."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def run(self, text: str, timeout_s: float, name: str) -> tuple[dict, list[str]]:
        try:
            self.conn.send(text)
            if not self.conn.poll(timeout_s):
                self.kill()
                raise SimulationTimeout(f"ngspice did not finish within {timeout_s:g} s; "
                                        f"worker killed", netlist=name)
            return self.conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as err:
            code = self.process.exitcode
            self.kill()
            raise WorkerCrash(f"ngspice worker died (exit code {code})", netlist=name,
                              detail=str(err)) from None

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def close(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(2)
        self.kill()


class WorkerPool:
    """Long-lived ngspice workers; a dead or killed worker is replaced on the next checkout."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self.pids: set[int] = set()  # every worker started, for inspection and tests

    def run(self, text: str, timeout_s: float, name: str) -> tuple[dict, list[str]]:
        with self._lock:
            worker = None
            while self._idle and worker is None:
                candidate = self._idle.pop()
                worker = candidate if candidate.alive() else None
        if worker is None:
            worker = _Worker()
            self.pids.add(worker.process.pid)
        out = worker.run(text, timeout_s, name)  # a failed worker is dropped, not returned
        with self._lock:
            self._idle.append(worker)
        return out

    def close(self) -> None:
        with self._lock:
            for worker in self._idle:
                worker.close()
            self._idle.clear()


# --------------------------------------------------------------------------------------------
# Cache

def _hash_inputs(text: str, backend: str, ladder: Sequence[Rung]) -> str:
    h = hashlib.sha256()
    h.update(f"spicefet-cache-{CACHE_VERSION}\0{backend}\0{ladder!r}\0".encode())
    h.update(text.encode())
    for path in re.findall(r'^\.include "([^"]+)"', text, flags=re.M):
        try:  # the model text is part of the key: editing a library invalidates the entry
            h.update(Path(path).read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()


class Cache:
    """Results on disk as ``<sha256>.npz``; written to a temp file and renamed into place, so a
    process killed mid-write leaves no entry (and never a corrupt one)."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)

    def get(self, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        path = self.dir / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["__meta__"]))
                vectors = {key: data[n] for key, n in zip(meta["keys"], meta["names"])}
            return vectors, meta
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - an unreadable entry is a miss, and is removed
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, vectors: dict[str, np.ndarray], meta: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        names = list(vectors)
        arrays = {f"a{k}": v for k, v in enumerate(vectors.values())}
        meta = {**meta, "names": [f"a{k}" for k in range(len(names))], "keys": names}
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, __meta__=np.array(json.dumps(meta)), **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.dir / f"{key}.npz")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def default_cache_dir() -> Path:
    return Path(os.environ.get("SPICEFET_CACHE_DIR",
                               Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                               / "spicefet"))


# --------------------------------------------------------------------------------------------
# The engine

class Engine:
    """Runs `Netlist` objects; see the module docstring.

    backend: "shared" (libngspice in worker processes) or "cli" (``ngspice -b``); "shared" falls
        back to "cli" inside a daemonic process, which may not start children.
    timeout_s: wall-time limit of one ngspice run.
    cache: a `Cache`, or None for no caching.
    ladder: convergence rungs tried in order on a `ConvergenceError` (or `IncompleteError` of a
        transient that stopped early); pass ``LADDER[:1]`` for no retries.
    """

    def __init__(self, backend: str = "shared", timeout_s: float = 600.0,
                 cache: Cache | None = None, ladder: Sequence[Rung] = LADDER):
        if backend not in ("shared", "cli"):
            raise ValueError(f"backend must be 'shared' or 'cli', not {backend!r}")
        if backend == "shared" and mp.current_process().daemon:
            # a daemonic process (a default Dask worker, a multiprocessing.Pool worker) may not
            # start the worker processes; `ngspice -b` gives the same vectors
            backend = "cli"
        self.backend, self.timeout_s, self.cache, self.ladder = backend, timeout_s, cache, tuple(ladder)
        self._pool = WorkerPool() if backend == "shared" else None

    # -- one netlist ---------------------------------------------------------------------------
    def run(self, netlist: Netlist) -> Result:
        start = time.perf_counter()
        key = None
        if self.cache is not None:
            key = _hash_inputs(netlist.render(), self.backend, self.ladder)
            hit = self.cache.get(key)
            if hit is not None:
                vectors, meta = hit
                return Result(netlist.name, vectors, meta["rung"], self.backend, meta["log"],
                              True, time.perf_counter() - start)
        failures: list[SimulationError] = []
        for rung in self.ladder:
            try:
                vectors, lines = self._run_once(netlist, rung)
            except (ConvergenceError, IncompleteError) as err:
                failures.append(err)
                continue
            result = Result(netlist.name, vectors, rung.name, self.backend,
                            [ln for ln in lines if ln.lower().startswith("warning")],
                            False, time.perf_counter() - start)
            if key is not None:
                self.cache.put(key, vectors, {"rung": rung.name, "log": result.log})
            return result
        last = failures[-1]
        if len(failures) == 1:
            raise last
        tried = "; ".join(f"{f.rung}: {f.detail or f}" for f in failures)
        raise type(last)(f"failed on every convergence rung ({len(failures)})",
                         netlist=netlist.name, detail=tried[:3000], rung=last.rung)

    def _run_once(self, netlist: Netlist, rung: Rung) -> tuple[dict[str, np.ndarray], list[str]]:
        text = netlist.render(rung)
        if self.backend == "shared":
            vectors, lines = self._pool.run(text, self.timeout_s, netlist.name)
        else:
            vectors, lines = _run_cli(text, self.timeout_s, netlist.name)
        _classify(lines, netlist.name, rung.name)
        _check_vectors(vectors, netlist, rung.name, lines)
        return vectors, lines

    # -- many netlists -------------------------------------------------------------------------
    def run_many(self, netlists: Iterable[Netlist], executor: Executor | None = None,
                 return_exceptions: bool = False) -> list[Result | SimulationError]:
        """Run netlists in parallel; results in input order.

        By default a thread per core feeds this engine's ngspice worker *processes*, so the
        parallel work happens in separate processes. Any other `concurrent.futures.Executor`
        (a ProcessPoolExecutor, a Dask client's executor) can be passed; it then calls the
        picklable `simulate` in its own workers. With `return_exceptions`, a failed run gives
        its `SimulationError` in place of a result instead of raising.
        """
        netlists = list(netlists)
        own = executor is None
        if own:
            executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
            futures = [executor.submit(self.run, n) for n in netlists]
        else:
            config = (self.backend, self.timeout_s, self.cache.dir if self.cache else None)
            futures = [executor.submit(simulate, n, config) for n in netlists]
        try:
            out: list[Result | SimulationError] = []
            for fut in futures:
                try:
                    out.append(fut.result())
                except SimulationError as err:
                    if not return_exceptions:
                        raise
                    out.append(err)
            return out
        finally:
            if own:
                executor.shutdown(cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_ENGINES: dict[tuple, Engine] = {}


def simulate(netlist: Netlist, config: tuple = ("shared", 600.0, None)) -> Result:
    """Picklable entry point for foreign executors: one engine per process and config."""
    engine = _ENGINES.get(config)
    if engine is None:
        backend, timeout_s, cache_dir = config
        engine = Engine(backend, timeout_s, Cache(cache_dir) if cache_dir else None)
        _ENGINES[config] = engine
    return engine.run(netlist)


def _run_cli(text: str, timeout_s: float, name: str) -> tuple[dict[str, np.ndarray], list[str]]:
    exe = shutil.which("ngspice")
    if exe is None:
        raise SimulationError("the ngspice command is not installed (apt-get install ngspice)",
                              netlist=name)
    with tempfile.TemporaryDirectory(prefix="spicefet-") as tmp:
        cir, raw = Path(tmp) / "net.cir", Path(tmp) / "out.raw"
        cir.write_text(text)
        try:
            proc = subprocess.run([exe, "-b", "-r", str(raw), str(cir)], cwd=tmp,
                                  capture_output=True, text=True, timeout=timeout_s,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SimulationTimeout(f"ngspice did not finish within {timeout_s:g} s; killed",
                                    netlist=name) from None
        lines = (proc.stdout + "\n" + proc.stderr).splitlines()
        if proc.returncode != 0 and not any(_ERROR.search(ln) or _CONVERGENCE.search(ln)
                                            for ln in lines):
            lines.append(f"Error: ngspice exited with code {proc.returncode}")
        vectors: dict[str, np.ndarray] = {}
        if raw.exists() and raw.stat().st_size:
            try:
                plot = read_raw(raw)[-1]
            except IncompleteError as err:  # ngspice aborted while writing; its lines say why
                lines.append(f"raw file unusable: {err}")
            else:
                vectors = {_canonical(n, t): v
                           for (n, v), t in zip(plot.vectors().items(), plot.types)}
    return vectors, lines


def ngspice_version() -> str:
    exe = shutil.which("ngspice")
    if exe is None:
        return "not installed"
    out = subprocess.run([exe, "-v"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    match = re.search(r"ngspice-(\S+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"
