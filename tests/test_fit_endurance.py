"""Endurance model and fit: recovery of known parameters, cycles to failure, breakdown."""
from __future__ import annotations

import math

import numpy as np
import pytest

from spicefet.fit import fit
from spicefet.fit.endurance import cycles_to_failure, fit_endurance, window
from spicefet.fit.synthetic import DATA_DIR, ENDURANCE_TRUTH, FILES, endurance_dataset

REFERENCE = DATA_DIR / FILES["endurance"]


def test_model_shape():
    w = window([0.0, 1e6, 1e20], 1.0, 0.5, 3.0, 12.0, 0.2)
    assert w[0] == 1.0                                           # pristine window
    assert w[1] == pytest.approx(1.5, rel=1e-3)                  # woken up, no fatigue yet
    assert w[2] == pytest.approx(1.5 * (1 + 1e8) ** -0.2, rel=1e-6)
    assert window(1e15, 1.0, 0.0, 3.0, 30.0, 0.0, 14.0, 4.0) == pytest.approx(1 / (1 + 1e4))


def test_cycles_to_failure_matches_the_closed_form():
    values = dict(w0=1.0, wakeup=0.0, log10_n_wakeup=3.0, log10_n_fatigue=10.0, fatigue_exp=0.25)
    assert cycles_to_failure(values, 0.5) == pytest.approx(1e10 * (2 ** 4 - 1), rel=1e-6)
    assert cycles_to_failure({**values, "fatigue_exp": 0.0}, 0.5) == math.inf


def test_fit_recovers_parameters_within_two_sigma():
    result = fit_endurance(endurance_dataset(seed=21))
    for name, true in ENDURANCE_TRUTH.items():
        p = result.result.params[name]
        assert abs(p.value - true) <= 2 * p.stderr, (name, p.value, p.stderr, true)
    assert not result.breakdown
    true_failure = cycles_to_failure(ENDURANCE_TRUTH, 0.5)
    assert math.log10(result.cycles_to_failure) == pytest.approx(math.log10(true_failure), abs=0.5)


def test_breakdown_in_the_data_is_fitted():
    truth = {**ENDURANCE_TRUTH, "log10_n_breakdown": 9.0, "breakdown_exp": 3.0}
    data = endurance_dataset(truth, noise_V=0.01, seed=4)
    result = fit_endurance(data)
    assert result.breakdown
    assert result.result.params["log10_n_breakdown"].value == pytest.approx(9.0, abs=0.3)
    assert 1e8 < result.cycles_to_failure < 1e10


def test_on_off_data_are_fitted_in_decades(tmp_path):
    n = np.concatenate([[0.0], np.round(10.0 ** (np.arange(40) / 3))])
    path = tmp_path / "onoff.csv"
    decades = window(n, **ENDURANCE_TRUTH) * 4
    rows = "".join(f"{float(c)!r},{float(10 ** d)!r}\n" for c, d in zip(n, decades))
    path.write_text("cycles,on_off\n" + rows)
    outcome = fit("endurance", path, None, tmp_path / "e.json")
    assert outcome.result.params["w0"].value == pytest.approx(4 * ENDURANCE_TRUTH["w0"], rel=1e-4)
    assert "decades" in outcome.report


def test_reference_dataset_endures_beyond_1e13_cycles(tmp_path):
    outcome = fit("endurance", REFERENCE, None, tmp_path / "e.json", tmp_path / "e.png")
    assert outcome.summary["endurance"]["cycles_to_failure"] > 1e13         # targets D5
    assert "extrapolated beyond the data" in outcome.report
