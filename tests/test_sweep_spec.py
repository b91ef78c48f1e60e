"""Sweep specs and sampling: strict validation, deterministic Monte Carlo (no simulation)."""
from __future__ import annotations

import io
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from spicefet.errors import ValidationError
from spicefet.params import load_params
from spicefet.sweep import get_experiment, load_spec, parse_spec, plan_runs
from spicefet.sweep.progress import Progress
from spicefet.sweep.spec import LogNormal, Normal, Uniform

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sweeps" / "channel_mc.toml"
BASE = load_params()


def spec(**tables):
    return parse_spec({"experiment": "channel", **tables}, "s.toml")


def mc(vary, runs=50, seed=7, **tables):
    return spec(monte_carlo={"runs": runs, "seed": seed, "vary": vary}, **tables)


@pytest.mark.parametrize("data, key, problem", [
    ({"experiment": "channel", "grdi": {}}, "grdi", "unknown key"),
    ({}, "experiment", "missing"),
    ({"experiment": "nope"}, "experiment", "unknown experiment 'nope'"),
    ({"experiment": 3}, "experiment", "expected a name"),
    ({"experiment": "channel", "grid": {"chanel": {"vt_V": [1.0]}}}, "grid.chanel.vt_V",
     "unknown parameter section"),
    ({"experiment": "channel", "grid": {"channel": {"vt": [1.0]}}}, "grid.channel.vt",
     "unknown parameter 'vt'"),
    ({"experiment": "channel", "grid": {"channel": {"temp_C": [27, 500]}}},
     "grid.channel.temp_C[1]", "outside [-273, 400]"),
    ({"experiment": "channel", "grid": {"channel.vt_V": 1.0}}, "grid.channel.vt_V",
     "non-empty list"),
    ({"experiment": "channel", "grid": {"channel": {"vt_V": ["1"]}}}, "grid.channel.vt_V[0]",
     "is not a number"),
    ({"experiment": "channel", "grid": {"channel": {"vt_V": [0.5]}},
      "corners": {"slow": {"channel": {"vt_V": 0.9}}}}, "corners.slow.channel.vt_V",
     "also a grid axis"),
    ({"experiment": "channel", "monte_carlo": {"runs": "200", "seed": 1, "vary": {}}},
     "monte_carlo.runs", "expected an integer"),
    ({"experiment": "channel", "monte_carlo": {"runs": 10, "vary": {}}}, "monte_carlo.seed",
     "missing"),
    ({"experiment": "channel", "monte_carlo": {"runs": 10, "seed": 1, "vary": {}}},
     "monte_carlo.vary", "is empty"),
    ({"experiment": "channel", "monte_carlo": {"runs": 10, "seed": 1, "vary": {
        "channel.vt_V": {"dist": "normal", "sigma": 0.1, "sigma_rel": 0.1}}}},
     "monte_carlo.vary.channel.vt_V", "exactly one of sigma"),
    ({"experiment": "channel", "monte_carlo": {"runs": 10, "seed": 1, "vary": {
        "channel.vt_V": {"dist": "cauchy"}}}}, "monte_carlo.vary.channel.vt_V.dist",
     "expected one of normal"),
    ({"experiment": "channel", "monte_carlo": {"runs": 10, "seed": 1, "vary": {
        "channel.vt_V": {"dist": "normal", "sigma": -1}}}}, "monte_carlo.vary.channel.vt_V.sigma",
     "must be > 0"),
    ({"experiment": "channel", "monte_carlo": {"runs": 10, "seed": 1, "vary": {
        "channel.vt_V": {"dist": "lognormal", "sigma": 0.1}}}},
     "monte_carlo.vary.channel.vt_V.sigma", "unknown key"),
    ({"experiment": "channel", "monte_carlo": {"runs": 10, "seed": 1, "vary": {
        "channel.rc_ohm_um": {"dist": "uniform", "min": -5, "max": 10}}}},
     "monte_carlo.vary.channel.rc_ohm_um.min", "outside [0, 1e+09]"),
    ({"experiment": "channel", "monte_carlo": {"runs": 10, "seed": 1, "vary": {
        "channel.rc_ohm_um": {"dist": "uniform", "min": 10, "max": 5}}}},
     "monte_carlo.vary.channel.rc_ohm_um", "min < max"),
    ({"experiment": "channel", "options": {"vd_V": 1.0}}, "options.vd_V", "has no option 'vd_V'"),
    ({"experiment": "channel", "options": {"section": 3}}, "options.section", "expected a str"),
    ({"experiment": "channel", "spec": {"vth": {"min": 0}}}, "spec.vth", "has no figure 'vth'"),
    ({"experiment": "channel", "spec": {"vth_V": {"lo": 0}}}, "spec.vth_V.lo", "unknown key"),
    ({"experiment": "channel", "spec": {"vth_V": {"min": 1, "max": 0}}}, "spec.vth_V",
     "min must be below max"),
    ({"experiment": "channel", "timeout_s": -1}, "timeout_s", "must be > 0"),
])
def test_spec_errors_are_one_line_naming_file_and_key(data, key, problem):
    with pytest.raises(ValidationError) as err:
        parse_spec(data, "bad.toml")
    message = str(err.value)
    assert message.startswith(f"bad.toml: {key}"), message
    assert problem in message
    assert "\n" not in message


