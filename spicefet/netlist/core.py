"""The one netlist writer: circuits as plain data, rendered to ngspice text in one place.

Nothing reaches netlist text except through this module: names must match
``[A-Za-z][A-Za-z0-9_]*`` (nodes may also be plain integers such as ``0``), numbers must be
finite and are rendered in plain exponent notation (``1e-09``, never an SI suffix such as ``M``,
which ngspice reads as milli). Behavioural expressions are built by spicefet's own code from
validated numbers and names and wrapped in `Expr`, which refuses anything that could start a new
netlist line or a control command. User text therefore never reaches ngspice's ``shell``.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ValidationError

NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
NODE_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9_]*|[0-9]+)\Z")
# hierarchical node (x1.xfe.p3) for .ic; device-internal vectors (@b.x1.xch.bch[i]) for .save
PATH_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*\Z")
SAVE_RE = re.compile(r"(?:@[A-Za-z]\.[A-Za-z0-9_.]+\[[a-z]+\]|[vi]\([A-Za-z0-9_.]+\))\Z")
# Characters allowed in a behavioural expression: identifiers, numbers, operators, brackets.
EXPR_RE = re.compile(r"[A-Za-z0-9_.+\-*/^(),<>=!&|:?\s{}']*\Z")
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def check_name(name: object, what: str = "name") -> str:
    """Return `name` if it is a safe SPICE identifier, else raise ValidationError."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError(f"{what} {name!r} is not a valid name (letters, digits, '_'; "
                              f"starting with a letter)")
    return name


def check_node(node: object) -> str:
    if not isinstance(node, str) or not NODE_RE.match(node):
        raise ValidationError(f"node {node!r} is not a valid node name")
    return node


