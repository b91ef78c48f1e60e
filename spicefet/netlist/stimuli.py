"""Stimulus waveforms as PWL sources: pulse trains with read windows, triangles, ramps.

Each builder returns the `Pwl` and the times that matter to the measurement (pulse starts and
ends, read instants), so an experiment samples the vectors exactly where its stimulus says.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from .core import Pwl


@dataclass(frozen=True)
class PulseTrain:
    """A gate waveform: `pwl`, and per pulse its start, end (of the falling edge) and the read
    instant before the next pulse."""
    pwl: Pwl
    starts_s: np.ndarray
    ends_s: np.ndarray
    reads_s: np.ndarray
    stop_s: float
    read_before_s: float  # instant of the read that precedes the first pulse


def pulse_train(amplitudes_V, width_s: float, edge_s: float, period_s: float,
                rest_V: float = 0.0, lead_s: float | None = None,
                read_delay_s: float | None = None, tail_s: float | None = None) -> PulseTrain:
    """Trapezoidal pulses of the given amplitudes, `width_s` at half maximum with `edge_s`
    edges, one per `period_s`, resting at `rest_V` in between. The read of pulse k is at
    `read_delay_s` after its falling edge (default: 2 edges before the next pulse)."""
    amps = np.atleast_1d(np.asarray(amplitudes_V, dtype=float))
    top = width_s - edge_s
    if top <= 0 or edge_s <= 0:
        raise ValidationError(f"pulse width {width_s:g} s must exceed its edge time {edge_s:g} s")
    busy = width_s + edge_s
    if period_s < busy + 2 * edge_s:
        raise ValidationError(f"pulse period {period_s:g} s leaves no time to read")
    lead = period_s if lead_s is None else lead_s
    delay = (period_s - busy - 2 * edge_s) if read_delay_s is None else read_delay_s
    starts = lead + period_s * np.arange(amps.size)
    times, values = [0.0], [rest_V]
    for t0, a in zip(starts, amps):
        times += [t0, t0 + edge_s, t0 + edge_s + top, t0 + busy]
        values += [rest_V, a, a, rest_V]
    ends = starts + busy
    stop = ends[-1] + (delay + 2 * edge_s if tail_s is None else tail_s)
    times.append(stop)
    values.append(rest_V)
    reads = ends + delay
    if reads[-1] > stop:
        raise ValidationError("the last read falls after the end of the waveform")
    return PulseTrain(Pwl(tuple(times), tuple(values)), starts, ends, reads, float(stop),
                      read_before_s=float(lead - edge_s))


def triangle(amplitude_V: float, quarter_s: float, cycles: int = 2) -> tuple[Pwl, float]:
    """0 -> +A -> -A -> ... -> 0: `cycles` full periods, each 4 quarters; returns (pwl, stop)."""
    times, values = [0.0, quarter_s], [0.0, amplitude_V]
    for k in range(cycles):
        times += [quarter_s * (4 * k + 3), quarter_s * (4 * k + 5)]
        values += [-amplitude_V, amplitude_V]
    times[-1] = quarter_s * (4 * cycles)  # end the last period back at 0 V
    values[-1] = 0.0
    return Pwl(tuple(times), tuple(values)), times[-1]


def segments(levels_V, rate_V_s: float) -> tuple[Pwl, np.ndarray]:
    """A PWL through the given voltages at a constant ramp rate; returns the times of each
    level (the turning points)."""
    levels = np.asarray(levels_V, dtype=float)
    dt = np.maximum(np.abs(np.diff(levels)) / rate_V_s, 1e-12)
    times = np.concatenate([[0.0], np.cumsum(dt)])
    return Pwl(tuple(times), tuple(levels)), times


def sample(t_s: np.ndarray, y: np.ndarray, at_s) -> np.ndarray:
    """Vector `y` at instants `at_s` (linear interpolation of the transient)."""
    return np.interp(np.asarray(at_s, dtype=float), t_s, y)
