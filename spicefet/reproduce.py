"""`spicefet reproduce`: every experiment the toolkit can reproduce, as one report."""
from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from .engine import Engine, ngspice_version
from .experiments import channel
from .params import ParamSet
from .report import write_report


def reproduce(out_dir: Path, params: ParamSet, engine: Engine) -> dict:
    steps = [
        ("MoS2 channel: Id-Vg, Id-Vd, extraction", partial(channel.section, params, engine)),
    ]
    meta = {"ngspice": ngspice_version(), "params": params.source}
    return write_report(out_dir, steps, meta, progress=lambda s: print(s, file=sys.stderr))
