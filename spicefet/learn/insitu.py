"""In-situ training of the 2-4-1 network on the simulated 8 x 3 array, transfer of the trained
weights to the I-type gates, retention aging and inference (paper Fig. 3; targets L1-L3, V1, V2).

Loop (per mini-batch): forward pass through ngspice on the array's frozen-state netlist
(`hardware.forward`, read variation drawn per pass) -> backpropagation on the host from the
measured activations (`task.gradients`) -> SGD step ``dW = -lr*grad`` turned into identical
T-gate potentiation pulses per cell (`device.pair_pulses`: quarter-pulse dead zone, update
variation) -> new frozen states from the ngspice-measured pulse table. Biases are digital
(periphery) and take the plain SGD step. After each epoch the train and test sets are
classified through ngspice (one pass) and logged; training stops at the first epoch with 100 %
training accuracy (as the paper's run did at epoch 17) or after `epochs`.

Transfer (paper Methods: reset T, switch to the I word line, program I with write-verify): each
I gate is written to its own T gate's trained conductance (the pair keeps its common-mode
current, so the wire IR drop that training absorbed is unchanged; writing only the difference on
one cell, the other erased, changes the line currents and measured worse), T gates reset
(parked off). Write-verify: the I
state is set from the target, read through ngspice (each cell alone) and corrected
(`VERIFY_ROUNDS` secant steps in log G); the accepted state then carries a residual uniform in
``+-verify_tol`` (the acceptance window, seeded). Aging: the retention model fitted to
``fits/data/retention_synthetic.csv`` (SYNTHETIC data, `spicefet.fit.retention`) moves log10 G
of every I gate toward the fit's equilibrium level for 10 years at 85 C.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..engine import Engine
from ..errors import ValidationError
from ..fit import retention as R
from ..netlist import array as A
from ..params import ParamSet
from . import device as D
from . import hardware as H
from .task import Task, Weights, accuracy, cost, gradients

RETENTION_DATA = Path(__file__).resolve().parents[2] / "fits" / "data" / "retention_synthetic.csv"
VERIFY_ROUNDS = 3
AGE_S = R.TEN_YEARS_S
AGE_TEMP_C = 85.0


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30               # maximum epochs
    batch: int = 10                # mini-batch size
    lr: float = 0.12               # Adam step (weight units)
    optimizer: str = "adam"        # "adam" or "sgd" (then lr multiplies the gradient)
    g_unit_S: float = 0.15e-6      # conductance of one weight unit
    sigma_w: float = 0.056         # read variation (Eq. 2-3), relative
    sigma_u: float = 0.043         # update variation (Eq. 4-5), relative
    variation: bool = True
    parasitics: bool = True
    k_base: float = 16.0           # pulses every cell gets before the initial weights
    init_w: float = 4.0            # spread of the initial L1 weights (L2: 1)
    k_refresh: float = 192.0       # refresh a pair once both cells passed this many pulses
    verify_tol: float = 0.01       # write-verify acceptance window (relative)
    seed: int = 0
    stop_at_100: bool = True

    def __post_init__(self) -> None:
        checks = (("epochs", 1, 1000), ("batch", 1, 100000))
        for name, lo, hi in checks:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValidationError(f"{name} = {v!r} must be an integer in {lo}..{hi}")
        for name in ("lr", "g_unit_S", "init_w"):
            if not getattr(self, name) > 0:
                raise ValidationError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("sigma_w", "sigma_u", "verify_tol"):
            if not 0 <= getattr(self, name) < 1:
                raise ValidationError(f"{name} must lie in [0, 1), got {getattr(self, name)!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValidationError(f"optimizer {self.optimizer!r}; use 'adam' or 'sgd'")
        if not 0 <= self.k_base <= 64:
            raise ValidationError(f"k_base must lie in [0, 64], got {self.k_base!r}")


class Adam:
    """Host-side Adam (beta 0.9 / 0.999): the step it returns is what the pulses realise."""
    def __init__(self, lr: float):
        self.lr, self.m, self.v, self.t = lr, 0.0, 0.0, 0

    def step(self, g: np.ndarray) -> np.ndarray:
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * g
        self.v = 0.999 * self.v + 0.001 * g * g
        mh, vh = self.m / (1 - 0.9 ** self.t), self.v / (1 - 0.999 ** self.t)
        return -self.lr * mh / (np.sqrt(vh) + 1e-8)


@dataclass
class EpochLog:
    epoch: int
    cost_train: float
    acc_train: float
    cost_test: float
    acc_test: float
    pulses: int            # identical pulses applied during the epoch
    updates_skipped: int   # weight updates inside the dead zone
    refreshes: int         # pairs reset and rewritten (`refresh`)
    seconds: float


@dataclass
class Snapshot:
    """Cell pulse indices and biases at an epoch (for heatmaps and histograms)."""
    epoch: int
    k: np.ndarray
    b1: np.ndarray
    b2: float


@dataclass
class Training:
    task: Task
    config: TrainConfig
    table: D.PulseTable
    log: list[EpochLog]
    snapshots: list[Snapshot]
    seconds: float

    @property
    def final(self) -> Snapshot:
        return self.snapshots[-1]

    @property
    def epochs_to_100pct(self) -> int | None:
        for e in self.log:
            if e.acc_train >= 1.0:
                return e.epoch
        return None

    def weights(self, snap: Snapshot | None = None) -> Weights:
        s = snap or self.final
        return H.weights_from_g(self.table.g_at(s.k), self.config.g_unit_S, s.b1, s.b2)

    def state(self, snap: Snapshot | None = None) -> A.ArrayState:
        return t_state(self.table, (snap or self.final).k)


def t_state(table: D.PulseTable, k: np.ndarray) -> A.ArrayState:
    return A.ArrayState({c: table.cell_state(float(k[c])) for c in A.paper_8x3().cells()})


def wiring(params: ParamSet, parasitics: bool) -> A.Wiring:
    return A.Wiring.from_params(params.array, parasitics=parasitics)


def pulses_for(table: D.PulseTable, dw: Weights, cfg: TrainConfig,
               max_pulses: int = D.MAX_PULSES) -> tuple[np.ndarray, int]:
    """Pulses per cell (8, 3) realising weight change `dw` (potentiation only, dead zone);
    also the number of non-zero weight changes that fell inside the dead zone."""
    n = np.zeros((8, 3), int)
    skipped = 0
    for plus, minus, idx in H.pairs():
        d = dw.w1[idx[1], idx[2]] if idx[0] == "w1" else dw.w2[idx[1]]
        p, m = D.pair_pulses(np.array([d]), cfg.g_unit_S, table.mean_step_S,
                             max_pulses=max_pulses)
        n[plus] += int(p[0])
        n[minus] += int(m[0])
        skipped += int(p[0] + m[0] == 0 and d != 0)
    return n, skipped


def refresh(table: D.PulseTable, k: np.ndarray, cfg: TrainConfig,
            rng: np.random.Generator | None) -> tuple[np.ndarray, int]:
    """Pairs whose cells both passed `k_refresh` pulses (potentiation-only updates climb the
    table, where a pulse moves G less and the range runs out) are reset (T reset, as before the
    transfer) to `k_base` pulses and their difference written back with identical pulses on
    one cell, without verify (pulse count from the table, update variation applies).
    Returns (new k, number of pairs refreshed)."""
    k = k.copy()
    done = 0
    for plus, minus, _ in H.pairs():
        if min(k[plus], k[minus]) < cfg.k_refresh:
            continue
        dg = float(table.g_at(k[plus]) - table.g_at(k[minus]))
        hi, lo = (plus, minus) if dg > 0 else (minus, plus)
        base = np.array([cfg.k_base])
        target = table.k_at(table.g_at(cfg.k_base) + abs(dg))
        n = np.array([int(round(float(target - cfg.k_base)))])
        k[hi] = D.apply_pulses(table, base, n, cfg.sigma_u if cfg.variation else 0.0, rng)[0]
        k[lo] = cfg.k_base
        done += 1
    return k, done


def initial_state(table: D.PulseTable, cfg: TrainConfig,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """Initial pulse indices and biases: every cell gets `k_base` pulses, then random weights
    (L1 ~ N(0, init_w^2), L2 ~ N(0, 1)) are written as identical pulses without verify; hidden
    biases place each neuron's boundary through a random point near the input square's centre
    (b1 = -w1 . c, c ~ U(0.25, 0.75)^2: a data-dependent start that plain random biases lack)."""
    w1 = rng.normal(0.0, cfg.init_w, (4, 2))
    c = rng.uniform(0.25, 0.75, (4, 2))
    w2 = rng.normal(0.0, 1.0, 4)
    n, _ = pulses_for(table, Weights(w1, np.zeros(4), w2, 0.0), cfg, max_pulses=table.n)
    k = D.apply_pulses(table, np.full((8, 3), cfg.k_base), n, 0.0, None)
    return k, -(w1 * c).sum(axis=1), 0.0


Forward = Callable[..., H.Pass]


def train(params: ParamSet, engine: Engine, task: Task, cfg: TrainConfig,
          table: D.PulseTable, progress: Callable[[str], None] | None = None,
          forward: Forward = H.forward) -> Training:
    """In-situ training (module docstring). `forward`: the forward pass, `hardware.forward`
    (ngspice) unless a study swaps in another with the same signature."""
    data = task.datasets()
    (x_tr, t_tr), (x_te, t_te) = data["train"], data["test"]
    u_tr, u_te = H.encode(x_tr), H.encode(x_te)
    u_eval, t_eval = np.vstack([u_tr, u_te]), np.concatenate([t_tr, t_te])
    rng = np.random.default_rng([cfg.seed, 0x7EA1])
    noise = np.random.default_rng([cfg.seed, 0x0015E]) if cfg.variation else None
    sigma_w = cfg.sigma_w if cfg.variation else 0.0
    w_net = wiring(params, cfg.parasitics)
    k, b1, b2 = initial_state(table, cfg, rng)
    opt = Adam(cfg.lr) if cfg.optimizer == "adam" else None
    log, snaps = [], [Snapshot(0, k.copy(), b1.copy(), b2)]
    start = time.perf_counter()

    def evaluate(epoch: int, pulses: int, skipped: int, refreshed: int, t0: float) -> EpochLog:
        ps = forward(params, engine, t_state(table, k), w_net, u_eval, b1, b2, cfg.g_unit_S,
                       H.read_gains(sigma_w, noise), name=f"learn_eval{epoch}")
        n = len(t_tr)
        e = EpochLog(epoch, cost(ps.y[:n], t_tr), accuracy(ps.y[:n], t_tr),
                     cost(ps.y[n:], t_te), accuracy(ps.y[n:], t_te), pulses, skipped,
                     refreshed, time.perf_counter() - t0)
        if progress:
            progress(f"epoch {epoch:3d}: cost {e.cost_train:.4f} / {e.cost_test:.4f}, "
                     f"accuracy {100 * e.acc_train:.2f} % / {100 * e.acc_test:.2f} % "
                     f"(train / test), {pulses} pulses, {e.seconds:.1f} s")
        return e

    log.append(evaluate(0, 0, 0, 0, start))
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(len(u_tr))
        pulses = skipped = refreshed = 0
        for i in range(0, len(order), cfg.batch):
            idx = order[i:i + cfg.batch]
            ps = forward(params, engine, t_state(table, k), w_net, u_tr[idx], b1, b2,
                           cfg.g_unit_S, H.read_gains(sigma_w, noise), name="learn_batch")
            w = H.weights_from_g(table.g_at(k), cfg.g_unit_S, b1, b2)
            g = gradients(w.w2, u_tr[idx], ps.a, ps.y, t_tr[idx]).flat()
            step = Weights.of(opt.step(g) if opt else -cfg.lr * g)
            n, s = pulses_for(table, step, cfg)
            k = D.apply_pulses(table, k, n, cfg.sigma_u if cfg.variation else 0.0, noise)
            k, r = refresh(table, k, cfg, noise)
            pulses, skipped, refreshed = pulses + int(n.sum()), skipped + s, refreshed + r
            b1, b2 = b1 + step.b1, b2 + step.b2
        log.append(evaluate(epoch, pulses, skipped, refreshed, t0))
        snaps.append(Snapshot(epoch, k.copy(), b1.copy(), b2))
        if cfg.stop_at_100 and log[-1].acc_train >= 1.0:
            break
    return Training(task, cfg, table, log, snaps, time.perf_counter() - start)


# ============================================================================ transfer, aging
@dataclass
class Transfer:
    """I-gate conductances (8, 3): the targets from the trained T pairs, what write-verify left
    (`written_S`, read through ngspice), and after aging (`aged_S`)."""
    target_S: np.ndarray
    written_S: np.ndarray
    aged_S: np.ndarray
    verify_rounds: int
    retention: dict[str, float]
    decay: float           # fraction of the log-distance to equilibrium lost while aging
    written: A.ArrayState  # frozen states after write-verify
    aged: A.ArrayState     # frozen states after aging


def retention_model() -> dict[str, float]:
    """nu_ref, Ea, y_eq of the retention model fitted to the shipped (SYNTHETIC) data."""
    from ..fit.csvio import read_csv
    fit = R.fit_retention(read_csv(RETENTION_DATA, "retention"))
    return {k: float(v) for k, v in fit.values.items() if k in R.MODEL_NAMES}


def _i_state(params: ParamSet, g_S: np.ndarray) -> A.ArrayState:
    """I gates at conductances `g_S` (0 = erased), T gates parked off."""
    pm = np.where(g_S > 0, A.pm_for_conductance(params, np.maximum(g_S, 1e-30)), -1.0)
    return A.nominal_state(params, A.paper_8x3(), np.clip(pm, -1.0, 1.0))


def _read_alone(params: ParamSet, engine: Engine, state: A.ArrayState) -> np.ndarray:
    """Every cell's conductance, read alone at V_read through ngspice (the verify read)."""
    layout = A.paper_8x3()
    v = params.operation.read_vd_V
    res = engine.run(A.isolated_cells(params, layout, state, {c: v for c in layout.cells()},
                                      name="learn_verify"))
    g = np.zeros((8, 3))
    for (r, c) in layout.cells():
        g[r, c] = float(res[f"i(v_src{r}_{c})"][0]) / v
    return g


