"""Retention model and fit: recovery of known parameters, the paper's 10-year extrapolation,
and the reference dataset's paper-shaped figures."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from spicefet.errors import ValidationError
from spicefet.fit import fit
from spicefet.fit.csvio import read_csv
from spicefet.fit.retention import (TEN_YEARS_S, drift_rate, fit_retention, level_log10,
                                    line_fit_log_time)
from spicefet.fit.synthetic import DATA_DIR, FILES, RetentionTruth, retention_dataset

TRUTH = RetentionTruth(program_spread_dec=0.0)   # start levels known exactly
REFERENCE = DATA_DIR / FILES["retention"]


@pytest.fixture(scope="module")
def recovered():
    return fit_retention(retention_dataset(TRUTH, seed=11))


def test_model_limits():
    y = level_log10([0.0, 1e3], 85.0, -5.0, 0.01, 0.6, -8.0)
    assert y[0] == -5.0                                     # t = 0: the programmed level
    assert y[1] == pytest.approx(-5.0 - 3.0 * 0.01 * math.log10(1001.0))
    assert level_log10(1e6, 125.0, -8.0, 0.01, 0.6, -8.0) == -8.0   # equilibrium stays put
    assert drift_rate(85.0, 0.01, 0.6) == pytest.approx(0.01)
    assert drift_rate(125.0, 0.01, 0.6) / drift_rate(85.0, 0.01, 0.6) == pytest.approx(
        math.exp(0.6 / 8.617333262e-5 * (1 / 358.15 - 1 / 398.15)))


def test_fit_recovers_the_drift_parameters_within_two_sigma(recovered):
    p = recovered.result.params
    for name in ("nu_ref_per_dec", "ea_eV", "y_eq_log10"):
        true = getattr(TRUTH, name)
        assert abs(p[name].value - true) <= 2 * p[name].stderr, (name, p[name].value, true)
    levels = np.linspace(-12, -5, 16)
    z = np.array([(p[s.param].value - levels[int(s.state[1:])]) / p[s.param].stderr
                  for s in recovered.series])
    assert np.mean(np.abs(z) <= 2) >= 0.85                 # ~95 % expected for 32 levels
    assert 0.8 < recovered.result.redchi < 1.2


def test_ten_year_on_off_matches_the_truth(recovered):
    lin, model = recovered.on_off_10y(125.0)
    nu = drift_rate(125.0, TRUTH.nu_ref_per_dec, TRUTH.ea_eV)
    true = 10 ** (7.0 * (1 - nu * math.log10(1 + TEN_YEARS_S)))
    assert model == pytest.approx(true, rel=0.25)
    assert lin == pytest.approx(true, rel=0.25)
    assert math.isnan(recovered.on_off_10y(25.0)[0])         # no data at 25 C


def test_line_fit_in_log_time_is_exact_for_a_straight_line():
    t = np.array([0.0, 1.0, 10.0, 100.0])
    y = 2.0 - 0.1 * np.log10(np.where(t > 0, t, 1.0))
    assert line_fit_log_time(t, y, 1e8) == pytest.approx(2.0 - 0.8)


def test_one_temperature_fixes_the_activation_energy():
    data = retention_dataset(RetentionTruth(temps_C=(85.0,)), seed=5)
    result = fit_retention(data)
    assert not result.result.params["ea_eV"].vary
    assert result.result.params["ea_eV"].value == 0.6


def test_one_series_is_not_enough(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("time_s,g_S,temp_C,state\n1,1e-6,85,a\n10,1e-6,85,a\n100,1e-6,85,a\n")
    with pytest.raises(ValidationError, match="at least two series"):
        fit_retention(read_csv(path, "retention"))


def test_reference_dataset_has_the_papers_shape(tmp_path):
    outcome = fit("retention", REFERENCE, None, tmp_path / "ret.json", tmp_path / "ret.png",
                  tmp_path / "ret.txt")
    assert outcome.summary["retention"]["on_off_10y_125C"] >= 1e6          # targets D3
    noise = outcome.product.sigma_dec
    assert outcome.summary["retention"]["min_gap_dec_1e3s_85C"] > 10 * noise  # D4: separated
    assert outcome.summary["fits"]["retention"]["r2"] > 0.999
    saved = json.loads((tmp_path / "ret.json").read_text())
    assert set(saved["retention"]) == {"nu_ref_per_dec", "ea_eV", "y_eq_log10"}
    assert "SYNTHETIC" in saved["_provenance"]
    # the written model is a valid start for the next fit, which then lands on the same values
    again = fit("retention", REFERENCE, tmp_path / "ret.json", tmp_path / "again.json")
    for name, value in saved["retention"].items():
        assert again.result.params[name].value == pytest.approx(value, rel=1e-3)


def test_start_file_with_unknown_parameters_is_refused(tmp_path):
    start = tmp_path / "start.json"
    start.write_text(json.dumps({"retention": {"nu": 0.1}}))
    with pytest.raises(ValidationError, match=r"retention.nu is not a retention model parameter"):
        fit("retention", REFERENCE, start, tmp_path / "out.json")
    start.write_text(json.dumps({"retention": {"ea_eV": 7}}))
    with pytest.raises(ValidationError, match=r"retention.ea_eV = 7 is not a number within"):
        fit("retention", REFERENCE, start, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_reported_standard_errors_are_calibrated_over_many_noise_draws():
    """Over 20 noise seeds, (fit - truth)/stderr of the drift parameters scatter like a unit
    normal: the 2-sigma claim of the recovery test is not luck."""
    names = ("nu_ref_per_dec", "ea_eV", "y_eq_log10")
    z = np.array([[(r.params[n].value - getattr(TRUTH, n)) / r.params[n].stderr for n in names]
                  for r in (fit_retention(retention_dataset(TRUTH, seed=s)).result
                            for s in range(200, 220))])
    assert np.all(np.abs(z.mean(axis=0)) < 0.7)
    assert np.all((z.std(axis=0) > 0.6) & (z.std(axis=0) < 1.5))
