"""The 2D localization task (paper Fig. 3b; targets L1) and the float64 software baseline.

Points are drawn uniformly in the square [-1, 1]^2 and labelled inside (1) or outside (0) a
region; points within an empty band of width ``band`` around the region's edge are redrawn. The
paper's data are not published; its output histogram (outputs near 0.9 and 0) and 99.86 %
suggest separated classes. Default: a disk of radius 0.6 centred in the square with a 0.2-wide
empty band (inside: r < 0.5, outside: r > 0.7), 210 training, 90 test and 10,000 inference
points, seed 0. Regions: ``disk`` (radius ``size``) and ``square`` (half-width ``size``).

The baseline is the same 2-4-1 sigmoid network trained in float64 software on the same data
(cross-entropy, L-BFGS from several seeded starts), reported next to the in-situ result.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from ..errors import ValidationError

REGIONS = ("disk", "square")


@dataclass(frozen=True)
class Task:
    region: str = "disk"
    size: float = 0.6
    band: float = 0.2
    n_train: int = 210
    n_test: int = 90
    n_infer: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ValidationError(f"region {self.region!r}; regions: {', '.join(REGIONS)}")
        if not (0.05 <= self.size <= 0.95):
            raise ValidationError(f"region size {self.size!r} must lie in [0.05, 0.95]")
        if not (0.0 <= self.band <= 0.5) or self.size - self.band / 2 <= 0:
            raise ValidationError(f"band {self.band!r} must lie in [0, 0.5] and below 2*size")
        for name in ("n_train", "n_test", "n_infer"):
            v = getattr(self, name)
            if not isinstance(v, int) or not 1 <= v <= 1_000_000:
                raise ValidationError(f"{name} = {v!r} must be an integer in 1..1000000")

    def distance(self, x: np.ndarray) -> np.ndarray:
        """Signed distance-like measure to the region's edge (negative inside)."""
        if self.region == "disk":
            return np.hypot(x[:, 0], x[:, 1]) - self.size
        return np.max(np.abs(x), axis=1) - self.size

    def label(self, x: np.ndarray) -> np.ndarray:
        return (self.distance(x) < 0).astype(float)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty((0, 2))
        while len(out) < n:
            x = rng.uniform(-1.0, 1.0, (2 * n + 16, 2))
            out = np.vstack([out, x[np.abs(self.distance(x)) >= self.band / 2]])
        x = out[:n]
        return x, self.label(x)

    def datasets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{"train", "test", "infer"}: (points (n, 2), labels (n,)), reproducible from `seed`."""
        rng = np.random.default_rng([self.seed, 0x10CA1])
        return {"train": self.sample(self.n_train, rng), "test": self.sample(self.n_test, rng),
                "infer": self.sample(self.n_infer, rng)}


# ============================================================================ the network
def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z)))


def cost(y: np.ndarray, t: np.ndarray) -> float:
    """Mean binary cross-entropy."""
    y = np.clip(y, 1e-12, 1 - 1e-12)
    return float(-np.mean(t * np.log(y) + (1 - t) * np.log(1 - y)))


def accuracy(y: np.ndarray, t: np.ndarray) -> float:
    """Fraction classified right with the paper's threshold (output >= 0.5 -> inside)."""
    return float(np.mean((np.asarray(y) >= 0.5) == (np.asarray(t) >= 0.5)))


@dataclass
class Weights:
    """2-4-1 network: ``a = sigmoid(x @ w1.T + b1)``, ``y = sigmoid(a @ w2 + b2)``."""
    w1: np.ndarray   # (4, 2)
    b1: np.ndarray   # (4,)
    w2: np.ndarray   # (4,)
    b2: float

    def flat(self) -> np.ndarray:
        return np.concatenate([self.w1.ravel(), self.b1, self.w2, [self.b2]])

    @classmethod
    def of(cls, v: np.ndarray) -> "Weights":
        return cls(v[:8].reshape(4, 2).copy(), v[8:12].copy(), v[12:16].copy(), float(v[16]))


def forward(w: Weights, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hidden activations (n, 4), outputs (n,)) in float64."""
    a = sigmoid(x @ w.w1.T + w.b1)
    return a, sigmoid(a @ w.w2 + w.b2)


def gradients(w2: np.ndarray, x: np.ndarray, a: np.ndarray, y: np.ndarray,
              t: np.ndarray) -> Weights:
    """Gradients of the mean cross-entropy from a forward pass's activations `a` and outputs
    `y` (measured in hardware or computed in software): the one backpropagation both use."""
    n = len(t)
    dz2 = (y - t) / n
    dz1 = np.outer(dz2, w2) * a * (1 - a)
    return Weights(dz1.T @ x, dz1.sum(axis=0), a.T @ dz2, float(dz2.sum()))


def software_baseline(x: np.ndarray, t: np.ndarray, restarts: int = 10,
                      seed: int = 0) -> Weights:
    """The same network trained in float64 software (L-BFGS, best of `restarts` starts)."""
    def f(v):
        w = Weights.of(v)
        a, y = forward(w, x)
        return cost(y, t), gradients(w.w2, x, a, y, t).flat()

    rng = np.random.default_rng(seed)
    best = None
    for _ in range(restarts):
        r = minimize(f, rng.normal(0.0, 2.0, 17), jac=True, method="L-BFGS-B",
                     options={"maxiter": 3000})
        if best is None or r.fun < best.fun:
            best = r
    return Weights.of(best.x)
