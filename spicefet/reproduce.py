"""`spicefet reproduce`: every experiment the toolkit can reproduce, as one report."""
from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from .engine import Engine, ngspice_version
from .experiments import array, channel, ferro, learning, multilevel, switching, window
from .fit import report as fit_report
from .sweep import report as sweep_report
from .sweep.executors import local_pool
from .sweep.journal import Journal
from .sweep.numerics import verify_numerics
from .sweep.runner import run_sweep
from .sweep.spec import load_spec

SWEEPS = Path(__file__).resolve().parents[1] / "examples" / "sweeps"
from .params import ParamSet
from .report import Section, write_report


def monte_carlo_section(params: ParamSet, out: Path, names=("channel_mc", "window_mc")) -> Section:
    """Monte Carlo sweeps from examples/sweeps/ on the local process pool, each with its
    numerics check, as one section. Journals live in the staging directory, so every report
    runs them afresh. Summary: run counts add up, the yield is over all runs, the numerics
    figure is the worst of all checks, the window spread comes from the window sweep."""
    sections, total = [], {"runs": 0, "mc_runs": 0, "failed_runs": 0, "passing": 0.0}
    worst = 0.0
    with local_pool() as pool:
        for name in names:
            journal_file = out / f".{name}.journal.jsonl"
            result = run_sweep(load_spec(SWEEPS / f"{name}.toml"), params, pool, Journal(journal_file))
            check = verify_numerics(result, params, pool, Journal(journal_file))
            journal_file.unlink(missing_ok=True)
            sec = sweep_report.section(result, out, check)
            sections.append(sec)
            sw = sec.summary["sweep"]
            for key in ("runs", "mc_runs", "failed_runs"):
                total[key] += sw[key]
            total["passing"] += sw["yield"] * sw["runs"]
            total.update({k: v for k, v in sw.items() if k == "memory_window_sigma_V"})
            worst = max(worst, sec.summary.get("numerics", {}).get("max_rel_change", 0.0))
    total["yield"] = total.pop("passing") / total["runs"]
    return Section("Monte Carlo sweeps under device variation",
                   "\n\n".join(f"### {sec.title}\n\n{sec.markdown}" for sec in sections),
                   [f for sec in sections for f in sec.figures],
                   {"sweep": total, "numerics": {"max_rel_change": worst}},
                   [row for sec in sections for row in sec.rows])


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
        ("2T1D array: MAC, disturb, energy, transfer, scaling", partial(array.section, params, engine)),
        ("In-situ learning on the 8 x 3 array", partial(learning.section, params, engine)),
        ("Fits to the reference CSVs (retention, endurance, ...)",
         partial(fit_report.section, params, engine)),
        ("Monte Carlo: channel and I-gate window, numerics check",
         partial(monte_carlo_section, params)),
    ]
    meta = {"ngspice": ngspice_version(), "params": params.source}
    return write_report(out_dir, steps, meta, progress=lambda s: print(s, file=sys.stderr))
