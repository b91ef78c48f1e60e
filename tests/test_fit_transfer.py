"""Transfer fit with ngspice in the loop: parameter recovery from synthetic data, outputs,
and refusal of unusable data (nothing written)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from spicefet.errors import ValidationError
from spicefet.fit import fit
from spicefet.fit.csvio import TransferData, read_csv
from spicefet.fit.synthetic import DATA_DIR, FILES, TRANSFER_TRUTH, transfer_dataset
from spicefet.fit.transfer import (TransferObjective, fit_transfer, lmfit_parameters,
                                   start_params)
from spicefet.params import load_params

REFERENCE = DATA_DIR / FILES["transfer"]


@pytest.fixture(scope="module")
def fitted(engine, tmp_path_factory):
    out = tmp_path_factory.mktemp("transfer")
    t0 = time.perf_counter()
    outcome = fit("transfer", REFERENCE, None, out / "fit.json", out / "fit.png",
                  out / "fit.txt", engine=engine)
    return outcome, out, time.perf_counter() - t0


def test_fit_recovers_every_parameter_within_two_sigma(fitted):
    outcome, _, elapsed = fitted
    for name, true in TRANSFER_TRUTH.items():
        par = outcome.result.params[name]
        assert par.stderr is not None and par.stderr > 0
        assert abs(par.value - true) <= 2 * par.stderr, (name, par.value, par.stderr, true)
        start = getattr(load_params().channel, name)
        assert abs(par.value - start) > 0.05 * abs(start)  # the fit moved away from the start
    assert 0.7 < outcome.result.redchi < 1.3     # the noise model fits the noise
    assert outcome.r2 > 0.9999
    assert elapsed < 60


def test_fit_writes_a_loadable_parameter_set_a_plot_and_a_report(fitted):
    outcome, out, _ = fitted
    pset = load_params(out / "fit.json")
    for name in TRANSFER_TRUTH:
        assert getattr(pset.channel, name) == outcome.result.params[name].value
    assert pset.selector == load_params().selector             # untouched section
    provenance = (out / "fit.json").read_text()
    assert "SYNTHETIC" in provenance and "spicefet fit transfer" in provenance
    assert (out / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "fit.txt").read_text()
    for part in ("mu_cm2Vs:", "+/-", "[[Correlations]]", "reduced chi-square", "R-squared",
                 "SYNTHETIC"):
        assert part in report
    assert outcome.summary["fits"]["transfer"]["r2"] == outcome.r2
    assert sorted(p.name for p in out.iterdir()) == ["fit.json", "fit.png", "fit.txt"]


def test_reference_file_is_what_the_generator_makes(engine):
    made = transfer_dataset(engine)
    stored = read_csv(REFERENCE, "transfer")
    assert made.header == stored.header
    np.testing.assert_array_equal(made.vg_V, stored.vg_V)
    np.testing.assert_allclose(made.id_A, stored.id_A, rtol=1e-9, atol=1e-24)
    np.testing.assert_array_equal(made.direction, stored.direction)


def test_parallel_jacobian_matches_central_differences(engine):
    data = read_csv(REFERENCE, "transfer")
    base = start_params(load_params(), data, "channel")
    objective = TransferObjective(data, base, engine)
    params = lmfit_parameters(base.channel, ("vt_V", "ss_mVdec"))
    jac = objective.jacobian(params)
    for k, name in enumerate(("vt_V", "ss_mVdec")):
        h = 1e-4 * params[name].value
        up, down = params.copy(), params.copy()
        up[name].value += h
        down[name].value -= h
        central = (objective.residual(up) - objective.residual(down)) / (2 * h)
        scale = np.max(np.abs(central))
        assert np.max(np.abs(jac[:, k] - central)) < 0.02 * scale


def test_header_geometry_overrides_the_start_parameters():
    data = TransferData(path="d.csv", header={"w_um": 20.0, "l_um": 1.0, "vd_V": 0.1},
                        line=np.array([2, 3]), vg_V=np.array([0.0, 1.0]),
                        id_A=np.array([1e-9, 1e-6]))
    pset = start_params(load_params(), data, "channel")
    assert (pset.channel.w_um, pset.channel.l_um) == (20.0, 1.0)
    bad = TransferData(path="d.csv", header={"w_um": -1.0, "vd_V": 0.1}, line=np.array([2]),
                       vg_V=np.array([0.0]), id_A=np.array([1e-9]))
    with pytest.raises(ValidationError, match=r"d.csv header: channel.w_um = -1"):
        start_params(load_params(), bad, "channel")


@pytest.mark.parametrize("text,message", [
    ("# vd_V: 0.1\nvg_V,id_A\n0,1e-9\n1,0\n2,1e-6\n3,2e-6\n4,3e-6\n5,4e-6\n",
     r"data.csv:4: column id_A: zero current cannot be fitted in log space"),
    ("# vd_V: 0\nvg_V,id_A\n0,1e-9\n1,1e-8\n2,1e-6\n3,2e-6\n4,3e-6\n5,4e-6\n",
     r"data.csv:3: column vd_V: a transfer fit needs a nonzero drain bias"),
    ("# vd_V: 0.1\nvg_V,id_A\n0,1e-9\n1,1e-8\n",
     r"data.csv: 2 data points cannot determine 5 free parameters"),
    ("# vd_V: 0.1\nvg_V,id_A\n0,1e-9\n1,abc\n", r"data.csv:4: column id_A: 'abc' is not a number"),
])
def test_unusable_data_fail_clearly_and_write_nothing(tmp_path, engine, text, message):
    data = tmp_path / "data.csv"
    data.write_text(text)
    with pytest.raises(ValidationError, match=message):
        fit("transfer", data, None, tmp_path / "out.json", tmp_path / "out.png",
            tmp_path / "out.txt", engine=engine)
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


@pytest.mark.slow
def test_reported_standard_errors_are_calibrated_over_many_noise_draws(engine):
    """Over 20 noise seeds, (fit - truth)/stderr must scatter like a unit normal."""
    z = []
    for seed in range(100, 120):
        result = fit_transfer(transfer_dataset(engine, seed=seed), load_params(), engine).result
        z.append([(result.params[n].value - t) / result.params[n].stderr
                  for n, t in TRANSFER_TRUTH.items()])
    z = np.array(z)
    assert np.all(np.abs(z.mean(axis=0)) < 0.7)
    assert np.all((z.std(axis=0) > 0.6) & (z.std(axis=0) < 1.5))
    assert np.mean(np.abs(z) <= 2) > 0.88