def test_spec_file_errors_name_the_file(tmp_path):
    with pytest.raises(ValidationError, match="not found"):
        load_spec(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text('experiment = "channel"\n[grid\n')
    with pytest.raises(ValidationError, match=rf"^{broken}: not valid TOML"):
        load_spec(broken)


def test_example_spec_is_a_200_run_monte_carlo_of_mobility_threshold_and_swing():
    s = load_spec(EXAMPLE)
    assert s.experiment.name == "channel" and s.runs == 200
    assert set(s.vary) == {"channel.mu_cm2Vs", "channel.vt_V", "channel.ss_mVdec"}
    assert len(plan_runs(s, BASE)) == 200


def test_dotted_and_quoted_parameter_keys_mean_the_same():
    a = spec(grid={"channel": {"temp_C": [27, 85]}})
    b = spec(grid={"channel.temp_C": [27, 85]})
    assert a.grid == b.grid == {"channel.temp_C": (27.0, 85.0)}


def test_the_registered_channel_experiment_exposes_its_options_and_pickles():
    channel = get_experiment("channel")
    assert channel.options() == {"section": "channel"}
    assert pickle.loads(pickle.dumps(channel)) == channel


def test_grid_corners_and_samples_multiply_in_a_fixed_order():
    s = mc({"channel.vt_V": {"dist": "normal", "sigma": 0.05}}, runs=3,
           grid={"channel": {"temp_C": [27, 85]}},
           corners={"typical": {}, "slow": {"channel": {"mu_cm2Vs": 12}}})
    runs = plan_runs(s, BASE)
    assert len(runs) == 2 * 2 * 3
    assert [r.index for r in runs] == list(range(12))
    assert [(r.values["channel.temp_C"], r.corner, r.sample) for r in runs[:4]] == [
        (27, "typical", 0), (27, "typical", 1), (27, "typical", 2), (27, "slow", 0)]
    # every run carries every swept parameter, at its nominal value where nothing sets it
    assert all(set(r.values) == {"channel.temp_C", "channel.mu_cm2Vs", "channel.vt_V"}
               for r in runs)
    assert runs[0].values["channel.mu_cm2Vs"] == BASE.channel.mu_cm2Vs
    assert runs[3].values["channel.mu_cm2Vs"] == 12


def test_sampling_is_deterministic_and_local_to_run_and_parameter():
    vary = {"channel.vt_V": {"dist": "normal", "sigma": 0.05},
            "channel.mu_cm2Vs": {"dist": "lognormal", "sigma_ln": 0.1}}
    a = plan_runs(mc(vary, runs=40), BASE)
    assert a == plan_runs(mc(vary, runs=40), BASE)
    assert plan_runs(mc(vary, runs=10), BASE) == a[:10]  # more runs keep the first samples
    only_vt = plan_runs(mc({"channel.vt_V": vary["channel.vt_V"]}, runs=40), BASE)
    assert [r.values["channel.vt_V"] for r in only_vt] == [r.values["channel.vt_V"] for r in a]
    other_seed = plan_runs(mc(vary, runs=40, seed=8), BASE)
    assert all(x.values != y.values for x, y in zip(a, other_seed))


def test_corners_share_random_variates():
    s = mc({"channel.vt_V": {"dist": "normal", "sigma": 0.05}}, runs=20,
           corners={"low": {"channel": {"mu_cm2Vs": 10}}, "high": {"channel": {"mu_cm2Vs": 30}}})
    runs = plan_runs(s, BASE)
    low = [r.values["channel.vt_V"] for r in runs if r.corner == "low"]
    high = [r.values["channel.vt_V"] for r in runs if r.corner == "high"]
    assert low == high and len(set(low)) == 20


@pytest.mark.parametrize("dist, check", [
    ({"dist": "normal", "sigma_rel": 0.1},
     lambda x, nom: (abs(x.mean() / nom - 1) < 0.01, abs(x.std() / nom / 0.1 - 1) < 0.08)),
    ({"dist": "normal", "sigma": 2.0},
     lambda x, nom: (abs(x.mean() - nom) < 0.15, abs(x.std() / 2.0 - 1) < 0.08)),
    ({"dist": "lognormal", "sigma_ln": 0.2},
     lambda x, nom: (abs(np.median(x) / nom - 1) < 0.03, abs(np.log(x).std() / 0.2 - 1) < 0.08)),
    ({"dist": "uniform", "min": 10, "max": 30},
     lambda x, nom: (x.min() >= 10 and x.max() <= 30, abs(x.mean() - 20) < 0.5)),
])
def test_distributions_have_the_requested_statistics(dist, check):
    runs = plan_runs(mc({"channel.mu_cm2Vs": dist}, runs=2000), BASE)
    x = np.array([r.values["channel.mu_cm2Vs"] for r in runs])
    assert all(check(x, BASE.channel.mu_cm2Vs))


def test_distribution_draws_are_what_their_docstrings_say():
    class Fixed:  # a generator returning fixed variates
        def standard_normal(self):
            return 1.0

        def random(self):
            return 0.25
    assert Normal(0.1, relative=True).draw(-20.0, Fixed()) == pytest.approx(-18.0)
    assert Normal(0.5).draw(3.0, Fixed()) == 3.5
    assert LogNormal(0.2).draw(10.0, Fixed()) == pytest.approx(10 * math.exp(0.2))
    assert Uniform(10.0, 30.0).draw(0.0, Fixed()) == 15.0


def test_lognormal_of_a_non_positive_nominal_is_refused_when_planning():
    s = mc({"channel.vt_V": {"dist": "lognormal", "sigma_ln": 0.1}},
           corners={"neg": {"channel": {"vt_V": -0.5}}})
    with pytest.raises(ValidationError, match=r"s.toml: monte_carlo.vary.channel.vt_V: .*positive"):
        plan_runs(s, BASE)


def test_progress_reports_counts_failures_and_an_eta():
    out = io.StringIO()
    p = Progress("sweep x", total=6, resumed=3, stream=out, interval_s=0)
    p.update(failed=False)
    first = out.getvalue().splitlines()[-1]
    assert first.startswith("sweep x: 4/6 runs (67%, 3 resumed, 0 failed)") and "ETA" in first
    p.update(failed=True)
    p.update(failed=False)
    p.close()
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("sweep x: 6/6 runs (100%, 3 resumed, 1 failed)") and "ETA" not in last


@pytest.mark.parametrize("argv, problem", [
    (["--out", "t.txt"], "t.txt: the table must end in .csv or .parquet"),
    (["--workers", "0"], "--workers must be >= 1"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers sizes the local pool"),
    (["--scheduler", "127.0.0.1:8786"], "expected tcp://HOST:PORT"),
])
def test_cli_refuses_bad_arguments_before_running(tmp_path, monkeypatch, argv, problem):
    import argparse

    from spicefet.sweep.cli import add_subcommands
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(["sweep", str(EXAMPLE), *argv])
    with pytest.raises(ValidationError, match=re.escape(problem)):
        args.func(args)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_report_yield_counts_failures_and_nan_as_failing_and_fills_the_window_sigma(tmp_path):
    from spicefet.sweep.execute import Outcome
    from spicefet.sweep.report import section
    from spicefet.sweep.runner import SweepResult
    s = mc({"channel.vt_V": {"dist": "normal", "sigma": 0.05}}, runs=5,
           spec={"vth_V": {"min": 0.4}})
    windows = [1.0, 1.2, 0.8, 1.1]
    outcomes = [Outcome(f"k{i}", "ok", {"vth_V": vth, "memory_window_V": w})
                for i, (vth, w) in enumerate(zip([0.5, 0.3, math.nan, 0.6], windows))]
    outcomes.append(Outcome("k4", "failed", error="ConvergenceError: ..."))
    result = SweepResult(s, plan_runs(s, BASE), outcomes, executed=5, lost=0)
    assert result.passes() == [True, False, False, True, False]
    sec = section(result, tmp_path)
    sigma_V = pytest.approx(np.std(windows, ddof=1))
    assert sec.summary == {"sweep": {"runs": 5, "mc_runs": 5, "failed_runs": 1, "yield": 0.4,
                                     "memory_window_sigma_V": sigma_V}}
    assert (tmp_path / "sweep_channel_distributions.png").exists()
