"""In-situ learning (spicefet/learn): update rule, batched ngspice forward pass, short training,
determinism, transfer; real ngspice throughout."""
from __future__ import annotations

import json

import numpy as np
import pytest

from spicefet.cli import main as cli_main
from spicefet.errors import ValidationError
from spicefet.learn import device as D
from spicefet.learn import hardware as H
from spicefet.learn import insitu as I
from spicefet.learn.task import Task, Weights, forward, gradients
from spicefet.netlist import array as A

SMALL = Task(n_train=60, n_test=30, n_infer=200, seed=3)


@pytest.fixture(scope="module")
def table(params, engine):
    return D.measure_table(params, engine, n=48)


# ----------------------------------------------------------------------------- update rule
def test_dead_zone_and_pulse_counts():
    step = 1e-9
    n = D.pulse_counts(np.array([0.0, 0.24e-9, 0.26e-9, 0.6e-9, 1.4e-9, 3.6e-9, -2.2e-9, 1e-6]),
                       step, max_pulses=16)
    assert n.tolist() == [0, 0, 1, 1, 1, 4, 2, 16]


def test_pair_pulses_signs():
    plus, minus = D.pair_pulses(np.array([0.5, -0.5, 0.01]), g_unit_S=1e-8, mean_step_S=1e-9)
    assert plus.tolist() == [5, 0, 0] and minus.tolist() == [0, 5, 0]


def test_pulses_move_the_weight_the_way_asked(table):
    cfg = I.TrainConfig(g_unit_S=0.15e-6)
    k0 = np.full((8, 3), 20.0)
    dw = Weights(np.array([[0.3, -0.3]] * 4), np.zeros(4), np.array([0.3, -0.3, 0.0, 0.001]), 0.0)
    n, skipped = I.pulses_for(table, dw, cfg)
    k1 = D.apply_pulses(table, k0, n, 0.0, None)
    before = H.weights_from_g(table.g_at(k0), cfg.g_unit_S, np.zeros(4), 0.0)
    after = H.weights_from_g(table.g_at(k1), cfg.g_unit_S, np.zeros(4), 0.0)
    change = after.flat() - before.flat()
    assert np.all(np.sign(change[:8]) == np.sign(dw.w1.ravel()))
    assert change[12] > 0 and change[13] < 0 and change[14] == 0 and change[15] == 0
    assert skipped == 1                               # 0.001 is inside the dead zone
    assert np.all(k1 >= k0)                           # potentiation only


def test_table_is_monotonic_and_matches_frozen_reads(params, engine, table):
    assert np.all(np.diff(table.g_S) > 0)
    # a frozen read of the state after 30 pulses gives the transient's read conductance
    state = A.ArrayState({(0, 0): table.cell_state(30)})
    c = A.frozen_read(params, A.pseudo_crossbar(1, 1), state, A.Wiring.from_params(params.array),
                      {"in1": params.operation.read_vd_V})
    g = float(c.sense_current(engine.run(c.netlist), "out1")[0]) / params.operation.read_vd_V
    assert g == pytest.approx(table.g_S[30], rel=1e-3)


def test_potentiation_after_depression_returns_at_once(params, engine):
    r = D.reversal_check(params, engine, n=8)
    assert r["undone_fraction"] > 0.5


# ----------------------------------------------------------------------------- forward pass
def test_batched_forward_equals_per_sample_reads(params, engine, table):
    rng = np.random.default_rng(5)
    k = rng.uniform(5, 40, (8, 3))
    state = I.t_state(table, k)
    wiring = A.Wiring.from_params(params.array)
    u = rng.uniform(0, 1, (5, 2))
    v = params.operation.read_vd_V
    batched = H.forward(params, engine, state, wiring, u, np.zeros(4), 0.0, 0.15e-6)
    layout = A.paper_8x3()
    for i, (u1, u2) in enumerate(u):
        c = A.frozen_read(params, layout, state, wiring, {"in1": u1 * v, "in2": u2 * v},
                          sense=H.HIDDEN, name=f"single{i}", options=H.READ_OPTIONS)
        res = engine.run(c.netlist)
        single = np.array([c.sense_current(res, h)[0] for h in H.HIDDEN])
        np.testing.assert_allclose(batched.i_hidden_A[i], single, rtol=1e-6)


