"""Measurement CSV files: one schema per kind, strict validation, typed results.

A data file is plain UTF-8 CSV (no quoting; commas separate fields, surrounding blanks are
ignored) in this order:

1. optional comment lines starting with ``#``; those of the form ``# key: value`` are kept as
   the header (device geometry, provenance). Keys in `HEADER_NUMBERS` (``w_um``, ``l_um``,
   ``vd_V`` ...) must hold a finite number; other keys hold free text.
2. one line of column names, units in the names (``vg_V``, ``id_A``). Columns may come in any
   order; each kind has required columns, optional ones, and groups of which exactly one is
   given (``g_S`` *or* ``i_A``).
3. data rows, one value per column. Blank lines are skipped anywhere; ``#`` lines after the
   column names are refused (a header there would be silently meaningless).

The kinds and their columns are the dataclasses below (`TransferData`, `PvData`, `PulseData`,
`SwitchingData`, `RetentionData`, `EnduranceData`): the field metadata is the schema, so the
documentation, the reader and the writer cannot disagree.

Every problem raises `spicefet.errors.ValidationError` with ONE line naming the file, the line
and the column, e.g. ``data.csv:12: column id_A: 'abc' is not a number``. Refused: unreadable,
empty or oversized files (more than `MAX_FILE_BYTES` bytes or `MAX_ROWS` rows), text that is
not UTF-8, missing, unknown or duplicated columns (with the closest accepted name suggested),
units other than the one in the schema (``vg_mV`` -> "give vg_V in V"), non-numeric or empty
cells, NaN/inf, values outside a column's physical range (negative times and cycle counts),
and wrong order where order carries meaning (a sweep branch that is not monotonic, times that
do not increase within a retention series, cycle counts or pulse numbers that do not increase).
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import ValidationError
from ..params import write_text_atomic

MAX_FILE_BYTES = 16 * 1024 * 1024   # a data file larger than this is refused before parsing
MAX_ROWS = 1_000_000                # and so is one with more data rows than this

NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
NONFINITE_RE = re.compile(r"[+-]?(?:nan|inf|infinity)\Z", re.I)
LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}\Z")
HEADER_RE = re.compile(r"#\s*([A-Za-z_][A-Za-z0-9_]*)\s*:(.*)\Z")

# Header keys that must hold a number, with what they mean (units in the names).
HEADER_NUMBERS = {
    "w_um": "channel width [um]",
    "l_um": "channel length [um]",
    "t_ox_nm": "gate-dielectric thickness [nm]",
    "eps_ox": "gate-dielectric relative permittivity",
    "temp_C": "device temperature [C]",
    "vd_V": "drain bias of every row when there is no vd_V column [V]",
    "vread_V": "read voltage at which currents were measured [V]",
    "area_um2": "ferroelectric capacitor area [um^2]",
    "p0": "initial P/Ps of the ferroelectric (pv: -1, pulse: 0.2 when absent)",
    "ratio": "A_FE/A_DE of the gate (pulse: duplex.ratio_t, switching: ratio_i when absent)",
    "edge_s": "pulse rise/fall time [s] (pulse: operation.t_edge_s when absent)",
    "period_s": "pulse period [s] (pulse: operation.t_period_s when absent)",
}


def column(suffix: str, unit: str, doc: str, *, optional: bool = False, group: str = "",
           lo: float = -math.inf, lo_open: bool = False, hi: float = math.inf,
           whole: bool = False, choices: tuple[str, ...] = (), label: bool = False):
    """A CSV column: `suffix` is the unit part of its name ('' if dimensionless), `unit` the
    unit spelled out for messages. `group`: exactly one column of the group must be present.
    Numbers must lie in [lo, hi] (lo excluded if `lo_open`) and be whole if `whole`;
    `choices` makes it a word column, `label` a free label (letters, digits, ``_.+-``)."""
    return field(default=None, metadata=dict(
        suffix=suffix, unit=unit, doc=doc, optional=optional, group=group, lo=lo,
        lo_open=lo_open, hi=hi, whole=whole, choices=choices, label=label))


# ------------------------------------------------------------------------------ error helpers
def _where(path: str) -> str:
    return path if path.isprintable() else repr(path)


def _show(text: str) -> str:
    """A cell or name as it appears in a message: quoted, escaped, short, on one line."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _fail(path: str, line: int | None, message: str, col: str = "") -> ValidationError:
    where = f"{_where(path)}:{line}" if line is not None else _where(path)
    return ValidationError(f"{where}: column {col}: {message}" if col else f"{where}: {message}")


