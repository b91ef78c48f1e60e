"""Reader for ngspice binary raw files (``ngspice -b -r out.raw``).

Format: ASCII header lines ``Key: value`` up to ``Variables:`` (one ``index name type`` line per
variable) and ``Binary:``; then the points, point-major, each variable a float64 (real plots) or
a complex128 (complex plots). A file may hold several plots one after the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IncompleteError


@dataclass
class RawPlot:
    title: str
    plotname: str
    names: list[str]   # as written by ngspice, e.g. 'time', 'v(out)', 'i(vd)'
    types: list[str]   # 'time', 'voltage', 'current', ...
    data: np.ndarray   # shape (points, variables)

    def vectors(self) -> dict[str, np.ndarray]:
        return {name: self.data[:, k].copy() for k, name in enumerate(self.names)}


def read_raw(path: str | Path) -> list[RawPlot]:
    """Read every plot in a binary raw file."""
    blob = Path(path).read_bytes()
    plots, pos = [], 0
    while pos < len(blob):
        plot, pos = _read_plot(blob, pos, str(path))
        plots.append(plot)
    if not plots:
        raise IncompleteError("raw file holds no plot", netlist=str(path))
    return plots


def _read_plot(blob: bytes, pos: int, where: str) -> tuple[RawPlot, int]:
    header: dict[str, str] = {}
    names: list[str] = []
    types: list[str] = []
    while True:
        end = blob.find(b"\n", pos)
        if end < 0:
            raise IncompleteError("raw file header is truncated", netlist=where)
        line = blob[pos:end].decode("ascii", "replace").rstrip("\r")
        pos = end + 1
        if line.startswith("Binary:"):
            break
        if line.startswith("Values:"):
            raise IncompleteError("ASCII raw files are not supported; run ngspice without "
                                  "'set filetype=ascii'", netlist=where)
        if line.startswith("Variables:"):
            count = int(header["No. Variables"])
            for _ in range(count):
                end = blob.find(b"\n", pos)
                fields = blob[pos:end].decode("ascii", "replace").split() if end >= 0 else []
                if len(fields) < 2:
                    raise IncompleteError("raw file variable list is truncated", netlist=where)
                pos = end + 1
                names.append(fields[1].lower())
                types.append(fields[2] if len(fields) > 2 else "")
            continue
        key, _, value = line.partition(":")
        header[key.strip()] = value.strip()
    nvar, npts = int(header["No. Variables"]), int(header["No. Points"])
    complex_data = "complex" in header.get("Flags", "")
    dtype = np.complex128 if complex_data else np.float64
    nbytes = nvar * npts * np.dtype(dtype).itemsize
    if pos + nbytes > len(blob):
        raise IncompleteError(f"raw file is truncated ({len(blob) - pos} of {nbytes} data bytes)",
                              netlist=where)
    data = np.frombuffer(blob, dtype=dtype, count=nvar * npts, offset=pos).reshape(npts, nvar)
    if not complex_data:
        data = data.copy()
    plot = RawPlot(header.get("Title", ""), header.get("Plotname", ""), names, types, data)
    return plot, pos + nbytes
