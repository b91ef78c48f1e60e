"""Export a pulse response to the neural-network simulators: aihwkit and NeuroSim.

``spicefet export aihwkit|neurosim PULSE.csv --out FILE`` reads a pulse-response CSV (measured,
or the simulated T-type response, `spicefet.fit.csvio.PulseData`), splits it into its
potentiation branch (positive amplitudes, with the state before the first of them) and its
depression branch (negative amplitudes, from the last potentiated state), and fits each with
NeuroSim's curve ``G(P) = B(1 - exp(-P/A)) + Gmin`` (`spicefet.measure.fit_soft_bounds`;
depression is the same curve mirrored: steep first pulses, soft bound last).

NeuroSim JSON (``neurosim``): ``NL_LTP``/``NL_LTD`` (NeuroSim's nonlinearity labels,
`measure.neurosim_nl`), ``A_LTP``/``A_LTD`` in pulses, ``maxNumLevelLTP``/``maxNumLevelLTD``
(number of pulses of each branch), ``maxConductance``/``minConductance`` [S] (the extremes of
both branches), ``conductance_ratio`` (Gmax/Gmin).

aihwkit JSON (``aihwkit``): the fields of ``SoftBoundsPmaxDevice`` - aihwkit is NOT imported
(not a dependency); build the device with ``SoftBoundsPmaxDevice(**doc["device"])``. Mapping:
the weight is the normalized conductance ``w = (G - Gmin)/(Gmax - Gmin)`` mapped onto
[w_min, w_max] = [-1, 1] (``w = -1 + 2*(G - Gmin)/(Gmax - Gmin)``); aihwkit's SoftBoundsPmax
update is ``dw = alpha*(w_max - w)`` per up pulse with ``alpha = 1/A`` (the NeuroSim curve
in the same units, starting at w_min), ``p_max`` = the number of LTP pulses; ``range_min`` /
``range_max`` = w_min / w_max. Up and down branches differ: ``alpha`` is the LTP value and
``alpha_down`` (extra key) the LTD one, and ``up_down`` = the relative asymmetry of the first
step ``(dw_up0 - dw_down0)/(dw_up0 + dw_down0)``; ``dw_min`` = the mean first step of the two
branches (in w units). ``_conductance`` records Gmin/Gmax to map weights back to siemens.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .. import measure
from ..errors import ValidationError
from ..params import write_text_atomic
from .common import Staged
from .csvio import PulseData, read_csv

FORMATS = ("aihwkit", "neurosim")
W_MIN, W_MAX = -1.0, 1.0


def branches(data: PulseData) -> tuple[np.ndarray, np.ndarray]:
    """(LTP conductances incl. the state before its first pulse, LTD conductances from the
    last LTP state). A current column is read as conductance x vread (header vread_V)."""
    g = data.g_S if data.g_S is not None else np.abs(data.i_A) / float(
        data.header.get("vread_V", 1.0))
    up = np.flatnonzero(data.amplitude_V > 0)
    down = np.flatnonzero(data.amplitude_V < 0)
    # row k is the state after pulse k: the first row (pulse 0) precedes the first pulse
    pulses = data.pulse.astype(int)
    if pulses[0] != 0:
        raise data.fail(0, "pulse", "an export needs the state before the first pulse (pulse 0)")
    up = up[pulses[up] > 0]
    if up.size < 3 or down.size < 3:
        raise ValidationError(f"{data.path}: an export needs at least 3 potentiation "
                              f"(amplitude > 0) and 3 depression (amplitude < 0) pulses")
    if np.any(np.diff(pulses) != 1):
        raise ValidationError(f"{data.path}: an export needs a read after every pulse "
                              f"(consecutive pulse numbers)")
    ltp = g[np.concatenate([[up[0] - 1], up])]
    ltd = g[np.concatenate([[down[0] - 1], down])]
    return ltp, ltd


def fit_branches(data: PulseData) -> tuple[dict, dict]:
    ltp, ltd = branches(data)
    try:
        return (measure.fit_soft_bounds(ltp, increasing=True),
                measure.fit_soft_bounds(ltd, increasing=False))
    except ValueError as err:
        raise ValidationError(f"{data.path}: {err}") from None


def neurosim(ltp: dict, ltd: dict) -> dict:
    g_max = max(ltp["g_max_S"], ltd["g_max_S"])
    g_min = min(ltp["g_min_S"], ltd["g_min_S"])
    return {"NL_LTP": ltp["nl"], "NL_LTD": ltd["nl"],
            "A_LTP": ltp["a_pulses"], "A_LTD": ltd["a_pulses"],
            "maxNumLevelLTP": int(ltp["p_max"]), "maxNumLevelLTD": int(ltd["p_max"]),
            "maxConductance": g_max, "minConductance": g_min,
            "conductance_ratio": g_max / g_min if g_min > 0 else None,
            "r2_LTP": ltp["r2"], "r2_LTD": ltd["r2"]}


def _first_step(fit: dict) -> float:
    """First-pulse change of the fitted curve in normalized units (0..1)."""
    a, p = fit["a_pulses"], fit["p_max"]
    return -math.expm1(-1.0 / a) / -math.expm1(-p / a)


def aihwkit(ltp: dict, ltd: dict) -> dict:
    span = W_MAX - W_MIN
    up0, down0 = _first_step(ltp) * span, _first_step(ltd) * span
    device = {"alpha": 1.0 / ltp["a_pulses"], "p_max": int(ltp["p_max"]),
              "w_min": W_MIN, "w_max": W_MAX, "range_min": W_MIN, "range_max": W_MAX,
              "dw_min": 0.5 * (up0 + down0), "up_down": (up0 - down0) / (up0 + down0)}
    return {"device_class": "SoftBoundsPmaxDevice", "device": device,
            "alpha_down": 1.0 / ltd["a_pulses"], "p_max_down": int(ltd["p_max"]),
            "_conductance": {"g_min_S": min(ltp["g_min_S"], ltd["g_min_S"]),
                             "g_max_S": max(ltp["g_max_S"], ltd["g_max_S"]),
                             "w_of_g": "w = w_min + (w_max - w_min)*(G - g_min_S)/(g_max_S - g_min_S)"},
            "_fit": {"ltp": ltp, "ltd": ltd}}


def export(fmt: str, csv_path: str | Path, out_path: str | Path) -> dict:
    """Fit the pulse response in `csv_path` and write the `fmt` JSON to `out_path` (staged:
    nothing is written on failure). Returns the document."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown export format {fmt!r}; formats: {', '.join(FORMATS)}")
    csv_path, out_path = Path(csv_path), Path(out_path)
    if out_path.resolve() == csv_path.resolve():
        raise ValidationError(f"{csv_path}: refusing to overwrite the data file with an output")
    if out_path.is_dir():
        raise ValidationError(f"{out_path}: is a directory, not an output file")
    data = read_csv(csv_path, "pulse")
    ltp, ltd = fit_branches(data)
    doc = {"_provenance": f"spicefet export {fmt} of {csv_path}; data provenance: "
                          f"{data.header.get('provenance', 'not stated in the file')}",
           **(neurosim(ltp, ltd) if fmt == "neurosim" else aihwkit(ltp, ltd))}
    text = json.dumps(doc, indent=2, allow_nan=False) + "\n"
    with Staged() as staged:
        staged.add(out_path, lambda tmp: write_text_atomic(tmp, text))
    return doc