# ------------------------------------------------------------------------------ the kinds
@dataclass(frozen=True, eq=False)
class CsvData:
    """Common part of every kind: where it came from, its header and each row's line number.

    Column fields hold a numpy array (float64 for numbers, str for words and labels) or None
    when the optional column is absent.
    """
    path: str
    header: dict[str, str | float]
    line: np.ndarray              # 1-based line number of each data row in the file

    kind: ClassVar[str] = ""

    @classmethod
    def columns(cls) -> list:
        return [f for f in fields(cls) if "suffix" in f.metadata]

    def __len__(self) -> int:
        return len(self.line)

    def fail(self, row: int, col: str, message: str) -> ValidationError:
        """A ValidationError pointing at data row `row` (0-based), column `col`."""
        return _fail(self.path, int(self.line[row]), message, col)

    def check(self, columns_line: int) -> None:
        """Checks that need several rows or columns (order, consistency); raise on failure."""

    def _increasing(self, col: str, rows: np.ndarray) -> None:
        """Raise at the first of `rows` whose value of `col` does not exceed the previous."""
        values = getattr(self, col)[rows]
        bad = np.flatnonzero(np.diff(values) <= 0)
        if bad.size:
            raise self.fail(rows[bad[0] + 1], col, f"{values[bad[0] + 1]:g} after "
                                                   f"{values[bad[0]]:g}: {col} must increase "
                                                   f"strictly")


@dataclass(frozen=True, eq=False)
class TransferData(CsvData):
    """Transfer curve(s) Id-Vg. A *branch* is a run of consecutive rows with the same drain
    bias and direction; within it vg_V must change strictly monotonically (up: increasing,
    down: decreasing; without a direction column, either, but never both). The drain bias is
    the vd_V column or, for a single-bias file, the ``# vd_V: ...`` header line."""
    vg_V: np.ndarray = column("V", "V (volts)", "gate voltage")
    id_A: np.ndarray = column("A", "A (amperes)", "drain current, sign as measured")
    vd_V: np.ndarray | None = column("V", "V (volts)", "drain bias; without this column, a "
                                     "'# vd_V: ...' header line", optional=True)
    direction: np.ndarray | None = column("", "", "sweep direction, up or down", optional=True,
                                          choices=("up", "down"))
    kind: ClassVar[str] = "transfer"

    def drain_bias_V(self) -> np.ndarray:
        """The drain bias of every row [V] (from the column or the header)."""
        if self.vd_V is not None:
            return self.vd_V
        return np.full(len(self), float(self.header["vd_V"]))

    def branches(self) -> list[np.ndarray]:
        """Row indices of each branch, in file order."""
        keys = list(zip(self.drain_bias_V(), self.direction if self.direction is not None
                        else [""] * len(self)))
        starts = [0] + [k for k in range(1, len(keys)) if keys[k] != keys[k - 1]]
        return [np.arange(a, b) for a, b in zip(starts, starts[1:] + [len(keys)])]

    def check(self, columns_line: int) -> None:
        has_header = "vd_V" in self.header
        if self.vd_V is None and not has_header:
            raise _fail(self.path, columns_line, "no drain bias: add a vd_V column or a "
                                                 "'# vd_V: 0.1' header line")
        if self.vd_V is not None and has_header:
            raise _fail(self.path, columns_line, "the drain bias is given both as a vd_V column "
                                                 "and as a '# vd_V' header line: keep one")
        for rows in self.branches():
            step = np.diff(self.vg_V[rows])
            way = (self.direction[rows[0]] if self.direction is not None
                   else ("up" if step.size and step[0] > 0 else "down"))
            bad = np.flatnonzero(step <= 0 if way == "up" else step >= 0)
            if bad.size:
                k = rows[bad[0] + 1]
                hint = ("" if self.direction is not None else
                        "; for a double sweep add a direction column (up/down)")
                raise self.fail(k, "vg_V", f"{self.vg_V[k]:g} after {self.vg_V[k - 1]:g} breaks "
                                           f"the {way} sweep of this branch (vg_V must "
                                           f"{'increase' if way == 'up' else 'decrease'} "
                                           f"strictly within a branch{hint})")


@dataclass(frozen=True, eq=False)
class PvData(CsvData):
    """Polarisation-voltage loop of a ferroelectric capacitor, rows in time order: voltage
    and either polarisation or switched charge; optionally the time of each row."""
    v_V: np.ndarray = column("V", "V (volts)", "voltage across the capacitor")
    p_uC_cm2: np.ndarray | None = column("uC_cm2", "uC/cm^2 (microcoulombs per cm^2)",
                                         "polarisation", group="polarisation")
    q_C: np.ndarray | None = column("C", "C (coulombs)", "charge", group="polarisation")
    t_s: np.ndarray | None = column("s", "s (seconds)", "time", optional=True, lo=0.0)
    kind: ClassVar[str] = "pv"

    def check(self, columns_line: int) -> None:
        if self.t_s is not None:
            self._increasing("t_s", np.arange(len(self)))