def check_number(value: object, what: str = "value") -> float:
    """Return `value` as a finite float, else raise ValidationError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(f"{what} = {value!r} is not a number")
    x = float(value)
    if not math.isfinite(x):
        raise ValidationError(f"{what} = {value!r} is not finite")
    return x


def fmt(value: object, what: str = "value") -> str:
    """Render a number so ngspice reads it unambiguously (repr-exact, no SI suffix)."""
    x = check_number(value, what)
    text = repr(x)  # shortest round-tripping form, e.g. '1e-09', '0.1', '12.0'
    return text[:-2] if text.endswith(".0") else text


class Expr(str):
    """A behavioural expression assembled by spicefet code from validated names and numbers."""

    def __new__(cls, text: str):
        if "\n" in text or "\r" in text or not EXPR_RE.match(text):
            raise ValidationError(f"expression {text!r} contains characters not allowed in a netlist")
        return super().__new__(cls, text)


@dataclass(frozen=True)
class Pulse:
    """PULSE source: v1 -> v2 after `delay_s`, finite edges, width `width_s`, period `period_s`."""
    v1_V: float
    v2_V: float
    delay_s: float
    rise_s: float
    fall_s: float
    width_s: float
    period_s: float

    def render(self) -> str:
        for name in ("rise_s", "fall_s", "width_s", "period_s"):
            if check_number(getattr(self, name), f"pulse {name}") <= 0:
                raise ValidationError(f"pulse {name} must be > 0")
        values = [fmt(getattr(self, f), f"pulse {f}") for f in self.__dataclass_fields__]
        return "PULSE(" + " ".join(values) + ")"


@dataclass(frozen=True)
class Pwl:
    """Piecewise-linear source from (time, value) points with strictly increasing times."""
    times_s: tuple[float, ...]
    values: tuple[float, ...]

    def render(self) -> str:
        if len(self.times_s) != len(self.values) or not self.times_s:
            raise ValidationError("PWL needs the same, non-zero number of times and values")
        times = [check_number(t, "PWL time") for t in self.times_s]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValidationError("PWL times must increase strictly")
        pairs = (f"{fmt(t)} {fmt(v, 'PWL value')}" for t, v in zip(times, self.values))
        return "PWL(" + " ".join(pairs) + ")"


Value = float | int | str | Expr | Pulse | Pwl | None


@dataclass(frozen=True)
class Element:
    """One netlist line: ``name nodes... value key=val ...``.

    `value` is a number (R, C, DC source), a subcircuit or model name (X elements), a `Pulse` or
    `Pwl` waveform, or an `Expr` for a B-source (rendered as ``V=...`` or ``I=...`` by `kind`).
    """
    name: str
    nodes: tuple[str, ...]
    value: Value = None
    params: dict[str, float] = field(default_factory=dict)
    kind: str = ""  # for B-sources: "V" or "I"

    def render(self) -> str:
        check_name(self.name, "element name")
        if self.kind not in ("", "V", "I"):
            raise ValidationError(f"element {self.name}: kind must be '', 'V' or 'I'")
        if self.value is None and self.name[0].lower() in "rclvie":
            # ngspice would silently read a value-less R as 1 mOhm: refuse it here
            raise ValidationError(f"element {self.name} needs a value")
        parts = [self.name, *(check_node(n) for n in self.nodes)]
        v = self.value
        if isinstance(v, Expr):
            if self.kind not in ("V", "I"):
                raise ValidationError(f"{self.name}: a behavioural source needs kind 'V' or 'I'")
            parts.append(f"{self.kind}={v}")
        elif isinstance(v, (Pulse, Pwl)):
            parts.append(v.render())
        elif isinstance(v, str):
            parts.append(check_name(v, f"{self.name} model"))
        elif v is not None:
            parts.append(("dc " if self.name[0] in "VvIi" else "") + fmt(v, f"{self.name} value"))
        for key, val in self.params.items():
            parts.append(f"{check_name(key, f'{self.name} parameter')}="
                         f"{fmt(val, f'{self.name}.{key}')}")
        return " ".join(parts)


@dataclass(frozen=True)
class Tran:
    """Transient analysis. `max_step_s` bounds the time step (keep it ~50-100 ps around ns pulses)."""
    step_s: float
    stop_s: float
    max_step_s: float | None = None
    uic: bool = False

    def effective_max_step(self) -> float:
        default = min(self.step_s, self.stop_s / 50)
        return self.max_step_s if self.max_step_s is not None else default

    def render(self, max_step_factor: float = 1.0) -> str:
        if check_number(self.stop_s, "tran stop") <= 0 or check_number(self.step_s, "tran step") <= 0:
            raise ValidationError("transient step and stop time must be > 0")
        tmax = self.effective_max_step() * max_step_factor
        text = f".tran {fmt(self.step_s)} {fmt(self.stop_s)} 0 {fmt(tmax, 'tran max step')}"
        return text + (" uic" if self.uic else "")


@dataclass(frozen=True)
class Sweep:
    source: str
    start: float
    stop: float
    step: float

    def points(self) -> int:
        span = check_number(self.stop, "sweep stop") - check_number(self.start, "sweep start")
        step = check_number(self.step, "sweep step")
        if step == 0 or span / step < 0:
            raise ValidationError(f"sweep of {self.source}: step {step!r} does not reach the stop value")
        return int(math.floor(span / step + 1e-9)) + 1

    def render(self) -> str:
        self.points()
        return f"{check_name(self.source, 'swept source')} {fmt(self.start)} {fmt(self.stop)} {fmt(self.step)}"


@dataclass(frozen=True)
class Dc:
    """DC sweep; the first sweep is the inner loop, an optional second one the outer loop."""
    sweeps: tuple[Sweep, ...]

    def points(self) -> int:
        return math.prod(s.points() for s in self.sweeps)

    def render(self, max_step_factor: float = 1.0) -> str:
        if not 1 <= len(self.sweeps) <= 2:
            raise ValidationError("a DC analysis takes one or two sweeps")
        return ".dc " + " ".join(s.render() for s in self.sweeps)


@dataclass(frozen=True)
class Op:
    def render(self, max_step_factor: float = 1.0) -> str:
        return ".op"


Analysis = Tran | Dc | Op


@dataclass(frozen=True)
class Rung:
    """One step of the convergence ladder: extra options and a factor on the max time step."""
    name: str
    options: dict[str, float | str] = field(default_factory=dict)
    max_step_factor: float = 1.0


DEFAULT_RUNG = Rung("default")


@dataclass
class Netlist:
    """A circuit as plain data. `render()` is the only way to netlist text."""
    name: str
    analysis: Analysis
    elements: list[Element] = field(default_factory=list)
    libraries: tuple[str, ...] = ()  # file names under models/, e.g. "mos2.lib"
    params: dict[str, float] = field(default_factory=dict)
    options: dict[str, float | str] = field(default_factory=dict)
    ic: dict[str, float] = field(default_factory=dict)  # node (may be x1.node) -> initial voltage
    saves: tuple[str, ...] = ()  # extra vectors besides all nodes, e.g. "@b.x1.xch.bch[i]"
    title: str = ""

    def add(self, name: str, nodes: tuple[str, ...] | list[str], value: Value = None,
            kind: str = "", **params: float) -> Element:
        element = Element(name, tuple(nodes), value, dict(params), kind)
        self.elements.append(element)
        return element

    def render(self, rung: Rung = DEFAULT_RUNG, models_dir: Path | str | None = None) -> str:
        """Netlist text. `models_dir` is how `.include` finds models/ (absolute by default; the
        files in netlists/ use a relative path so they run from a fresh clone)."""
        check_name(self.name, "netlist name")
        title = self.title or self.name
        if not re.fullmatch(r"[A-Za-z0-9_ ,.:;()+\-=/%]*", title):
            raise ValidationError(f"title {title!r} contains characters not allowed in a netlist")
        base = Path(models_dir) if models_dir is not None else MODELS_DIR
        lines = [f"* {title}", f"* generated by spicefet; netlist {self.name}"]
        for lib in self.libraries:
            path = str(base / check_lib_name(lib))
            if '"' in path or "\n" in path:
                raise ValidationError(f"model path {path!r} cannot be written into a netlist")
            lines.append(f'.include "{path}"')
        for key, val in self.params.items():
            lines.append(f".param {check_name(key, 'parameter')}={fmt(val, key)}")
        lines += [e.render() for e in self.elements]
        options = {**self.options, **rung.options}
        if options:
            lines.append(".options " + " ".join(_option(k, v) for k, v in options.items()))
        if self.ic:
            lines.append(".ic " + " ".join(f"v({_checked(PATH_RE, n, 'ic node')})="
                                           f"{fmt(v, f'ic of {n}')}" for n, v in self.ic.items()))
        if self.saves:
            lines.append(".save all " + " ".join(_checked(SAVE_RE, v, "saved vector")
                                                 for v in self.saves))
        lines.append(self.analysis.render(rung.max_step_factor))
        lines.append(".end")
        return "\n".join(lines) + "\n"


def _checked(pattern: re.Pattern, text: object, what: str) -> str:
    if not isinstance(text, str) or not pattern.match(text):
        raise ValidationError(f"{what} {text!r} is not allowed in a netlist")
    return text


def check_lib_name(lib: str) -> str:
    if not isinstance(lib, str) or not re.fullmatch(r"[A-Za-z0-9_]+\.lib", lib):
        raise ValidationError(f"model library {lib!r} is not a file name like 'mos2.lib'")
    return lib


def _option(key: str, value: float | str) -> str:
    check_name(key, "option")
    if isinstance(value, str):
        return f"{key}={check_name(value, f'option {key}')}"
    return f"{key}={fmt(value, f'option {key}')}"
