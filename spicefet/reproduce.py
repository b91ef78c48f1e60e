"""`spicefet reproduce`: every experiment the toolkit can reproduce, as one report."""
from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from .engine import Engine, ngspice_version
from .experiments import channel, ferro, multilevel, switching, window
from .fit import report as fit_report
from .params import ParamSet
from .report import Section, write_report


def reproduce(out_dir: Path, params: ParamSet, engine: Engine) -> dict:
    shared: dict[str, float] = {}

    def window_step(out: Path) -> Section:
        sec = window.section(params, engine, out)
        shared["window_i_V"] = sec.summary["memory_window_V"][window.ratio_key(params.duplex.ratio_i)]
        return sec

    steps = [
        ("MoS2 channel: Id-Vg, Id-Vd, extraction", partial(channel.section, params, engine)),
        ("HZO capacitor: P-V loops", partial(ferro.section, params, engine)),
        ("FeFET: memory window vs A_FE/A_DE", window_step),
        ("FeFET: switching, energy, read disturb",
         lambda out: switching.section(params, engine, out, shared["window_i_V"])),
        ("FeFET: T-type 128+128 pulses, I-type write-verify", partial(multilevel.section, params, engine)),
        ("Fits to the reference CSVs (retention, endurance, ...)",
         partial(fit_report.section, params, engine)),
    ]
    meta = {"ngspice": ngspice_version(), "params": params.source}
    return write_report(out_dir, steps, meta, progress=lambda s: print(s, file=sys.stderr))
