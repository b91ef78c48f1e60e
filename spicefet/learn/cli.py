"""``spicefet train`` and ``spicefet infer``.

``spicefet train [--epochs N] [--region disk|square] [--size S] [--band B] [--seed S]
[--no-variation] [--no-parasitics] [--params FILE] --out DIR`` trains the 2-4-1 network in situ
on the simulated 8 x 3 array and writes ``DIR/model.json`` (task, configuration, pulse table,
trained cell states and biases) and ``DIR/epochs.csv`` (one row per epoch).

``spicefet infer DIR/model.json [--gate T|I] [--aged] [--points N] --out FILE.csv``
classifies the model's inference points (or N of them) through ngspice: ``--gate T`` reads the
trained T states, ``--gate I`` (default) transfers them to the I gates with write-verify first,
``--aged`` then ages them 10 years at 85 C. The CSV holds x1, x2, label, output, class.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ..cli import _engine     # the one engine factory of the command line
from ..errors import ValidationError
from ..params import load_params, write_text_atomic
from . import device as D
from . import insitu as I
from .task import REGIONS, Task, accuracy


def model_json(tr: I.Training) -> str:
    return json.dumps({"task": asdict(tr.task), "config": asdict(tr.config),
                       "table": json.loads(tr.table.to_json()),
                       "k": tr.final.k.tolist(), "b1": tr.final.b1.tolist(),
                       "b2": tr.final.b2, "epoch": tr.final.epoch}, indent=1)


def load_model(path: Path) -> I.Training:
    """A trained model written by ``spicefet train`` (validated on load)."""
    try:
        d = json.loads(Path(path).read_text())
        cfg = d["config"]
        cfg = I.TrainConfig(**{**cfg, "k_base": float(cfg["k_base"])})
        task = Task(**d["task"])
        table = D.table_from_dict(d["table"])
        k = np.asarray(d["k"], dtype=float)
        b1 = np.asarray(d["b1"], dtype=float)
        b2 = float(d["b2"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValidationError(f"{path}: not a spicefet model file ({err})") from None
    if k.shape != (8, 3) or b1.shape != (4,) or not np.all(np.isfinite(k)) \
            or np.any(k < 0) or np.any(k > table.n):
        raise ValidationError(f"{path}: cell states must be 8 x 3 pulse indices in 0..{table.n}")
    snap = I.Snapshot(int(d.get("epoch", 0)), k, b1, b2)
    return I.Training(task, cfg, table, [], [snap], 0.0)


def cmd_train(args) -> None:
    params = load_params(args.params)
    task = Task(region=args.region, size=args.size, band=args.band, seed=args.seed)
    cfg = I.TrainConfig(epochs=args.epochs, seed=args.seed, variation=not args.no_variation,
                        parasitics=not args.no_parasitics)
    out = Path(args.out)
    with _engine(args) as engine:
        table = D.measure_table(params, engine)
        tr = I.train(params, engine, task, cfg, table,
                     progress=lambda s: print(s, file=sys.stderr))
    from ..experiments.learning import epoch_csv
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "epochs.csv", epoch_csv(tr))
    write_text_atomic(out / "model.json", model_json(tr))
    ep = tr.epochs_to_100pct
    print(f"trained {tr.log[-1].epoch} epochs in {tr.seconds:.0f} s; 100 % training accuracy "
          f"{'at epoch ' + str(ep) if ep else 'not reached'}; wrote {out}/model.json",
          file=sys.stderr)


def cmd_infer(args) -> None:
    params = load_params(args.params)
    tr = load_model(Path(args.model))
    if args.points is not None:
        if not 1 <= args.points <= 1_000_000:
            raise ValidationError(f"--points {args.points} must lie in 1..1000000")
        tr = replace(tr, task=replace(tr.task, n_infer=args.points))
    x, t = tr.task.datasets()["infer"]
    with _engine(args) as engine:
        if args.gate == "T":
            state = tr.state()
        else:
            xf = I.transfer(params, engine, tr)
            state = xf.aged if args.aged else xf.written
        y = I.classify(params, engine, state, tr, x, seed=args.seed).y
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["x1", "x2", "label", "output", "class"])
    for (a, b), lab, out in zip(x, t, y):
        w.writerow([repr(float(a)), repr(float(b)), int(lab), repr(float(out)), int(out >= 0.5)])
    write_text_atomic(Path(args.out), buf.getvalue())
    print(f"accuracy {100 * accuracy(y, t):.2f} % on {len(t)} points ({args.gate}-type"
          f"{', aged' if args.aged else ''}); wrote {args.out}", file=sys.stderr)


def add_subcommands(sub) -> None:
    p = sub.add_parser("train", help="in-situ training of the 2-4-1 network on the 8 x 3 array")
    p.add_argument("--epochs", type=int, default=30, help="maximum epochs (default 30)")
    p.add_argument("--region", choices=REGIONS, default="disk")
    p.add_argument("--size", type=float, default=Task.size, help="disk radius / square half-width")
    p.add_argument("--band", type=float, default=Task.band, help="empty band between classes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-variation", action="store_true", help="read and update variation off")
    p.add_argument("--no-parasitics", action="store_true", help="ideal wires and vias")
    p.add_argument("--params", help="parameter file (JSON); default fits/default.json")
    p.add_argument("--out", default="train-out", help="output directory")
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("infer", help="classify inference points with a trained model")
    p.add_argument("model", help="model.json written by 'spicefet train'")
    p.add_argument("--gate", choices=("T", "I"), default="I")
    p.add_argument("--aged", action="store_true", help="age the I gates 10 years at 85 C")
    p.add_argument("--points", type=int, help="number of inference points (default: the task's)")
    p.add_argument("--seed", type=int, default=1, help="seed of the read-variation draw")
    p.add_argument("--params", help="parameter file (JSON); default fits/default.json")
    p.add_argument("-o", "--out", required=True, help="CSV file")
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=cmd_infer)