def test_forward_matches_the_ideal_network_without_parasitics(params, engine, table):
    rng = np.random.default_rng(6)
    k = rng.uniform(5, 40, (8, 3))
    b1, b2, gu = rng.normal(0, 1, 4), 0.3, 0.15e-6
    u = rng.uniform(0, 1, (40, 2))
    p = H.forward(params, engine, I.t_state(table, k), A.Wiring.from_params(params.array, False),
                  u, b1, b2, gu)
    a, y = forward(H.weights_from_g(table.g_at(k), gu, b1, b2), u)
    # channel nonlinearity below V_read is the only difference: a few % of a weight unit
    assert np.max(np.abs(p.a - a)) < 0.05 and np.max(np.abs(p.y - y)) < 0.05


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    w = Weights(rng.normal(size=(4, 2)), rng.normal(size=4), rng.normal(size=4), 0.2)
    x, t = rng.uniform(0, 1, (20, 2)), (rng.uniform(size=20) > 0.5).astype(float)
    from spicefet.learn.task import cost
    a, y = forward(w, x)
    g = gradients(w.w2, x, a, y, t).flat()
    v = w.flat()
    for i in (0, 5, 9, 13, 16):
        e = np.zeros_like(v)
        e[i] = 1e-6
        num = (cost(forward(Weights.of(v + e), x)[1], t)
               - cost(forward(Weights.of(v - e), x)[1], t)) / 2e-6
        assert g[i] == pytest.approx(num, rel=1e-4, abs=1e-8)


# ----------------------------------------------------------------------------- training
def test_short_training_through_ngspice_improves(params, engine, table):
    cfg = I.TrainConfig(epochs=4, stop_at_100=False, seed=1)
    tr = I.train(params, engine, SMALL, cfg, table)
    first, last = tr.log[0], tr.log[-1]
    assert last.cost_train < first.cost_train - 0.1
    assert last.acc_train > first.acc_train + 0.05
    assert sum(e.pulses for e in tr.log) > 0


def test_variation_off_is_deterministic_and_on_is_seeded(params, engine, table):
    runs = [I.train(params, engine, SMALL, I.TrainConfig(epochs=1, stop_at_100=False,
                                                         variation=var, seed=s), table)
            for var, s in ((False, 1), (False, 1), (True, 1), (True, 2))]
    np.testing.assert_array_equal(runs[0].final.k, runs[1].final.k)
    assert runs[0].log[-1].cost_train == runs[1].log[-1].cost_train
    assert not np.array_equal(runs[2].final.k, runs[3].final.k)


def test_transfer_writes_i_gates_within_tolerance(params, engine, table):
    tr = I.Training(SMALL, I.TrainConfig(), table, [],
                    [I.Snapshot(0, np.random.default_rng(0).uniform(5, 40, (8, 3)),
                                np.zeros(4), 0.0)], 0.0)
    xf = I.transfer(params, engine, tr)
    assert np.max(np.abs(xf.written_S / xf.target_S - 1)) <= tr.config.verify_tol + 2e-3
    assert np.all(xf.aged_S < xf.written_S)           # aging drifts toward the low state
    y = I.classify(params, engine, xf.written, tr, SMALL.datasets()["infer"][0]).y
    assert np.all((y > 0) & (y < 1))


# ----------------------------------------------------------------------------- inputs
def test_task_and_config_validation():
    with pytest.raises(ValidationError, match="region"):
        Task(region="triangle")
    with pytest.raises(ValidationError, match="n_train"):
        Task(n_train=0)
    with pytest.raises(ValidationError, match="sigma_w"):
        I.TrainConfig(sigma_w=-0.1)
    x, t = Task().datasets()["train"]
    assert len(x) == 210 and 0 < t.mean() < 1
    r = np.hypot(*x.T)
    assert np.all((r < 0.5) | (r > 0.7))             # the empty band is empty


def test_infer_rejects_a_bad_model_file(tmp_path, capsys):
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps({"task": {}, "config": {}}))
    out = tmp_path / "out.csv"
    assert cli_main(["infer", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model.json" in err[0]
    assert not out.exists()