@dataclass(frozen=True, eq=False)
class PulseData(CsvData):
    """Pulse response (potentiation/depression): after pulse number `pulse` (0 = before the
    first pulse) of amplitude `amplitude_V` (sign = direction) and width `width_s`, the read
    conductance or current. Pulse numbers increase strictly."""
    pulse: np.ndarray = column("", "", "pulse number", lo=0.0, whole=True)
    g_S: np.ndarray | None = column("S", "S (siemens)", "read conductance", group="state",
                                    lo=0.0, lo_open=True)
    i_A: np.ndarray | None = column("A", "A (amperes)", "read current", group="state")
    amplitude_V: np.ndarray = column("V", "V (volts)", "pulse amplitude")
    width_s: np.ndarray = column("s", "s (seconds)", "pulse width", lo=0.0, lo_open=True)
    kind: ClassVar[str] = "pulse"

    def check(self, columns_line: int) -> None:
        self._increasing("pulse", np.arange(len(self)))


@dataclass(frozen=True, eq=False)
class SwitchingData(CsvData):
    """Switching kinetics: a device reset to the erased state receives ONE pulse of width
    `width_s` and amplitude `amplitude_V`; the row gives the resulting state change, either
    the threshold shift `dvt_V` or the switched fraction of the polarisation `switched_frac`
    (0..1). Rows may come in any order; repeated pulses are repeated measurements."""
    width_s: np.ndarray = column("s", "s (seconds)", "pulse width", lo=0.0, lo_open=True)
    amplitude_V: np.ndarray = column("V", "V (volts)", "pulse amplitude")
    dvt_V: np.ndarray | None = column("V", "V (volts)", "threshold shift", group="change")
    switched_frac: np.ndarray | None = column("frac", "fraction 0..1", "switched fraction",
                                              group="change", lo=0.0, hi=1.0)
    kind: ClassVar[str] = "switching"


@dataclass(frozen=True, eq=False)
class RetentionData(CsvData):
    """Retention: read conductance or current of programmed states vs time since programming
    at a bake temperature. A *series* is one (state, temp_C) pair; within a series times
    increase strictly in file order (series may interleave)."""
    time_s: np.ndarray = column("s", "s (seconds)", "time since programming", lo=0.0)
    g_S: np.ndarray | None = column("S", "S (siemens)", "read conductance", group="state",
                                    lo=0.0, lo_open=True)
    i_A: np.ndarray | None = column("A", "A (amperes)", "read current magnitude", group="state",
                                    lo=0.0, lo_open=True)
    temp_C: np.ndarray = column("C", "C (degrees Celsius)", "bake temperature",
                                lo=-273.15, lo_open=True, hi=1000.0)
    state: np.ndarray = column("", "", "state label", label=True)
    kind: ClassVar[str] = "retention"

    @property
    def signal(self) -> tuple[str, np.ndarray]:
        """(column name, values) of the measured quantity, conductance or current."""
        return ("g_S", self.g_S) if self.g_S is not None else ("i_A", self.i_A)

    def series(self) -> dict[tuple[str, float], np.ndarray]:
        """Row indices of each (state, temp_C) series, in order of first appearance."""
        out: dict[tuple[str, float], list[int]] = {}
        for k, key in enumerate(zip(self.state.tolist(), self.temp_C.tolist())):
            out.setdefault(key, []).append(k)
        return {key: np.array(rows) for key, rows in out.items()}

    def check(self, columns_line: int) -> None:
        for rows in self.series().values():
            self._increasing("time_s", rows)


@dataclass(frozen=True, eq=False)
class EnduranceData(CsvData):
    """Endurance: memory window or on/off ratio after `cycles` program/erase cycles
    (0 = pristine); cycle counts increase strictly."""
    cycles: np.ndarray = column("", "", "program/erase cycles", lo=0.0, whole=True)
    window_V: np.ndarray | None = column("V", "V (volts)", "memory window", group="window")
    on_off: np.ndarray | None = column("", "", "on/off current ratio", group="window",
                                       lo=0.0, lo_open=True)
    kind: ClassVar[str] = "endurance"

    @property
    def signal(self) -> tuple[str, np.ndarray]:
        """(column name, values) of the measured figure of merit."""
        return ("window_V", self.window_V) if self.window_V is not None else ("on_off", self.on_off)

    def check(self, columns_line: int) -> None:
        self._increasing("cycles", np.arange(len(self)))


