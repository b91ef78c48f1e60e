"""The 2-4-1 network on the paper's 8 x 3 array (targets A2, L2, V1) and its forward pass
through ngspice.

Mapping (`spicefet.netlist.array.paper_8x3`): weight ``w1[h, j]`` (hidden neuron h = 0..3, input
j = 0, 1) is the pair of cells (rows 2h, 2h+1; column j): ``w1 = (G[2h, j] - G[2h+1, j]) / g_unit``;
``w2[h]`` is the pair (rows 2h, 2h+1; column 2). Two 7-bit cells per weight give the paper's
8-bit signed weight. One forward pass is two batched reads of the array:

* **L1 phase**: ``in1 = u1*V_read``, ``in2 = u2*V_read`` with ``u = (x + 1)/2`` in [0, 1]
  (`encode`; the network's inputs); the 8 hidden nodes are read by
  transimpedance amplifiers; neuron h's pre-activation is ``(I(h_2h+1) - I(h_2h+2)) /
  (V_read*g_unit) + b1[h]``.
* **L2 phase**: two reads of ``out``: the plus rows' hidden nodes driven with ``a_h*V_read``
  (minus rows at 0 V), then the minus rows'; ``z = (I+ - I-)/(V_read*g_unit) + b2``,
  ``y = sigmoid(z)``.

Drain voltages never go negative. The gate of an MFMIS FeFET is referenced to ground, so a
reversed drain bias (-V on the drain, source at virtual ground) raises the effective gate
drive by V: in the near-threshold read regime that changes the conductance by tens of percent,
which a +/- encoding (``-a_h*V_read`` on the minus rows, as `array.l2_drives` does for the MAC
study) would fold into the weights.

The activation and the biases are computed between the phases by the host, as the paper's
setup does (a PC drives the probe card through the switch matrix and "defined ... the flow of
ANN training"): the hidden nodes are read in L1 and driven in L2, so one netlist cannot hold
the neuron between them, and the array has no bias line (2 input lines, 1 output line; the
paper's counts). The biases are digital periphery parameters, trained by the same
backpropagation.

Batching: every phase is one ngspice run per chunk of up to ``CHUNK`` input vectors — a `.dc`
sweep of the index source of `array.Batch` drives (each point an exact operating point), chunks
in parallel through `Engine.run_many`.

Read variation (Methods Eq. 2-3): ``W_noisy = W + W*N(0, sigma_w^2)`` per weight and read
operation: both cells of a pair get the channel-current factor ``1 + eps`` (one draw per pair
per forward pass, `read_gains`). The paper quotes sigma_w = 0.056 "uS" for a multiplicative
noise; we read it as the dimensionless 0.056 that Eq. 2 needs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import Engine
from ..netlist import array as A
from ..params import ParamSet
from .task import Weights, sigmoid

CHUNK = 500
# tight solver tolerances: a batched .dc point and a fresh .op agree to ~1e-9 relative
READ_OPTIONS = {"reltol": 1e-7, "abstol": 1e-16, "vntol": 1e-10}
HIDDEN = tuple(f"h{r + 1}" for r in range(8))


def pairs() -> list[tuple[A.Cell, A.Cell, tuple]]:
    """(plus cell, minus cell, weight index) of the 12 weights: ("w1", h, j) or ("w2", h)."""
    out = []
    for h in range(4):
        for j in range(2):
            out.append(((2 * h, j), (2 * h + 1, j), ("w1", h, j)))
        out.append(((2 * h, 2), (2 * h + 1, 2), ("w2", h)))
    return out


def weights_from_g(g_S: np.ndarray, g_unit_S: float, b1: np.ndarray, b2: float) -> Weights:
    """Network weights of cell conductances `g_S` (8, 3)."""
    w1, w2 = np.zeros((4, 2)), np.zeros(4)
    for (rp, cp), (rm, cm), idx in pairs():
        w = (g_S[rp, cp] - g_S[rm, cm]) / g_unit_S
        if idx[0] == "w1":
            w1[idx[1], idx[2]] = w
        else:
            w2[idx[1]] = w
    return Weights(w1, np.asarray(b1, dtype=float).copy(), w2, float(b2))


def read_gains(sigma_w: float, rng: np.random.Generator | None) -> dict[A.Cell, float] | None:
    """Channel-current factors of one read operation: 1 + N(0, sigma_w^2) per weight pair."""
    if sigma_w <= 0 or rng is None:
        return None
    gains = {}
    for plus, minus, _ in pairs():
        gains[plus] = gains[minus] = 1.0 + sigma_w * float(rng.standard_normal())
    return gains


@dataclass
class Pass:
    """One forward pass: hidden-node currents (n, 8) and output currents (n,) in A, hidden
    activations (n, 4), outputs (n,)."""
    i_hidden_A: np.ndarray
    i_out_A: np.ndarray
    a: np.ndarray
    y: np.ndarray


def encode(x: np.ndarray) -> np.ndarray:
    """Network inputs: task coordinates in [-1, 1] mapped to [0, 1] (drain voltage / V_read)."""
    return (np.asarray(x, dtype=float) + 1.0) / 2.0


def _chunks(n: int) -> list[slice]:
    return [slice(i, min(i + CHUNK, n)) for i in range(0, n, CHUNK)]


def forward(params: ParamSet, engine: Engine, state: A.ArrayState, wiring: A.Wiring,
            x: np.ndarray, b1: np.ndarray, b2: float, g_unit_S: float,
            gains: dict[A.Cell, float] | None = None, name: str = "learn") -> Pass:
    """Forward pass of network inputs `x` (n, 2) in [0, 1] through ngspice (module doc)."""
    layout = A.paper_8x3()
    v = params.operation.read_vd_V
    scale = v * g_unit_S
    x = np.asarray(x, dtype=float)
    parts = _chunks(len(x))
    l1 = [A.frozen_read(params, layout, state, wiring,
                        {"in1": A.Batch(tuple(x[s, 0] * v)), "in2": A.Batch(tuple(x[s, 1] * v))},
                        sense=HIDDEN, analysis=A.batch_sweep(s.stop - s.start),
                        name=f"{name}_l1_{k}", gains=gains, options=READ_OPTIONS)
          for k, s in enumerate(parts)]
    res = engine.run_many([c.netlist for c in l1])
    i_h = np.vstack([np.column_stack([c.sense_current(r, h) for h in HIDDEN])
                     for c, r in zip(l1, res)])
    a = sigmoid((i_h[:, 0::2] - i_h[:, 1::2]) / scale + b1)
    l2 = []
    for k, s in enumerate(parts):
        # the pair's difference from two reads of the one output line: plus rows driven
        # (points 0..n-1), then minus rows (points n..2n-1); drains never go negative
        n_s = s.stop - s.start
        drives = {}
        for h in range(4):
            drv = a[s, h] * v
            drives[HIDDEN[2 * h]] = A.Batch(tuple(np.concatenate([drv, np.zeros(n_s)])))
            drives[HIDDEN[2 * h + 1]] = A.Batch(tuple(np.concatenate([np.zeros(n_s), drv])))
        l2.append(A.frozen_read(params, layout, state, wiring, drives,
                                analysis=A.batch_sweep(2 * n_s), name=f"{name}_l2_{k}",
                                gains=gains, options=READ_OPTIONS))
    res = engine.run_many([c.netlist for c in l2])
    i_out = []
    for c, r in zip(l2, res):
        i = c.sense_current(r, "out")
        i_out.append(i[:len(i) // 2] - i[len(i) // 2:])
    i_out = np.concatenate(i_out)
    return Pass(i_h, i_out, a, sigmoid(i_out / scale + b2))
