"""``spicefet fit`` as registered by `spicefet.fit.cli.add_subcommands`: outputs on success,
one-line errors (exit 2 in the main CLI) and nothing written on failure."""
from __future__ import annotations

import argparse

import pytest

import spicefet.fit
from spicefet.errors import SpicefetError, ValidationError
from spicefet.fit.cli import add_subcommands
from spicefet.fit.synthetic import DATA_DIR, FILES
from spicefet.params import DEFAULT_PARAMS


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="spicefet")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.func(args)


def test_fit_writes_out_plot_and_report(tmp_path, capsys):
    out, png, txt = tmp_path / "e.json", tmp_path / "e.png", tmp_path / "e.txt"
    run(["fit", "endurance", str(DATA_DIR / FILES["endurance"]), "--out", str(out),
         "--plot", str(png), "--report", str(txt)])
    assert out.exists() and png.exists() and "cycles to failure" in txt.read_text()
    err = capsys.readouterr().err
    assert err.startswith("fit endurance: R^2 = ") and err.count("\n") == 1


@pytest.mark.parametrize("kind,text,message", [
    ("retention", "time_s,g_S,temp_C,state\n0,1,85,a\n0,x,85,b\n",
     r"data.csv:3: column g_S: 'x' is not a number"),
    ("pv", "v_V,p_uC_cm2\n0,1\n1,2\n", r"2 data points cannot determine 4 free parameters"),
    ("switching", "width_s,amplitude_V,dvt_V\n1e-9,5,0.1\n", r"needs a switched_frac column"),
    ("pulse", "pulse,i_A,amplitude_V,width_s\n0,1e-6,3,1e-7\n", r"no pulses"),
    ("iv", "v_V\n0\n", r"unknown fit kind 'iv'; kinds: transfer, pv, pulse"),
])
def test_errors_are_one_line_and_nothing_is_written(tmp_path, kind, text, message):
    data = tmp_path / "data.csv"
    data.write_text(text)
    with pytest.raises(ValidationError, match=message) as err:
        run(["fit", kind, str(data), "--out", str(tmp_path / "o.json"), "--plot",
             str(tmp_path / "o.png"), "--report", str(tmp_path / "o.txt")])
    assert isinstance(err.value, SpicefetError) and "\n" not in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


def test_outputs_may_not_overwrite_the_data_or_each_other(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text((DATA_DIR / FILES["endurance"]).read_text())
    before = data.read_text()
    with pytest.raises(ValidationError, match="refusing to overwrite the data file"):
        run(["fit", "endurance", str(data), "--out", str(data)])
    with pytest.raises(ValidationError, match="must differ"):
        run(["fit", "endurance", str(data), "--out", str(tmp_path / "a"), "--plot",
             str(tmp_path / "a")])
    assert data.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["data.csv"]


def test_a_device_parameter_file_is_refused_as_start_for_analytic_fits(tmp_path):
    with pytest.raises(ValidationError, match="no 'endurance' section of start values"):
        run(["fit", "endurance", str(DATA_DIR / FILES["endurance"]), "--params",
             str(DEFAULT_PARAMS), "--out", str(tmp_path / "o.json")])


def test_a_failure_while_writing_outputs_leaves_nothing(tmp_path, monkeypatch):
    def broken_plot(fig, path):
        raise OSError("disk full")
    monkeypatch.setattr(spicefet.fit, "save_figure", broken_plot)
    with pytest.raises(OSError, match="disk full"):
        run(["fit", "endurance", str(DATA_DIR / FILES["endurance"]), "--out",
             str(tmp_path / "o.json"), "--plot", str(tmp_path / "o.png")])
    assert list(tmp_path.iterdir()) == []


def test_out_is_required():
    with pytest.raises(SystemExit) as exit_:
        run(["fit", "transfer", "data.csv"])
    assert exit_.value.code == 2
