"""The executors a sweep runs on: a local process pool (default) or a Dask cluster.

Both are plain `concurrent.futures.Executor`s; the sweep code does not know which it has.
Local workers are started with ``spawn`` (never fork a process that may hold libngspice) and
ignore SIGINT, which the parent handles. On Dask, `Client.get_executor` gives the executor; its
workers are daemonic by default and then run ngspice through ``ngspice -b`` (same numbers, a
few ms more per netlist): start them with ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` for the
shared-library path.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import re
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Iterator

from ..errors import ValidationError
from .execute import ignore_sigint

SCHEDULER_RE = re.compile(r"(tcp|tls)://[^\s/:]+:\d+\Z")
# Dask spends a few ms of scheduler, nanny and comm CPU per task: about 10% of a 60 ms run on 2
# cores, 3% with four runs per task. The local pool's per-task cost is negligible.
DASK_RUNS_PER_TASK = 4


def local_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool of `workers` (default: one per core)."""
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                               mp_context=mp.get_context("spawn"), initializer=ignore_sigint)


@contextmanager
def dask_executor(scheduler: str) -> Iterator[Executor]:
    """The executor of a Dask client connected to `scheduler` (``tcp://HOST:PORT``)."""
    if not SCHEDULER_RE.match(scheduler):
        raise ValidationError(f"--scheduler {scheduler!r}: expected tcp://HOST:PORT")
    try:
        from distributed import Client
    except ImportError:
        raise ValidationError("--scheduler needs dask.distributed: "
                              "pip install 'spicefet[dask]'") from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as err:
        raise ValidationError(f"--scheduler {scheduler}: cannot connect ({err})") from None
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()


@contextmanager
def open_executor(scheduler: str | None = None, workers: int | None = None) -> Iterator[Executor]:
    """The Dask executor if `scheduler` is given, else a local pool of `workers`."""
    if scheduler and workers:
        raise ValidationError("--workers sizes the local pool; with --scheduler the cluster's "
                              "workers run the sweep")
    if workers is not None and workers < 1:
        raise ValidationError(f"--workers must be >= 1, got {workers}")
    if scheduler:
        with dask_executor(scheduler) as executor:
            yield executor
    else:
        with local_pool(workers) as executor:
            yield executor
