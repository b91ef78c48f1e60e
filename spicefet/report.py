"""Report assembly: sections -> ``summary.json`` + ``report.md`` + PNG figures.

An experiment returns a `Section`: its markdown, the figures it drew (already saved in the
staging directory) and the summary keys it fills. `write_report` stages everything in a
temporary directory beside the target and renames it into place at the end, so an interrupted
run never leaves a half-written report.
"""
from __future__ import annotations

import datetime as _dt
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@dataclass
class Section:
    title: str
    markdown: str
    figures: list[str] = field(default_factory=list)  # file names inside the report directory
    summary: dict[str, Any] = field(default_factory=dict)
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (figure, simulated, paper)


def save_figure(fig, path: Path) -> str:
    """Save a matplotlib figure to `path` (PNG) and close it; returns the file name."""
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)  # format explicit: staged files end in .part
    plt.close(fig)
    return path.name


def merge(into: dict, new: dict) -> dict:
    """Deep-merge `new` into `into` (sections fill disjoint keys of one summary)."""
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def render_markdown(sections: list[Section], meta: dict[str, Any]) -> str:
    lines = ["# spicefet reproduction report", "",
             f"Generated {meta['generated']} with ngspice {meta['ngspice']}, parameters from "
             f"`{meta['params']}`.", "",
             "Figures compare our ngspice simulation with the duplex-FeFET paper "
             "(see `../shared/targets.md`). Every number below is measured by `spicefet "
             "reproduce`; nothing is copied from the paper except the 'paper' column.", ""]
    for sec in sections:
        lines += [f"## {sec.title}", "", sec.markdown.strip(), ""]
        if sec.rows:
            lines += ["| figure | simulated | paper / goal |", "|---|---|---|"]
            lines += [f"| {a} | {b} | {c} |" for a, b, c in sec.rows]
            lines.append("")
        lines += [f"![{name}]({name})" for name in sec.figures]
        lines.append("")
    return "\n".join(lines)


def write_report(out_dir: Path, steps: list[tuple[str, Callable[[Path], Section]]],
                 meta: dict[str, Any], progress: Callable[[str], None] = print) -> dict:
    """Run each step (a function of the staging directory returning a Section) and publish."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        sections, summary = [], {}
        for k, (label, step) in enumerate(steps, 1):
            progress(f"[{k}/{len(steps)}] {label} ...")
            section = step(stage)
            sections.append(section)
            merge(summary, section.summary)
        meta = {**meta, "generated": _dt.datetime.now().isoformat(timespec="seconds")}
        summary["_meta"] = meta
        (stage / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        (stage / "report.md").write_text(render_markdown(sections, meta))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        stage.rename(out_dir)
        return summary
    finally:
        if stage.exists():
            shutil.rmtree(stage)