KINDS: dict[str, type[CsvData]] = {c.kind: c for c in (
    TransferData, PvData, PulseData, SwitchingData, RetentionData, EnduranceData)}


def data_class(kind: str) -> type[CsvData]:
    if kind not in KINDS:
        raise ValidationError(f"unknown data kind {kind!r}; kinds: {', '.join(KINDS)}")
    return KINDS[kind]


def describe(kind: str) -> str:
    """One line per column of a kind: name, unit, meaning, required/optional/one-of."""
    cols = data_class(kind).columns()
    lines = []
    for f in cols:
        m = f.metadata
        group = [g.name for g in cols if m["group"] and g.metadata["group"] == m["group"]]
        need = (f"one of {', '.join(group)}" if group
                else "optional" if m["optional"] else "required")
        unit = f" [{m['unit']}]" if m["unit"] else ""
        lines.append(f"{f.name}{unit}: {m['doc']} ({need})")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ reading
def read_csv(path: str | Path, kind: str) -> CsvData:
    """Read and validate a data file of `kind`; see the module docstring for the rules."""
    cls = data_class(kind)
    name = str(path)
    text = _read_text(Path(path), name)
    lines = text.split("\n")
    header: dict[str, str | float] = {}
    columns_line, names = 0, None
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            _header_line(name, n, line, header)
            continue
        columns_line, names = n, _column_names(name, n, line, cls)
        break
    if names is None:
        raise _fail(name, None, "empty file: no column names and no data"
                    if not header else "no column names after the header lines")
    specs = {f.name: f.metadata for f in cls.columns()}
    cells: dict[str, list] = {c: [] for c in names}
    line_numbers: list[int] = []
    for n in range(columns_line + 1, len(lines) + 1):
        line = lines[n - 1].strip()
        if not line:
            continue
        if line.startswith("#"):
            raise _fail(name, n, "comment lines are only allowed before the column names")
        if len(line_numbers) >= MAX_ROWS:
            raise _fail(name, n, f"more than {MAX_ROWS} data rows (the limit for a data file)")
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != len(names):
            raise _fail(name, n, f"expected {len(names)} fields ({', '.join(names)}), "
                                 f"found {len(parts)}")
        for col, cell in zip(names, parts):
            cells[col].append(_cell(name, n, col, cell, specs[col]))
        line_numbers.append(n)
    if not line_numbers:
        raise _fail(name, columns_line, "no data rows after the column names")
    arrays = {c: np.array(v, dtype=float if _numeric(specs[c]) else str) for c, v in cells.items()}
    data = cls(path=name, header=header, line=np.array(line_numbers), **arrays)
    data.check(columns_line)
    return data


def _read_text(path: Path, name: str) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _fail(name, None, f"file is {size} bytes, more than the {MAX_FILE_BYTES} "
                                    f"bytes allowed for a data file")
        with path.open("rb") as fh:
            blob = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _fail(name, None, "file not found") from None
    except IsADirectoryError:
        raise _fail(name, None, "is a directory, not a data file") from None
    except OSError as err:
        raise _fail(name, None, f"cannot read: {err.strerror or err}") from None
    if len(blob) > MAX_FILE_BYTES:
        raise _fail(name, None, f"more than the {MAX_FILE_BYTES} bytes allowed for a data file")
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as err:
        line = blob[:err.start].count(b"\n") + 1
        raise _fail(name, line, f"not UTF-8 text (byte 0x{blob[err.start]:02x})") from None
    return text[1:] if text.startswith("\ufeff") else text


def _header_line(path: str, n: int, line: str, header: dict) -> None:
    match = HEADER_RE.match(line)
    if not match:
        return  # a free comment
    key, value = match.group(1), match.group(2).strip()
    if key in header:
        raise _fail(path, n, f"header key {key!r} appears twice")
    if key in HEADER_NUMBERS:
        header[key] = _number(path, n, f"header {key}", value)
    else:
        header[key] = value


