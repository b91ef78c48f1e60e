"""Every file in netlists/ runs under plain `ngspice -b` and matches what the generators write."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from spicefet.cli import main
from spicefet.rawfile import read_raw

NETLISTS = sorted((Path(__file__).resolve().parents[1] / "netlists").glob("*.cir"))


def test_there_are_netlists():
    assert NETLISTS, "run `make netlists`"


@pytest.mark.parametrize("path", NETLISTS, ids=lambda p: p.name)
def test_netlist_runs_in_plain_ngspice(path, tmp_path):
    raw = tmp_path / "out.raw"
    proc = subprocess.run(["ngspice", "-b", "-r", str(raw), str(path)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "error" not in output.lower(), output
    plot = read_raw(raw)[-1]
    assert plot.data.shape[0] > 1 and plot.data.size and (plot.data == plot.data).all()


def test_netlists_directory_is_up_to_date(tmp_path):
    assert main(["netlists", "--out", str(tmp_path)]) == 0
    def normal(path: Path) -> str:  # include paths differ only by where the file lives
        return re.sub(r'\.include "[^"]*/models/', '.include "MODELS/', path.read_text())

    fresh = {p.name: normal(p) for p in tmp_path.glob("*.cir")}
    committed = {p.name: normal(p) for p in NETLISTS}
    assert fresh.keys() == committed.keys()
    for name in fresh:
        assert fresh[name] == committed[name], f"netlists/{name} is stale: run `make netlists`"