def transfer(params: ParamSet, engine: Engine, training: Training,
             seed: int | None = None) -> Transfer:  # noqa: C901 (one linear procedure)
    """T -> I transfer with write-verify, then 10 years at 85 C (module docstring)."""
    cfg = training.config
    rng = np.random.default_rng([cfg.seed if seed is None else seed, 0x7F])
    # each I gate takes its own T gate's conductance: the pair's common-mode current, and with
    # it the IR drop the in-situ training absorbed, stays what it was in training
    target = training.table.g_at(training.final.k)
    accepted = target * (1.0 + rng.uniform(-cfg.verify_tol, cfg.verify_tol, target.shape))
    request, on = accepted.copy(), accepted > 0
    rounds = 0
    for rounds in range(1, VERIFY_ROUNDS + 1):
        written_state = _i_state(params, request)
        written = _read_alone(params, engine, written_state)
        err = np.abs(written[on] / accepted[on] - 1.0)
        if err.size == 0 or err.max() < 1e-3:
            break
        request[on] *= accepted[on] / written[on]       # secant step, log G is ~linear in P
    ret = retention_model()
    decay = float(R.drift_rate(AGE_TEMP_C, ret["nu_ref_per_dec"], ret["ea_eV"])
                  * np.log10(1.0 + AGE_S / R.TAU0_S))
    aged_req = np.where(on, 10 ** (ret["y_eq_log10"] + (np.log10(np.maximum(request, 1e-30))
                                                        - ret["y_eq_log10"]) * (1 - decay)), 0.0)
    aged_state = _i_state(params, aged_req)
    aged = _read_alone(params, engine, aged_state)
    return Transfer(target, np.where(on, written, 0.0), np.where(on, aged, 0.0), rounds, ret,
                    decay, written_state, aged_state)


def classify(params: ParamSet, engine: Engine, state: A.ArrayState, training: Training,
             x: np.ndarray, variation: bool = True, parasitics: bool | None = None,
             seed: int = 1, name: str = "learn_infer") -> H.Pass:
    """Forward pass of task points `x` (n, 2) in [-1, 1] on frozen `state` with the trained
    biases; read variation drawn once for the pass (seeded) unless `variation` is False."""
    cfg = training.config
    par = cfg.parasitics if parasitics is None else parasitics
    rng = np.random.default_rng([seed, 0x1F]) if variation and cfg.variation else None
    return H.forward(params, engine, state, wiring(params, par), H.encode(x), training.final.b1,
                     training.final.b2, cfg.g_unit_S, H.read_gains(cfg.sigma_w, rng), name=name)
