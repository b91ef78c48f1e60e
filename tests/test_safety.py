"""Nothing a user types reaches a netlist unvalidated; bad input fails with one clear line."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from spicefet.cli import main
from spicefet.errors import ValidationError
from spicefet.netlist.core import Element, Expr, Netlist, Op, Pwl, fmt
from spicefet.params import load_params

INJECTIONS = ["1\n.control\nshell touch {marker}\n.endc", "1 .control", "1e999", "nan", "1;shell"]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_set_refuses_injection_and_nothing_runs(tmp_path, capsys, payload):
    marker, out = tmp_path / "pwned", tmp_path / "out.csv"
    code = main(["sim", "idvg", "--set", f"channel.mu_cm2Vs={payload.format(marker=marker)}",
                 "-o", str(out), "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("spicefet: error:") and err.count("\n") == 1
    assert not marker.exists() and not out.exists()


@pytest.mark.parametrize("name", ["bad name", "x\n.control", "1abc", "a-b", ""])
def test_names_are_refused(name):
    with pytest.raises(ValidationError):
        Element(name, ("a", "0"), 1.0).render()
    with pytest.raises(ValidationError):
        Element("r1", (name, "0"), 1.0).render()
    with pytest.raises(ValidationError):
        Netlist(name, Op()).render()


def test_parameter_names_and_values_are_refused():
    with pytest.raises(ValidationError, match="not a valid name"):
        Element("x1", ("a", "0"), "sub", {"w um": 1.0}).render()
    with pytest.raises(ValidationError, match="not finite"):
        Element("x1", ("a", "0"), "sub", {"w_um": float("inf")}).render()
    with pytest.raises(ValidationError, match="not a number"):
        fmt("1")
    with pytest.raises(ValidationError):
        Expr("V(a)\n.control")
    with pytest.raises(ValidationError, match="increase"):
        Pwl((0.0, 0.0), (1.0, 2.0)).render()


def test_numbers_render_without_si_ambiguity():
    assert fmt(1e6) == "1000000" and fmt(1e-9) == "1e-09" and fmt(2.5e22) == "2.5e+22"
    assert float(fmt(0.1 + 0.2)) == 0.1 + 0.2  # round-trips exactly


def test_unknown_and_out_of_range_parameters_name_the_culprit(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"channel": {"mu_cm2Vs": -3}}))
    with pytest.raises(ValidationError, match=r"p.json: channel.mu_cm2Vs = -3"):
        load_params(bad)
    bad.write_text(json.dumps({"channel": {"mobility": 3}}))
    with pytest.raises(ValidationError, match="unknown parameter 'mobility'"):
        load_params(bad)
    bad.write_text('{"channel": {"mu_cm2Vs": 3,}}')
    with pytest.raises(ValidationError, match=r"p.json:1:\d+: not valid JSON"):
        load_params(bad)


def test_cli_unknown_bench_option_exits_nonzero_and_writes_nothing(tmp_path):
    out = tmp_path / "n.cir"
    proc = subprocess.run([sys.executable, "-m", "spicefet", "netlist", "idvg", "--set",
                           "vdd=1", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no option 'vdd'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()
