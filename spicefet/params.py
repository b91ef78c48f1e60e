"""Typed parameter sets: the only door from user input into a netlist.

Each device model is a frozen dataclass whose fields carry a unit, a one-line description and
physical bounds in their metadata; field names equal the ``.param`` names of the subcircuits in
models/, so a dataclass instance becomes an ``X`` line's parameters without a mapping table.
A `ParamSet` groups the sections and round-trips through JSON (``fits/default.json``).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable

from .errors import ValidationError
from .netlist.core import check_name, check_number

DEFAULT_PARAMS = Path(__file__).resolve().parents[1] / "fits" / "default.json"


def p(default: float, unit: str, doc: str, lo: float = -math.inf, hi: float = math.inf):
    """A documented parameter field with physical bounds [lo, hi]."""
    return field(default=default, metadata={"unit": unit, "doc": doc, "lo": lo, "hi": hi})


@dataclass(frozen=True)
class ChannelParams:
    """Monolayer-MoS2 back-gated FET (``mos2fet`` in models/mos2.lib)."""
    w_um: float = p(10.0, "um", "channel width", 1e-3, 1e5)
    l_um: float = p(3.0, "um", "channel length", 1e-3, 1e5)
    t_ox_nm: float = p(12.0, "nm", "gate dielectric (HfO2) thickness", 0.5, 1e3)
    eps_ox: float = p(18.0, "1", "relative permittivity of the gate dielectric", 1.0, 100.0)
    mu_cm2Vs: float = p(20.0, "cm2/(V s)", "band mobility at 300 K", 1e-3, 1e4)
    vt_V: float = p(0.7, "V", "threshold voltage (channel-charge onset) at 300 K", -50.0, 50.0)
    ss_mVdec: float = p(150.0, "mV/dec", "subthreshold swing at 300 K", 60.0, 1e4)
    rc_ohm_um: float = p(4000.0, "ohm um", "contact resistance times width, each side", 0.0, 1e9)
    g_off_S: float = p(1e-13, "S", "off-state leakage conductance between drain and source", 0.0, 1e-3)
    temp_C: float = p(27.0, "degC", "device temperature", -273.0, 400.0)
    mu_temp_exp: float = p(1.2, "1", "mobility exponent gamma: mu ~ (T/300 K)^-gamma", 0.0, 5.0)
    dvt_dT_V_K: float = p(0.0, "V/K", "threshold-voltage temperature coefficient", -1.0, 1.0)

    @property
    def cox_F_m2(self) -> float:
        return 8.8541878128e-12 * self.eps_ox / (self.t_ox_nm * 1e-9)


@dataclass(frozen=True)
class FerroParams:
    """Hf0.5Zr0.5O2 film of the MFMIS stack (``fecap`` in models/ferroelectric.lib): a
    Preisach ensemble of nucleation-limited (Merz) domains."""
    t_fe_nm: float = p(16.0, "nm", "ferroelectric thickness", 1.0, 1e3)
    eps_fe: float = p(30.0, "1", "background relative permittivity", 1.0, 200.0)
    ps_uC_cm2: float = p(15.0, "uC/cm2", "switchable (saturated) polarisation", 0.0, 100.0)
    ea_MV_cm: float = p(1.59, "MV/cm", "mean activation field of the domains", 0.01, 50.0)
    ea_sigma_MV_cm: float = p(0.413, "MV/cm", "standard deviation of the activation field", 0.0, 10.0)
    alpha: float = p(16.0, "1", "Merz exponent: rate = exp(-(Ea/E)^alpha)/tau0", 0.5, 20.0)
    tau0_s: float = p(0.5e-9, "s", "attempt time of domain switching", 1e-15, 1.0)
    n_dom: float = p(32.0, "1", "number of domains (1..32)", 1.0, 32.0)
    e_imp_MV_cm: float = p(0.0, "MV/cm", "imprint field", -10.0, 10.0)
    g_leak_S: float = p(0.0, "S", "ohmic leakage conductance of the film", 0.0, 1e-3)


@dataclass(frozen=True)
class DuplexParams:
    """Geometry of the duplex FeFET: two MFMIS gates (T and I) over width-split segments of one
    MoS2 channel (``duplex_fefet`` in models/fefet.lib)."""
    a_de_um2: float = p(30.0, "um2", "floating-gate / HfO2 area of each gate (>= channel area)", 1e-3, 1e6)
    w_seg_um: float = p(5.0, "um", "channel width under each gate (segment)", 1e-3, 1e5)
    ratio_t: float = p(0.43, "1", "A_FE/A_DE of the training (T) gate", 1e-4, 100.0)
    ratio_i: float = p(0.053, "1", "A_FE/A_DE of the inference (I) gate", 1e-4, 100.0)
    q_fg0_fC: float = p(0.0, "fC", "net charge on each floating gate", -1e4, 1e4)
    p0_t_reset: float = p(-0.15, "1", "P/Ps of the reset T gate while the I gate is used", -1.0, 1.0)
    footprint_um2: float = p(150.0, "um2", "device footprint used for energy per area", 1e-3, 1e8)


@dataclass(frozen=True)
class OperationParams:
    """Bias conditions of programming and reading (paper: 4.8 ns pulses, AWG up to 10 V)."""
    program_V: float = p(10.0, "V", "I-gate program amplitude (erase uses -program_V)", 0.0, 50.0)
    pulse_s: float = p(4.8e-9, "s", "program/erase pulse width (FWHM)", 1e-12, 1.0)
    edge_s: float = p(0.5e-9, "s", "pulse rise and fall time", 1e-13, 1e-3)
    read_vg_V: float = p(0.0, "V", "gate voltage while reading", -50.0, 50.0)
    read_vd_V: float = p(0.1, "V", "drain voltage while reading", -10.0, 10.0)
    t_pot_V: float = p(5.25, "V", "T-gate potentiation pulse amplitude", 0.0, 50.0)
    t_dep_V: float = p(-0.51, "V", "T-gate depression pulse amplitude", -50.0, 0.0)
    t_pulse_s: float = p(5e-9, "s", "T-gate update pulse width (FWHM)", 1e-12, 1.0)
    t_edge_s: float = p(1e-9, "s", "T-gate update pulse edges", 1e-13, 1e-3)
    t_period_s: float = p(27e-9, "s", "period of the T-gate pulse train (pulse + read)", 1e-12, 1.0)
    sweep_V: float = p(5.0, "V", "amplitude of the triangular transfer sweep", 0.0, 50.0)
    sweep_quarter_s: float = p(1e-6, "s", "quarter period of the triangular transfer sweep", 1e-12, 1e3)


@dataclass(frozen=True)
class ArrayParams:
    """2T1D pseudo-crossbar: wire and via parasitics, transimpedance readout and the word-line
    select/deselect margins (spicefet/netlist/array.py). Metals as in the paper's Methods: M1
    (3 nm Ti / 9 nm Pt) input and output lines, M2 word lines, M3 (Ti/Pd/Ti, the S/D metal)
    bit lines and hidden nodes. A wire segment spans one cell pitch."""
    pitch_um: float = p(50.0, "um", "cell pitch (length of one wire segment)", 1e-3, 1e5)
    w_line_um: float = p(5.0, "um", "width of every array line", 1e-3, 1e4)
    r_sheet_m1_ohm_sq: float = p(25.0, "ohm/sq", "sheet resistance of M1 (input/output lines)", 0.0, 1e6)
    r_sheet_m2_ohm_sq: float = p(10.0, "ohm/sq", "sheet resistance of M2 (word lines)", 0.0, 1e6)
    r_sheet_m3_ohm_sq: float = p(4.0, "ohm/sq", "sheet resistance of M3 (bit lines, hidden nodes)", 0.0, 1e6)
    c_line_fF_um: float = p(0.7, "fF/um", "line capacitance to ground per length", 0.0, 1e3)
    r_via_ohm: float = p(20.0, "ohm", "via resistance between a line and a device terminal", 0.0, 1e9)
    tia_gain: float = p(1e5, "1", "open-loop gain of the readout op-amp", 1.0, 1e12)
    tia_gbw_Hz: float = p(5e8, "Hz", "gain-bandwidth product of the readout op-amp", 1.0, 1e13)
    r_tia_ohm: float = p(2e4, "ohm", "transimpedance (feedback) resistor", 1e-3, 1e12)
    c_tia_fF: float = p(200.0, "fF", "feedback capacitor across r_tia (stability)", 0.0, 1e9)
    wl_overdrive_V: float = p(3.0, "V", "selected word line above the highest bit-line voltage + Vt", 0.0, 50.0)
    wl_margin_V: float = p(1.5, "V", "deselected word line below the lowest bit-line voltage + Vt", 0.0, 50.0)
    wl_edge_ns: float = p(200.0, "ns", "edge time of a word line switched during an operation", 1e-3, 1e6)


SECTIONS: dict[str, type] = {"channel": ChannelParams, "selector": ChannelParams,
                             "ferro": FerroParams, "duplex": DuplexParams,
                             "operation": OperationParams, "array": ArrayParams}


@dataclass(frozen=True)
class ParamSet:
    """All parameter sections; `source` says where the values came from (file or 'defaults')."""
    channel: ChannelParams = field(default_factory=ChannelParams)
    selector: ChannelParams = field(default_factory=ChannelParams)
    ferro: FerroParams = field(default_factory=FerroParams)
    duplex: DuplexParams = field(default_factory=DuplexParams)
    operation: OperationParams = field(default_factory=OperationParams)
    array: ArrayParams = field(default_factory=ArrayParams)
    source: str = "defaults"

    def section(self, name: str):
        if name not in SECTIONS:
            raise ValidationError(f"unknown parameter section {name!r}; sections: {', '.join(SECTIONS)}")
        return getattr(self, name)

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}

    def with_overrides(self, assignments: Iterable[str]) -> "ParamSet":
        """Apply ``section.name=value`` strings (from ``--set``), validating each."""
        out = self
        for text in assignments:
            key, sep, value = text.partition("=")
            if not sep or "." not in key:
                raise ValidationError(f"--set {text!r}: expected SECTION.NAME=VALUE, e.g. "
                                      f"channel.mu_cm2Vs=15")
            section, name = key.strip().split(".", 1)
            out = out.replace_values(section, {name: parse_number(value, f"--set {key}")},
                                     where="--set")
        return out

    def replace_values(self, section: str, values: dict[str, Any], where: str = "") -> "ParamSet":
        current = self.section(section)
        checked = {k: check_field(type(current), k, v, f"{where}: {section}" if where else section)
                   for k, v in values.items()}
        return replace(self, **{section: replace(current, **checked)})


def parse_number(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValidationError(f"{what}: {text!r} is not a number") from None
    return check_number(value, what)


def check_field(cls: type, name: str, value: Any, where: str) -> float:
    """Validate one field of dataclass `cls`: known name, finite number, within bounds."""
    known = {f.name: f for f in fields(cls)}
    if name not in known:
        raise ValidationError(f"{where}: unknown parameter {name!r}; known: {', '.join(known)}")
    x = check_number(value, f"{where}.{name}")
    meta = known[name].metadata
    if not meta["lo"] <= x <= meta["hi"]:
        raise ValidationError(f"{where}.{name} = {x:g} {meta['unit']} is outside "
                              f"[{meta['lo']:g}, {meta['hi']:g}] ({meta['doc']})")
    return x


def spice_params(section: Any) -> dict[str, float]:
    """The fields of a parameter dataclass as ``{name: value}`` for an X element line."""
    return {check_name(f.name): float(getattr(section, f.name)) for f in fields(section)}


def describe(cls: type) -> list[tuple[str, float, str, str]]:
    """(name, default, unit, doc) for each field, for docs and reports."""
    return [(f.name, f.default, f.metadata["unit"], f.metadata["doc"]) for f in fields(cls)]


def load_params(path: str | Path | None = None) -> ParamSet:
    """Read a parameter file (JSON: ``{"section": {"name": value}}``); missing names keep their
    defaults, unknown sections or names and out-of-range values are refused."""
    path = Path(path) if path is not None else DEFAULT_PARAMS
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValidationError(f"{path}: parameter file not found") from None
    except json.JSONDecodeError as err:
        raise ValidationError(f"{path}:{err.lineno}:{err.colno}: not valid JSON ({err.msg})") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: expected a JSON object of sections")
    out = ParamSet(source=str(path))
    for section, values in data.items():
        if section.startswith("_"):  # _provenance, _notes: documentation only
            continue
        if not isinstance(values, dict):
            raise ValidationError(f"{path}: section {section!r} must be an object")
        if section not in SECTIONS:
            raise ValidationError(f"{path}: unknown section {section!r}; sections: {', '.join(SECTIONS)}")
        out = out.replace_values(section, values, where=str(path))
    return out


def save_params(pset: ParamSet, path: str | Path, provenance: str) -> None:
    """Write atomically (temp file + rename): a failed write leaves the old file untouched."""
    write_text_atomic(Path(path), json.dumps({"_provenance": provenance, **pset.to_dict()},
                                             indent=2) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        make_readable(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_UMASK = os.umask(0)
os.umask(_UMASK)


def make_readable(path: Path) -> None:
    """Give a file written through a temp file (mkstemp makes 0600) the usual mode."""
    os.chmod(path, 0o666 & ~_UMASK)
