"""The tidy result table: one row per run, written atomically as CSV or Parquet.

Columns: ``run``, ``corner`` (if the spec has corners), ``sample`` (if it has Monte Carlo), each
swept parameter as ``section.name``, each figure, then ``status`` (ok/failed), ``error``,
``rung`` (the highest convergence rung the run needed) and ``seconds``. A figure a run did not
produce is empty in CSV and null in Parquet. Parquet needs pyarrow (``pip install
'spicefet[parquet]'``).
"""
from __future__ import annotations

import csv
import importlib.util
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..params import make_readable, write_text_atomic
from .numerics import NumericsCheck
from .plan import parameter_columns
from .runner import SweepResult

FORMATS = (".csv", ".parquet")


def check_table_path(path: Path) -> None:
    """Refuse an unknown extension, or Parquet without pyarrow, before anything runs."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValidationError(f"{path}: the table must end in {' or '.join(FORMATS)}")
    if suffix == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ValidationError(f"{path}: Parquet output needs pyarrow "
                              f"(pip install 'spicefet[parquet]'); or write .csv")


def sweep_table(result: SweepResult) -> tuple[list[str], list[list[Any]]]:
    spec = result.spec
    params, figures = parameter_columns(spec), result.figure_names()
    head = ["run", *(["corner"] if spec.corners else []), *(["sample"] if spec.runs else [])]
    columns = [*head, *params, *figures, "status", "error", "rung", "seconds"]
    rows = []
    for run, o in zip(result.runs, result.outcomes):
        ids = [run.index, *([run.corner] if spec.corners else []),
               *([run.sample] if spec.runs else [])]
        rows.append([*ids, *(run.values[p] for p in params), *(o.figures.get(f) for f in figures),
                     o.status, o.error, o.rung, o.seconds])
    return columns, rows


def numerics_table(check: NumericsCheck) -> tuple[list[str], list[list[Any]]]:
    """One row per checked run: ``rel_change.FIGURE`` columns, the tightened run's error."""
    figures = list(check.max_by_figure())
    columns = ["run", *(f"rel_change.{f}" for f in figures), "error"]
    rows = [[run, *(change.get(f) for f in figures), error]
            for run, change, error in zip(check.runs, check.changes, check.errors)]
    return columns, rows


def write_table(path: Path, columns: list[str], rows: list[list[Any]]) -> None:
    """Write CSV or Parquet (by extension) to a temp file and rename it into place."""
    check_table_path(path)
    if path.suffix.lower() == ".csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        write_text_atomic(path, buf.getvalue())
        return
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pa.table({name: [row[k] for row in rows] for k, name in enumerate(columns)})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        make_readable(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
