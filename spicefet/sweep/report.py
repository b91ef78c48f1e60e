"""A report `Section` for a sweep: a histogram of each figure over the successful runs, the
failure count, the yield against the spec's ``[spec]`` limits and the numerics check.

Summary keys: ``sweep.runs``, ``sweep.mc_runs`` (runs that are Monte Carlo samples),
``sweep.failed_runs``, ``sweep.yield`` (fraction of all runs that completed within every limit;
without limits, the fraction that completed), ``sweep.memory_window_sigma_V`` (only when the
experiment reports ``memory_window_V``) and, after a numerics check,
``numerics.max_rel_change``, ``numerics.checked_runs``, ``numerics.flagged``.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..report import Section, save_figure
from .numerics import FLAG_REL_CHANGE, NumericsCheck
from .runner import SweepResult


def _limits_text(lo: float, hi: float) -> str:
    if math.isinf(lo):
        return f"<= {hi:g}"
    return f">= {lo:g}" if math.isinf(hi) else f"{lo:g} .. {hi:g}"


def plot_histograms(result: SweepResult, path: Path) -> str:
    """One histogram per figure (log-scaled bins for positive figures spanning > 2 decades),
    with the spec limits as dashed lines where they fall in view; returns the file name."""
    figures = result.figure_names()
    cols = min(len(figures), 3) or 1
    rows = max(math.ceil(len(figures) / cols), 1)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, figure in zip(axes.flat, figures):
        x = result.values(figure)
        log = x.size > 0 and x.min() > 0 and x.max() / x.min() > 100
        bins = np.geomspace(x.min(), x.max(), 30) if log else 30
        if x.size:
            ax.hist(x, bins=bins, color="C0", alpha=0.8)
        if log:
            ax.set_xscale("log")
        title = f"n = {x.size}"
        if figure in result.spec.limits:
            view = ax.get_xlim()
            for limit in result.spec.limits[figure]:
                if math.isfinite(limit):
                    ax.axvline(limit, color="C3", ls="--")
            ax.set_xlim(view)  # a limit far from the data stays off the axis, named in the title
            title += f"; spec {_limits_text(*result.spec.limits[figure])}"
        ax.set_xlabel(figure)
        ax.set_ylabel("runs")
        ax.set_title(title, fontsize=9)
    for ax in list(axes.flat)[len(figures):]:
        ax.set_visible(False)
    fig.suptitle(f"{result.spec.experiment.name}: {len(result.runs)} runs, "
                 f"{result.failed} failed")
    return save_figure(fig, path)


def section(result: SweepResult, out_dir: Path, numerics: NumericsCheck | None = None) -> Section:
    """The report section of a sweep (and of its numerics check, if given); the histogram PNG
    is saved in `out_dir`."""
    spec = result.spec
    n = len(result.runs)
    passes = result.passes()
    sweep = {"runs": n, "mc_runs": sum(r.sample >= 0 for r in result.runs),
             "failed_runs": result.failed, "yield": sum(passes) / n if n else math.nan}
    window = result.values("memory_window_V")
    if "memory_window_V" in result.figure_names() and window.size > 1:
        sweep["memory_window_sigma_V"] = float(np.std(window, ddof=1))
    summary: dict = {"sweep": sweep}
    rows = []
    for figure in result.figure_names():
        x = result.values(figure)
        spread = (f"{np.mean(x):.4g} +/- {np.std(x, ddof=1):.3g} ({x.min():.4g} .. {x.max():.4g})"
                  if x.size > 1 else (f"{x[0]:.4g}" if x.size else "no value"))
        goal = "-"
        if figure in spec.limits:
            goal = (f"spec {_limits_text(*spec.limits[figure])}: "
                    f"{np.mean(result.passes(figure)):.1%} of runs pass")
        rows.append((f"{figure} (mean +/- sd, range)", spread, goal))
    plot = plot_histograms(result, out_dir / f"sweep_{spec.experiment.name}_distributions.png")
    md = (f"Sweep of experiment `{spec.experiment.name}` from `{spec.path}`: {n} runs "
          f"({sweep['mc_runs']} Monte Carlo samples, seed {spec.seed}), "
          f"{result.failed} failed. Yield {sweep['yield']:.1%} "
          + ("against the spec limits." if spec.limits else "(completed runs; no spec limits)."))
    if numerics is not None:
        summary["numerics"] = numerics_summary(numerics)
        md += "\n\n" + _numerics_markdown(numerics)
    return Section(f"Sweep: {spec.experiment.name}", md, [plot], summary, rows)


def numerics_summary(check: NumericsCheck) -> dict:
    out = {"checked_runs": len(check.runs), "flagged": check.flagged()}
    if check.max_by_figure():
        out["max_rel_change"] = check.max_rel_change
    return out


def _numerics_markdown(check: NumericsCheck) -> str:
    by_figure = check.max_by_figure()
    lines = [f"Numerics check: {len(check.runs)} runs re-run with tightened tolerances and half "
             f"the max time step; figures moving more than {FLAG_REL_CHANGE:.0%} are flagged.", "",
             "| figure | max relative change | |", "|---|---|---|"]
    lines += [f"| {f} | {v:.3g} | {'FLAGGED' if v > FLAG_REL_CHANGE else 'ok'} |"
              for f, v in by_figure.items()]
    failed = sum(bool(e) for e in check.errors)
    if failed:
        lines += ["", f"{failed} tightened runs failed: {next(e for e in check.errors if e)}"]
    return "\n".join(lines)
