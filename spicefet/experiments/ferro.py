"""Ferroelectric capacitor P-V loops: major loop, nested first-order reversal loops, return-point
memory and wiping-out of the Preisach ensemble (models/ferroelectric.lib)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..engine import Engine
from ..netlist.fefet_benches import PV_A, PV_C, PV_LEVELS_V, fe_pv
from ..netlist.stimuli import sample, segments
from ..params import ParamSet
from ..report import Section, save_figure

RATE_V_S = 1e6  # 1 us per volt: quasi-static for the domains' steep (alpha = 16) kinetics


@dataclass
class PVResult:
    v_V: np.ndarray
    p_uC_cm2: np.ndarray
    levels_V: tuple[float, ...]
    pm_at_turns: np.ndarray  # P/Ps at each turning point of the stimulus
    ps_uC_cm2: float

    def return_point_error(self) -> float:
        """Largest |P/Ps change| between the first and second visit of a reversal point, over
        the full swing (2): A is left for B and a nested loop C -> D -> C, then reached again;
        C is reached again after D. Preisach return-point memory makes both zero."""
        pm, lv = self.pm_at_turns, self.levels_V
        errs = [abs(pm[_turn_index(lv, v, 1)] - pm[_turn_index(lv, v, 0)]) for v in (PV_A, PV_C)]
        return float(max(errs) / 2)

    def wiping_out_error(self) -> float:
        """After the final +-6 V excursion the state equals the saturated states of the first
        major loop: minor-loop history is wiped out."""
        k = len(self.levels_V)
        later = self.pm_at_turns[k - 3:k - 1]   # at the last +6 and -6 V
        first = self.pm_at_turns[1:3]           # at the first +6 and -6 V
        return float(np.max(np.abs(later - first)) / 2)

    def summary(self) -> dict:
        return {"ferro": {"return_point_error": self.return_point_error(),
                          "wiping_out_error": self.wiping_out_error(),
                          "pr_uC_cm2": float(abs(self.pm_at_turns[-1]) * self.ps_uC_cm2)}}

    def plot(self, path: Path) -> str:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.plot(self.v_V, self.p_uC_cm2, lw=1)
        turns = np.array(self.levels_V)
        ax.plot(turns, self.pm_at_turns * self.ps_uC_cm2, "o", ms=3, color="C3",
                label="turning points")
        ax.set_xlabel("V (V)")
        ax.set_ylabel("P (uC/cm2)")
        ax.set_title("HZO P-V: major loop, nested reversal loops, wiping-out")
        ax.legend(fontsize=8)
        return save_figure(fig, path)


def _turn_index(levels: tuple[float, ...], value: float, occurrence: int) -> int:
    hits = [k for k, v in enumerate(levels) if v == value]
    return hits[occurrence]


def run(params: ParamSet, engine: Engine, levels_V: tuple[float, ...] = PV_LEVELS_V) -> PVResult:
    result = engine.run(fe_pv(params, levels_V=levels_V, rate_V_s=RATE_V_S))
    _, times = segments(levels_V, RATE_V_S)
    pm = result["v(xfe.pm)"]
    return PVResult(result["v(a)"], pm * params.ferro.ps_uC_cm2, tuple(levels_V),
                    sample(result["time"], pm, times), params.ferro.ps_uC_cm2)


def section(params: ParamSet, engine: Engine, out_dir: Path) -> Section:
    r = run(params, engine)
    f = params.ferro
    md = (f"Bare HZO capacitor (`fecap`, {f.t_fe_nm:g} nm, {int(f.n_dom)} domains with logistic "
          f"quantiles of Ea = {f.ea_MV_cm:g} +- {f.ea_sigma_MV_cm:g} MV/cm, Merz exponent "
          f"{f.alpha:g}, tau0 = {f.tau0_s:g} s) driven through {r.levels_V} V at "
          f"{RATE_V_S / 1e6:g} V/us: a major loop, nested first-order reversal loops and a "
          "final excursion that wipes the minor-loop history out.")
    rows = [(f"return-point error (2nd vs 1st visit of {PV_A:g} V and {PV_C:g} V)",
             f"{r.return_point_error():.3f} of the swing", "Preisach: 0"),
            ("wiping-out error after +-6 V", f"{r.wiping_out_error():.2e} of the swing",
             "Preisach: 0"),
            ("remanent P after the last loop", f"{r.summary()['ferro']['pr_uC_cm2']:.1f} uC/cm2",
             "HZO 10-20 uC/cm2")]
    return Section("Ferroelectric P-V loops (Preisach behaviour)", md,
                   [r.plot(out_dir / "fe_pv.png")], r.summary(), rows)
