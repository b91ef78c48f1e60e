"""Command line: ``spicefet netlist|sim|netlists|fit|export|sweep|train|infer|reproduce``.

Every error a user can cause prints one line ``spicefet: error: ...`` and exits with status 2;
a simulation failure exits with status 3. Output files are written to a temp file and renamed,
so a failed command leaves nothing behind.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from .errors import SimulationError, SpicefetError, ValidationError
from .params import load_params, write_text_atomic


def _params(args):
    return load_params(args.params).with_overrides(
        [s for s in args.set if "." in s.partition("=")[0]])


def _bench_options(args) -> dict[str, str]:
    out = {k: str(v) for k in ("rows", "cols") if (v := getattr(args, k, None)) is not None}
    for s in args.set:
        key, sep, value = s.partition("=")
        if "." not in key:
            if not sep:
                raise ValidationError(f"--set {s!r}: expected NAME=VALUE")
            out[key.strip()] = value
    return out


def _engine(args):
    from .engine import Cache, Engine, default_cache_dir
    cache = None if getattr(args, "no_cache", False) else Cache(default_cache_dir())
    return Engine(backend=getattr(args, "backend", "shared"), cache=cache)


def cmd_netlist(args) -> None:
    from .netlist.benches import build_bench
    text = build_bench(args.bench, _params(args), _bench_options(args)).render()
    if args.output:
        write_text_atomic(Path(args.output), text)
    else:
        sys.stdout.write(text)


def cmd_sim(args) -> None:
    from .netlist.benches import build_bench
    netlist = build_bench(args.bench, _params(args), _bench_options(args))
    with _engine(args) as engine:
        result = engine.run(netlist)
    names = list(result.vectors)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*(result.vectors[n] for n in names)))
    write_text_atomic(Path(args.output), buf.getvalue())
    if args.plot:
        _plot_vectors(result, Path(args.plot))
    print(f"{netlist.name}: {len(names)} vectors x {len(result.vectors[names[0]])} points "
          f"-> {args.output} (rung {result.rung}{', cached' if result.cached else ''})",
          file=sys.stderr)


def _plot_vectors(result, path: Path) -> None:
    import os
    import tempfile

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    scale = next((n for n in result.vectors if n in ("time", "v-sweep", "i-sweep", "temp-sweep")),
                 None)
    x = result.vectors[scale] if scale else None
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, vec in result.vectors.items():
        if name != scale:
            ax.plot(x if x is not None else range(len(vec)), vec, label=name)
    ax.set_xlabel(scale or "point")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)


def cmd_netlists(args) -> None:
    """Write every bench netlist and the paper's 8x3 array netlists to DIR, with `.include`
    paths relative to DIR so each file runs under plain `ngspice -b` from a fresh clone."""
    import os
    from .netlist.array import paper_netlists
    from .netlist.benches import BENCHES, get_bench
    from .netlist.core import MODELS_DIR
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    params = load_params(args.params)
    rel = Path(os.path.relpath(MODELS_DIR, out.resolve()))
    files = {f"{name}.cir": get_bench(name)(params) for name in BENCHES if name != "array"}
    files.update(paper_netlists(params))
    for fname, netlist in files.items():
        write_text_atomic(out / fname, netlist.render(models_dir=rel))
        print(f"wrote {out / fname}", file=sys.stderr)


def cmd_reproduce(args) -> None:
    from .reproduce import reproduce
    with _engine(args) as engine:
        summary = reproduce(Path(args.out), load_params(args.params), engine)
    print(f"wrote {args.out}/summary.json and {args.out}/report.md "
          f"({sum(1 for k in summary if not k.startswith('_'))} sections)", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    from .netlist.benches import BENCHES
    parser = argparse.ArgumentParser(prog="spicefet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, with_set=True):
        p.add_argument("--params", help="parameter file (JSON); default fits/default.json")
        if with_set:
            p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                           help="SECTION.NAME=VALUE overrides a device parameter "
                                "(e.g. channel.mu_cm2Vs=15); NAME=VALUE a bench option "
                                "(e.g. vd_V=0.5)")

    def array_size(p):
        p.add_argument("--rows", type=int, help="array rows (bench 'array')")
        p.add_argument("--cols", type=int, help="array columns (bench 'array')")

    p = sub.add_parser("netlist", help="write a bench netlist (stdout by default)")
    p.add_argument("bench", choices=sorted(BENCHES))
    common(p)
    array_size(p)
    p.add_argument("-o", "--output", help="output file")
    p.set_defaults(func=cmd_netlist)

    p = sub.add_parser("sim", help="simulate a bench and write its vectors as CSV")
    p.add_argument("bench", choices=sorted(BENCHES))
    common(p)
    array_size(p)
    p.add_argument("-o", "--output", required=True, help="CSV file for the vectors")
    p.add_argument("--plot", help="PNG plot of the vectors")
    p.add_argument("--backend", choices=("shared", "cli"), default="shared")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("netlists", help="write every bench netlist into a directory")
    common(p, with_set=False)
    p.add_argument("--out", default="netlists")
    p.set_defaults(func=cmd_netlists)

    from .fit.cli import add_subcommands as add_fit
    from .learn.cli import add_subcommands as add_learn
    from .sweep.cli import add_subcommands as add_sweep
    add_fit(sub)
    add_sweep(sub)
    add_learn(sub)

    p = sub.add_parser("reproduce", help="run the paper reproduction; write summary.json, report.md")
    common(p, with_set=False)
    p.add_argument("--out", default="report")
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=cmd_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SimulationError as err:
        print(f"spicefet: simulation failed: {err}", file=sys.stderr)
        return 3
    except SpicefetError as err:
        print(f"spicefet: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spicefet: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
