"""The journal: finished runs, one JSON line each, appended as they complete.

It sits beside the output table (``results.csv`` -> ``results.journal.jsonl``) and makes sweeps
resumable: a run's key is a SHA-256 of everything that determines its figures (experiment,
options, the full parameter set of the run, the model libraries' text and whether it is a
tightened numerics check), so re-running a sweep executes only runs whose key is missing, and
editing a spec (more runs, another corner) reuses every run that did not change.

Only the parent process writes. Each line goes out in one ``write`` on an ``O_APPEND``
descriptor; a process killed mid-line leaves at most one unparsable last line, which loading
skips (and the next append starts on a fresh line).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from ..netlist.core import MODELS_DIR
from ..params import ParamSet
from .execute import Outcome

KEY_VERSION = "1"


@cache
def models_digest() -> str:
    """SHA-256 over the text of every model library: editing a model invalidates the journal."""
    h = hashlib.sha256()
    for path in sorted(MODELS_DIR.glob("*.lib")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def run_key(experiment: str, options: dict[str, Any], base: ParamSet,
            values: dict[str, float], tightened: bool) -> str:
    """The identity of one run (see the module docstring)."""
    params = base.to_dict()
    for param, value in values.items():
        section, _, name = param.partition(".")
        params[section][name] = float(value)
    text = json.dumps({"version": KEY_VERSION, "experiment": experiment, "options": options,
                       "params": params, "models": models_digest(), "tightened": tightened},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def journal_path(table: Path) -> Path:
    """``results.csv`` and ``results.parquet`` share ``results.journal.jsonl``."""
    return table.with_suffix(".journal.jsonl")


class Journal:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def load(self) -> dict[str, Outcome]:
        """Outcomes by key; a later line for the same key (a retried run) wins."""
        out: dict[str, Outcome] = {}
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            try:
                outcome = Outcome(**json.loads(line))
            except (ValueError, TypeError):  # a line cut short by a kill, or not ours
                continue
            out[outcome.key] = outcome
        return out

    def append(self, outcome: Outcome) -> None:
        line = json.dumps(dataclasses.asdict(outcome)) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # the previous writer was killed mid-line
            os.write(fd, line.encode())
        finally:
            os.close(fd)
