"""In-situ learning on the simulated 8 x 3 array (paper Fig. 3; targets L1-L3, V1, V2).

`run` measures the T-gate pulse table through the array (ngspice), trains the 2-4-1 network
in situ (`spicefet.learn.insitu`), transfers the weights to the I gates with write-verify, ages
them 10 years at 85 C and classifies the 10,000 inference points through ngspice; the same
network trained in float64 software on the same data is reported alongside. `section` draws
the figures and writes the epoch log (``learning_epochs.csv``) and the ablation table.
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np

from ..engine import Engine
from ..learn import device as D
from ..learn import hardware as H
from ..learn import insitu as I
from ..learn.task import Task, Weights, accuracy, forward, software_baseline
from ..params import ParamSet, write_text_atomic
from ..report import Section, save_figure

HEATMAP_N = 25          # grid points per axis of a classification heatmap


@dataclass
class LearningResult:
    training: I.Training
    transfer: I.Transfer
    reversal: dict
    infer: dict[str, float]          # ablation row -> accuracy on the inference points
    outputs_aged: np.ndarray         # outputs for the inference points, I gates aged
    heatmaps: dict[int, np.ndarray]  # epoch -> outputs on the grid
    software: dict[str, float]       # float64 baseline accuracies
    software_weights: Weights
    infer_seconds: float

    def summary(self) -> dict:
        tr, log = self.training, self.training.log
        return {"learning": {
            "epochs_to_100pct_train": tr.epochs_to_100pct,
            "test_accuracy": log[-1].acc_test,
            "inference_accuracy_10k": self.infer["I-type, fresh"],
            "inference_accuracy_10k_aged": self.infer["I-type, aged 10 y 85 C"],
            "train_seconds": tr.seconds,
            "train_plus_inference_seconds": tr.seconds + self.infer_seconds,
            "software_baseline": self.software,
            "ablation": self.infer,
            "pulse_table": {"n": tr.table.n, "g_start_S": float(tr.table.g_S[0]),
                            "g_end_S": float(tr.table.g_S[-1]),
                            "mean_step_S": tr.table.mean_step_S},
            "reversal_undone_fraction": self.reversal["undone_fraction"],
            "transfer_max_rel_error": float(np.max(np.abs(
                self.transfer.written_S / self.transfer.target_S - 1))),
            "aging_decay": self.transfer.decay}}


def _grid() -> np.ndarray:
    g = np.linspace(-1, 1, HEATMAP_N)
    xx, yy = np.meshgrid(g, g)
    return np.column_stack([xx.ravel(), yy.ravel()])


def run(params: ParamSet, engine: Engine, task: Task | None = None,
        cfg: I.TrainConfig | None = None,
        progress: Callable[[str], None] | None = None) -> LearningResult:
    task, cfg = task or Task(), cfg or I.TrainConfig()
    say = progress or (lambda s: None)
    say("learning: T-gate pulse table through a 1 x 1 array (ngspice)")
    table = D.measure_table(params, engine)
    reversal = D.reversal_check(params, engine)
    tr = I.train(params, engine, task, cfg, table, progress=say)
    data = task.datasets()
    sw = software_baseline(H.encode(data["train"][0]), data["train"][1], seed=task.seed)
    software = {k: accuracy(forward(sw, H.encode(data[k][0]))[1], data[k][1])
                for k in ("train", "test", "infer")}
    t0 = time.perf_counter()
    xf = I.transfer(params, engine, tr)
    x, t = data["infer"]
    aged = I.classify(params, engine, xf.aged, tr, x, name="learn_aged")
    fresh = I.classify(params, engine, xf.written, tr, x, name="learn_fresh")
    infer_s = time.perf_counter() - t0
    say(f"learning: inference {infer_s:.0f} s; ablation rows")
    infer = {"T-type (trained state)": accuracy(
                 I.classify(params, engine, tr.state(), tr, x, name="learn_t").y, t),
             "I-type, fresh": accuracy(fresh.y, t),
             "I-type, aged 10 y 85 C": accuracy(aged.y, t),
             "I-type, aged, no read variation": accuracy(
                 I.classify(params, engine, xf.aged, tr, x, variation=False,
                            name="learn_novar").y, t),
             "I-type, aged, ideal wires": accuracy(
                 I.classify(params, engine, xf.aged, tr, x, parasitics=False,
                            name="learn_ideal").y, t)}
    grid = _grid()
    picks = sorted({0, tr.log[-1].epoch // 3, 2 * tr.log[-1].epoch // 3, tr.log[-1].epoch})
    heat = {}
    for snap in tr.snapshots:
        if snap.epoch in picks:
            heat[snap.epoch] = H.forward(params, engine, I.t_state(table, snap.k),
                                         I.wiring(params, cfg.parasitics), H.encode(grid),
                                         snap.b1, snap.b2, cfg.g_unit_S,
                                         name=f"learn_map{snap.epoch}").y
    return LearningResult(tr, xf, reversal, infer, aged.y, heat, software, sw, infer_s)


# ============================================================================ report
def epoch_csv(tr: I.Training) -> str:
    buf = io.StringIO()
    rows = [asdict(e) for e in tr.log]
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _plots(r: LearningResult, out: Path) -> list[str]:
    tr, log = r.training, r.training.log
    ep = [e.epoch for e in log]
    fig, (ac, aa) = plt.subplots(1, 2, figsize=(10, 3.8))
    ac.plot(ep, [e.cost_train for e in log], "o-", ms=3, label="train")
    ac.plot(ep, [e.cost_test for e in log], "s-", ms=3, label="test")
    ac.set_xlabel("epoch")
    ac.set_ylabel("cost (cross-entropy)")
    aa.plot(ep, [100 * e.acc_train for e in log], "o-", ms=3, label="train")
    aa.plot(ep, [100 * e.acc_test for e in log], "s-", ms=3, label="test")
    aa.set_xlabel("epoch")
    aa.set_ylabel("accuracy (%)")
    for a in (ac, aa):
        a.legend(fontsize=8)
    files = [save_figure(fig, out / "learning_curves.png")]

    data = tr.task.datasets()
    fig, axes = plt.subplots(1, len(r.heatmaps), figsize=(3.2 * len(r.heatmaps), 3.2))
    for ax, (epoch, y) in zip(np.atleast_1d(axes), sorted(r.heatmaps.items())):
        ax.imshow(y.reshape(HEATMAP_N, HEATMAP_N), origin="lower", extent=(-1, 1, -1, 1),
                  vmin=0, vmax=1, cmap="coolwarm")
        for key, edge in (("train", "w"), ("test", "k")):
            x, t = data[key]
            ax.scatter(x[:, 0], x[:, 1], c=t, cmap="coolwarm", vmin=0, vmax=1, s=9,
                       edgecolors=edge, linewidths=0.5)
        ax.set_title(f"epoch {epoch}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    files.append(save_figure(fig, out / "learning_heatmaps.png"))

    fig, (aw, ao) = plt.subplots(1, 2, figsize=(10, 3.6))
    before, after = tr.weights(tr.snapshots[0]), tr.weights()
    bins = np.linspace(min(before.flat().min(), after.flat().min()),
                       max(before.flat().max(), after.flat().max()), 25)
    aw.hist(before.flat(), bins=bins, alpha=0.6, label="before training")
    aw.hist(after.flat(), bins=bins, alpha=0.6, label="after training")
    aw.set_xlabel("weight and bias value")
    aw.set_ylabel("count")
    aw.legend(fontsize=8)
    ao.hist(r.outputs_aged, bins=50)
    ao.axvline(0.5, ls="--", c="k", lw=0.8)
    ao.set_yscale("log")
    ao.set_xlabel("network output (I-type, aged)")
    ao.set_ylabel(f"count of {len(r.outputs_aged)} points")
    files.append(save_figure(fig, out / "learning_weights_outputs.png"))
    return files


def section(params: ParamSet, engine: Engine, out_dir: Path) -> Section:
    r = run(params, engine, progress=print)
    tr, cfg, s = r.training, r.training.config, r.summary()["learning"]
    write_text_atomic(out_dir / "learning_epochs.csv", epoch_csv(tr))
    task = tr.task
    md = (f"Task: {task.region} of size {task.size:g} centred in [-1, 1]^2 with an empty band "
          f"{task.band:g} wide between the classes; {task.n_train} training, {task.n_test} test, "
          f"{task.n_infer} inference points (seed {task.seed}). Network 2-4-1, sigmoid, "
          "cross-entropy, on the 8 x 3 array (L1: in1/in2 -> 8 hidden nodes read by TIAs; L2: "
          "hidden nodes driven, one output line read twice for the pair's difference); biases "
          "digital in the periphery. Forward passes are batched ngspice `.dc` runs of the "
          "frozen-state array netlist with wire parasitics; backpropagation on the host (Adam, "
          f"lr {cfg.lr:g} weight units, batch {cfg.batch}); updates are identical T-gate "
          f"potentiation pulses ({tr.table.amplitude_V:g} V) on one cell of each pair "
          f"(dead zone 1/4 of the mean pulse step {s['pulse_table']['mean_step_S'] * 1e9:.2f} nS, "
          f"g_unit {cfg.g_unit_S * 1e6:g} uS per weight unit), the pulse response from a "
          f"{tr.table.n}-pulse ngspice table measured through a 1 x 1 array. Potentiation only: "
          f"one potentiation pulse after a depression run undoes "
          f"{100 * r.reversal['undone_fraction']:.0f} % of it in the full film model "
          "(return-point memory), so mixed up/down pulse trains would not follow any state table. "
          f"Variation (Methods Eq. 2-5): read sigma_w {cfg.sigma_w:g}, update sigma_u "
          f"{cfg.sigma_u:g} (relative, on) . Transfer: each I gate written to its T gate's "
          f"conductance with write-verify ({r.transfer.verify_rounds} rounds, acceptance "
          f"+-{100 * cfg.verify_tol:g} %), aged 10 years at 85 C with the retention model fitted "
          f"to SYNTHETIC data (log-distance to equilibrium shrinks by "
          f"{100 * r.transfer.decay:.1f} %). Epoch log: `learning_epochs.csv`.\n\n"
          "| inference on the 10,000 points | accuracy |\n|---|---|\n"
          + "".join(f"| {k} | {100 * v:.2f} % |\n" for k, v in r.infer.items())
          + f"| float64 software baseline (same data, L-BFGS) | {100 * r.software['infer']:.2f} % |\n"
          "\nThe ablation rows re-read the same trained weights; a training run without "
          "variation is `spicefet train --no-variation` (not repeated here to keep "
          "`make reproduce` short).\n\n"
          "Gap to the paper's 99.86 % (measured here, not tuned away): the trained network sits "
          "close to its decision boundaries (final training cost "
          f"{tr.log[-1].cost_train:.3f}); a fresh read-variation draw moves 5.6 % of every "
          "weight, the I gates' conductance differs from the T gates' at drain biases below "
          "V_read (their I-V curves differ), write-verify leaves up to 1 % of a cell's "
          "conductance (several weight units at g_unit) and aging shrinks every conductance "
          "while the digital biases stay, which shifts all boundaries.")
    ep = s["epochs_to_100pct_train"]
    rows = [("epochs to 100 % training accuracy", "not reached" if ep is None else str(ep),
             "17 (<= 30)"),
            ("test accuracy (90 points)", f"{100 * s['test_accuracy']:.2f} %", "-"),
            ("10,000 points, I-type fresh", f"{100 * s['inference_accuracy_10k']:.2f} %", "99.86 %"),
            ("10,000 points, I-type aged", f"{100 * s['inference_accuracy_10k_aged']:.2f} %",
             ">= 99.86 %"),
            ("software float64 baseline (10,000)", f"{100 * r.software['infer']:.2f} %", "-"),
            ("training / training + inference time",
             f"{s['train_seconds']:.0f} s / {s['train_plus_inference_seconds']:.0f} s", "< 300 s")]
    return Section("In-situ learning: 2-4-1 network on the 8 x 3 array (Fig. 3)", md,
                   _plots(r, out_dir), r.summary(), rows)
