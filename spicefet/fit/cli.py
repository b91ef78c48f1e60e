"""The ``spicefet fit`` subcommand; `spicefet.cli` registers it with `add_subcommands`.

    spicefet fit KIND DATA.csv [--params START] --out FILE [--plot PNG] [--report TXT]
    spicefet export aihwkit|neurosim PULSE.csv --out FILE

Errors are `SpicefetError`s (the main CLI prints them as one line and exits 2; a failed
simulation exits 3); a failed fit writes nothing.
"""
from __future__ import annotations

import argparse
import sys

from .csvio import KINDS, MAX_FILE_BYTES, describe


def cmd_fit(args) -> None:
    from . import fit
    outcome = fit(args.kind, args.data, args.params, args.out, args.plot, args.report)
    print(f"fit {args.kind}: R^2 = {outcome.r2:.6f}, reduced chi-square = "
          f"{outcome.result.redchi:.4g}; wrote {', '.join(str(p) for p in outcome.written)}",
          file=sys.stderr)


def cmd_export(args) -> None:
    from .export import export
    doc = export(args.format, args.data, args.out)
    nl = (f"NL_LTP {doc['NL_LTP']:.2f}, NL_LTD {doc['NL_LTD']:.2f}" if "NL_LTP" in doc else
          f"alpha {doc['device']['alpha']:.4g}, p_max {doc['device']['p_max']}")
    print(f"export {args.format}: {nl}; wrote {args.out}", file=sys.stderr)


def add_subcommands(subparsers) -> None:
    """Register ``fit`` and ``export`` on an argparse subparsers object."""
    from .export import FORMATS
    e = subparsers.add_parser(
        "export", help="pulse response -> aihwkit device / NeuroSim parameters (JSON)",
        description="Fit NeuroSim's G = B(1 - exp(-P/A)) + Gmin to the potentiation and "
                    "depression branches of a pulse-response CSV and write an aihwkit "
                    "SoftBoundsPmaxDevice configuration or NeuroSim parameters as JSON "
                    "(mapping: spicefet.fit.export).")
    e.add_argument("format", choices=FORMATS, help="aihwkit or neurosim")
    e.add_argument("data", metavar="PULSE.csv", help="pulse-response file (kind pulse)")
    e.add_argument("--out", metavar="FILE", required=True, help="output JSON")
    e.set_defaults(func=cmd_export)
    columns = "\n\n".join(f"{kind}:\n  " + describe(kind).replace("\n", "\n  ")
                            for kind in KINDS)
    p = subparsers.add_parser(
        "fit", help="fit a model to a measurement CSV (ngspice in the loop for transfer)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fit a model to a measurement CSV; writes the fitted parameters "
                    "atomically, optionally a PNG (data, model, residuals) and a text report.",
        epilog=f"CSV columns (units in the names; '# key: value' header lines allowed before "
               f"the column names; at most {MAX_FILE_BYTES // 2**20} MiB):\n\n{columns}")
    p.add_argument("kind", metavar="KIND", help=f"data kind: {', '.join(KINDS)}")
    p.add_argument("data", metavar="DATA.csv", help="measurement file (see spicefet.fit.csvio)")
    p.add_argument("--params", metavar="START",
                   help="start values: a parameter file for transfer/pv/pulse/switching (default "
                        "fits/default.json); a previous fit's output for retention/endurance")
    p.add_argument("--out", metavar="FILE", required=True, help="fitted parameters (JSON)")
    p.add_argument("--plot", metavar="PNG", help="plot of data, model and residuals")
    p.add_argument("--report", metavar="TXT", help="fit report (values, errors, correlations)")
    p.set_defaults(func=cmd_fit)
