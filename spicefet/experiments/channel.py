"""MoS2 channel characterisation: Id-Vg (linear and log) and Id-Vd, with extracted figures."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .. import measure
from ..engine import Engine
from ..netlist.benches import channel_idvd, channel_idvg
from ..params import ParamSet
from ..report import Section, save_figure

VD_LIN_V = 0.1


@dataclass
class ChannelResult:
    """Transfer and output curves of the channel with the figures extracted from them."""
    vg_V: np.ndarray
    id_A: np.ndarray          # at Vd = VD_LIN_V
    vd_V: np.ndarray          # output family: (n_vg, n_vd)
    vg_out_V: np.ndarray
    id_out_A: np.ndarray
    vth_cc_V: float
    vth_gm_V: float
    ss_mV_dec: float
    on_off: float
    mobility_cm2Vs: float
    params: ParamSet

    def summary(self) -> dict:
        return {"channel": {"vth_V": self.vth_cc_V, "vth_max_gm_V": self.vth_gm_V,
                            "ss_mV_per_dec": self.ss_mV_dec, "on_off": self.on_off,
                            "mobility_cm2_Vs": self.mobility_cm2Vs}}

    def plot(self, path: Path) -> str:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        ax1.semilogy(self.vg_V, np.abs(self.id_A), "C0", label="|Id| (log)")
        ax1.set_xlabel("Vg (V)")
        ax1.set_ylabel("|Id| (A)")
        ax1.axvline(self.vth_cc_V, color="0.6", ls=":", label=f"Vth = {self.vth_cc_V:.2f} V")
        lin = ax1.twinx()
        lin.plot(self.vg_V, self.id_A * 1e6, "C1", label="Id (linear)")
        lin.set_ylabel("Id (uA)")
        ax1.set_title(f"Id-Vg at Vd = {VD_LIN_V:g} V; SS = {self.ss_mV_dec:.0f} mV/dec")
        ax1.legend(loc="upper left", fontsize=8)
        for k, vg in enumerate(self.vg_out_V):
            ax2.plot(self.vd_V[k], self.id_out_A[k] * 1e6, label=f"Vg = {vg:g} V")
        ax2.set_xlabel("Vd (V)")
        ax2.set_ylabel("Id (uA)")
        ax2.set_title("Id-Vd")
        ax2.legend(fontsize=8)
        return save_figure(fig, path)


def run(params: ParamSet, engine: Engine, section: str = "channel") -> ChannelResult:
    ch = params.section(section)
    idvd = channel_idvd(params, section=section)
    tr, out = engine.run_many([channel_idvg(params, vd_V=VD_LIN_V, section=section), idvd])
    vg, i_d = tr["v-sweep"], -tr["i(vd)"]
    outer = idvd.analysis.sweeps[1]  # Vg steps of the output family
    n_vg = outer.points()
    vd = out["v-sweep"].reshape(n_vg, -1)
    id_out = -out["i(vd)"].reshape(n_vg, -1)
    return ChannelResult(
        vg_V=vg, id_A=i_d, vd_V=vd, vg_out_V=outer.start + outer.step * np.arange(n_vg),
        id_out_A=id_out,
        vth_cc_V=measure.vth_constant_current(vg, i_d, ch.w_um, ch.l_um),
        vth_gm_V=measure.vth_max_gm(vg, i_d),
        ss_mV_dec=measure.subthreshold_swing_mV_dec(vg, i_d),
        on_off=measure.on_off_ratio(i_d),
        mobility_cm2Vs=measure.field_effect_mobility_cm2Vs(vg, i_d, VD_LIN_V, ch.w_um, ch.l_um,
                                                           ch.cox_F_m2),
        params=params)


def section(params: ParamSet, engine: Engine, out_dir: Path) -> Section:
    r = run(params, engine)
    ch = params.channel
    fig = r.plot(out_dir / "channel_transfer_output.png")
    md = (f"MoS2 channel (`models/mos2.lib`, `mos2fet`): W = {ch.w_um:g} um, L = {ch.l_um:g} um, "
          f"{ch.t_ox_nm:g} nm HfO2 (eps_r = {ch.eps_ox:g}), T = {ch.temp_C:g} C. "
          f"Id-Vg at Vd = {VD_LIN_V:g} V from -5 to 10 V; Id-Vd for Vg = 0..8 V. "
          "Threshold by constant current (1e-8 A x W/L) and by max-gm extrapolation; the "
          "field-effect mobility includes the contact resistance "
          f"({ch.rc_ohm_um:g} ohm um per side), so it sits below the model's band mobility "
          f"({ch.mu_cm2Vs:g} cm2/Vs) on this short channel.")
    rows = [("Vth (constant current)", f"{r.vth_cc_V:.3f} V", "-"),
            ("Vth (max gm)", f"{r.vth_gm_V:.3f} V", "-"),
            ("SS", f"{r.ss_mV_dec:.1f} mV/dec", f"model parameter {ch.ss_mVdec:g}"),
            ("on/off (Vd = 0.1 V, -5..10 V)", f"{r.on_off:.3g}", "CVD MoS2: 1e6-1e8"),
            ("field-effect mobility", f"{r.mobility_cm2Vs:.2f} cm2/Vs", "CVD MoS2: 1-30")]
    return Section("MoS2 channel", md, [fig], r.summary(), rows)