def _column_names(path: str, n: int, line: str, cls: type[CsvData]) -> list[str]:
    names = [p.strip() for p in line.split(",")]
    specs = {f.name: f.metadata for f in cls.columns()}
    seen: set[str] = set()
    for k, col in enumerate(names, 1):
        if not col:
            raise _fail(path, n, f"column {k} has no name")
        if col in seen:
            raise _fail(path, n, f"column {_show(col)} appears twice")
        seen.add(col)
        if col not in specs:
            raise _fail(path, n, _unknown_column(col, cls))
    for col, meta in specs.items():
        if not meta["optional"] and not meta["group"] and col not in seen:
            unit = f" in {meta['unit']}" if meta["unit"] else ""
            raise _fail(path, n, f"missing column {col} ({meta['doc']}{unit}); a {cls.kind} "
                                 f"file has columns {_accepted(cls)}")
    groups = dict.fromkeys(m["group"] for m in specs.values() if m["group"])
    for group in groups:
        members = [c for c, m in specs.items() if m["group"] == group]
        given = [c for c in members if c in seen]
        if len(given) != 1:
            what = "both" if len(given) > 1 else "neither"
            raise _fail(path, n, f"give exactly one of {' or '.join(members)} "
                                 f"({what} given)")
    return names


def _accepted(cls: type[CsvData]) -> str:
    return ", ".join(f.name for f in cls.columns())


def _unknown_column(col: str, cls: type[CsvData]) -> str:
    """Why `col` is refused: a wrong unit for a known quantity, or the closest name."""
    for f in cls.columns():
        suffix, unit = f.metadata["suffix"], f.metadata["unit"]
        if not suffix:
            continue
        stem = f.name[: -len(suffix) - 1]
        if col.startswith(stem + "_") and col[len(stem) + 1:]:
            return (f"column {_show(col)} has unit {_show(col[len(stem) + 1:])}, but a "
                    f"{cls.kind} file takes {f.name} in {unit}; convert the values and "
                    f"rename the column {f.name}")
    names = [f.name for f in cls.columns()]
    close = difflib.get_close_matches(col.lower(), [x.lower() for x in names], n=1, cutoff=0.6)
    hint = f"did you mean {names[[x.lower() for x in names].index(close[0])]}? " if close else ""
    return (f"column {_show(col)} is not a column of a {cls.kind} file; {hint}"
            f"columns: {_accepted(cls)}")


def _numeric(meta) -> bool:
    return not meta["choices"] and not meta["label"]


def _cell(path: str, n: int, col: str, cell: str, meta) -> float | str:
    if not cell:
        raise _fail(path, n, "empty cell", col)
    if meta["choices"]:
        if cell not in meta["choices"]:
            raise _fail(path, n, f"{_show(cell)} is not one of {', '.join(meta['choices'])}", col)
        return cell
    if meta["label"]:
        if not LABEL_RE.match(cell):
            raise _fail(path, n, f"{_show(cell)} is not a label (letters, digits and _.+-, "
                                 f"starting with a letter or digit, at most 64 characters)", col)
        return cell
    x = _number(path, n, f"column {col}", cell)
    lo, hi = meta["lo"], meta["hi"]
    if x < lo or (meta["lo_open"] and x == lo) or x > hi:
        rng = (f"> {lo:g}" if meta["lo_open"] else f">= {lo:g}") if hi == math.inf else \
            f"within [{lo:g}, {hi:g}]"
        raise _fail(path, n, f"{cell} must be {rng} ({meta['doc']})", col)
    if meta["whole"] and x != math.floor(x):
        raise _fail(path, n, f"{cell} must be a whole number ({meta['doc']})", col)
    return x


def _number(path: str, n: int, what: str, text: str) -> float:
    where = f"{_where(path)}:{n}: {what}"
    if NONFINITE_RE.match(text):
        raise ValidationError(f"{where}: {_show(text)} is not finite (NaN and inf are refused)")
    if not NUMBER_RE.match(text):
        raise ValidationError(f"{where}: {_show(text)} is not a number")
    x = float(text)
    if not math.isfinite(x):
        raise ValidationError(f"{where}: {_show(text)} is not finite (too large)")
    return x


# ------------------------------------------------------------------------------ writing
def to_csv_text(data: CsvData) -> str:
    """The file text of `data` (header lines, column names, rows); `read_csv` reads it back
    to equal arrays and header."""
    out = []
    for key, value in data.header.items():
        text = repr(float(value)) if key in HEADER_NUMBERS else str(value)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) or "\n" in text or "\r" in text:
            raise ValidationError(f"header {key!r}: {text!r} cannot be written as a header line")
        out.append(f"# {key}: {text}")
    cols = [f for f in data.columns() if getattr(data, f.name) is not None]
    out.append(",".join(f.name for f in cols))
    values = [getattr(data, f.name) for f in cols]
    numeric = [_numeric(f.metadata) for f in cols]
    for row in zip(*values):
        out.append(",".join(repr(float(v)) if num else str(v) for v, num in zip(row, numeric)))
    return "\n".join(out) + "\n"


def write_csv(data: CsvData, path: str | Path) -> None:
    """Write `data` atomically (temp file + rename)."""
    write_text_atomic(Path(path), to_csv_text(data))
