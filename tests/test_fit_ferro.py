"""Ferroelectric fits with ngspice in the loop (pv, pulse, switching): parameter recovery from
the synthetic reference files, outputs, export to aihwkit/NeuroSim, the reproduce section."""
from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from spicefet import measure
from spicefet.errors import ValidationError
from spicefet.fit import FITTERS, fit
from spicefet.fit.csvio import PulseData, write_csv
from spicefet.fit.export import export
from spicefet.fit.synthetic import (DATA_DIR, FILES, PULSE_TRUTH, PV_TRUTH, SWITCHING_TRUTH)
from spicefet.params import load_params


def _recovered(outcome, truth):
    values = outcome.product.values()
    for name, true in truth.items():
        value, err = values[name]
        assert err is not None and err > 0, name
        assert abs(value - true) <= 2 * err, (name, value, err, true)


@pytest.fixture(scope="module")
def pulse_fit(engine, tmp_path_factory):
    out = tmp_path_factory.mktemp("pulse")
    t0 = time.perf_counter()
    outcome = fit("pulse", DATA_DIR / FILES["pulse"], None, out / "fit.json", out / "fit.png",
                  out / "fit.txt", engine=engine)
    return outcome, out, time.perf_counter() - t0


def test_ferro_kinds_are_registered():
    assert {"pv", "pulse", "switching"} <= set(FITTERS)


def test_pulse_fit_recovers_ea_and_sigma_within_two_sigma(pulse_fit):
    outcome, _, elapsed = pulse_fit
    _recovered(outcome, PULSE_TRUTH)
    start = load_params().ferro
    assert outcome.result.params["ea_MV_cm"].value != start.ea_MV_cm
    assert 0.6 < outcome.result.redchi < 1.4
    assert elapsed < 60


def test_pulse_fit_writes_a_full_parameter_set_plot_and_report(pulse_fit):
    outcome, out, _ = pulse_fit
    pset = load_params(out / "fit.json")
    assert pset.ferro.ea_MV_cm == outcome.result.params["ea_MV_cm"].value
    assert pset.channel == load_params().channel
    assert "SYNTHETIC" in (out / "fit.json").read_text()
    assert (out / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ea_sigma_MV_cm:" in (out / "fit.txt").read_text()
    assert outcome.summary["fits"]["pulse"]["r2"] == outcome.r2


def test_switching_needs_a_fraction_column(tmp_path, engine):
    path = tmp_path / "sw.csv"
    path.write_text("width_s,amplitude_V,dvt_V\n1e-9,3,0.1\n2e-9,3,0.2\n3e-9,3,0.3\n4e-9,3,0.3\n")
    with pytest.raises(ValidationError, match="switched_frac"):
        fit("switching", path, None, tmp_path / "out.json", engine=engine)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sw.csv"]


@pytest.mark.slow
def test_pv_fit_recovers_parameters(engine, tmp_path):
    outcome = fit("pv", DATA_DIR / FILES["pv"], None, tmp_path / "pv.json", engine=engine)
    _recovered(outcome, PV_TRUTH)


@pytest.mark.slow
def test_switching_fit_recovers_parameters(engine, tmp_path):
    outcome = fit("switching", DATA_DIR / FILES["switching"], None, tmp_path / "sw.json",
                  engine=engine)
    _recovered(outcome, SWITCHING_TRUTH)


# ------------------------------------------------------------------------------ export
def _soft_bounds_csv(path, g_min, g_max, a_ltp, a_ltd, n=40):
    p = np.arange(n + 1)
    ltp = measure.soft_bounds_curve(p, g_min, g_max, a_ltp, n)
    ltd = g_max - measure.soft_bounds_curve(p, 0.0, g_max - g_min, a_ltd, n)
    g = np.concatenate([ltp, ltd[1:]])
    amps = np.concatenate([[3.0], np.full(n, 3.0), np.full(n, -1.0)])
    data = PulseData(path=str(path), header={"provenance": "SYNTHETIC test curve"},
                     line=np.arange(g.size) + 3, pulse=np.arange(g.size, dtype=float), g_S=g,
                     i_A=None, amplitude_V=amps, width_s=np.full(g.size, 5e-9))
    write_csv(data, path)


def test_export_returns_the_generating_soft_bounds_parameters(tmp_path):
    csv = tmp_path / "pulse.csv"
    _soft_bounds_csv(csv, 2e-6, 8e-6, 12.0, 5.0)
    ns = export("neurosim", csv, tmp_path / "ns.json")
    assert ns["A_LTP"] == pytest.approx(12.0, rel=1e-3)
    assert ns["A_LTD"] == pytest.approx(5.0, rel=1e-3)
    assert ns["maxNumLevelLTP"] == ns["maxNumLevelLTD"] == 40
    assert ns["minConductance"] == pytest.approx(2e-6) and ns["maxConductance"] == pytest.approx(8e-6)
    assert ns["NL_LTP"] == pytest.approx(measure.neurosim_nl(12.0 / 40), rel=1e-3)
    ai = export("aihwkit", csv, tmp_path / "ai.json")
    assert ai["device"]["alpha"] == pytest.approx(1 / 12.0, rel=1e-3)
    assert ai["alpha_down"] == pytest.approx(1 / 5.0, rel=1e-3)
    assert ai["device"]["p_max"] == 40 and ai["device"]["w_min"] == -1.0
    assert json.loads((tmp_path / "ai.json").read_text())["device_class"] == "SoftBoundsPmaxDevice"


def test_export_refuses_a_train_without_depression(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("pulse,g_S,amplitude_V,width_s\n0,1e-6,3,5e-9\n1,2e-6,3,5e-9\n"
                   "2,3e-6,3,5e-9\n3,3.5e-6,3,5e-9\n")
    with pytest.raises(ValidationError, match="depression"):
        export("neurosim", csv, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


@pytest.mark.slow
def test_report_section_fits_every_reference_dataset(engine, tmp_path):
    from spicefet.fit.report import ORDER, section
    t0 = time.perf_counter()
    sec = section(load_params(), engine, tmp_path)
    elapsed = time.perf_counter() - t0
    for kind in ORDER:
        assert sec.summary["fits"][kind]["r2"] > 0.9
        assert (tmp_path / f"fit_{kind}.png").exists()
    assert math.isfinite(sec.summary["retention"]["on_off_10y_125C"])
    assert math.isfinite(sec.summary["endurance"]["cycles_to_failure"])
    json.dumps(sec.summary, allow_nan=False)
    assert elapsed < 150
