"""Typed errors of spicefet.

Every error a user can cause (bad parameter, bad file) derives from `SpicefetError`, so the CLI
can print it as one line and exit non-zero. Simulation failures carry ngspice's own message.
"""
from __future__ import annotations


class SpicefetError(Exception):
    """Base class of every error spicefet raises on purpose."""


class ValidationError(SpicefetError, ValueError):
    """A value, name or file was refused before anything ran."""


class SimulationError(SpicefetError):
    """ngspice did not produce a complete, finite result.

    `netlist` is the netlist's name, `detail` ngspice's own message (the lines that say what
    went wrong, with the node or line at fault when ngspice names one), `rung` the convergence
    rung that was being tried.
    """

    def __init__(self, message: str, *, netlist: str = "", detail: str = "", rung: str = ""):
        self.netlist = netlist
        self.detail = detail.strip()
        self.rung = rung
        where = f"{netlist}: " if netlist else ""
        how = f" [rung {rung}]" if rung else ""
        tail = f": {self.detail}" if self.detail else ""
        super().__init__(f"{where}{message}{how}{tail}")


class NetlistError(SimulationError):
    """ngspice could not parse or set up the circuit (syntax, unknown model, bad node)."""


class ConvergenceError(SimulationError):
    """The analysis did not converge ('timestep too small', gmin/source stepping failed)."""


class IncompleteError(SimulationError):
    """The analysis stopped early, a vector is missing, or a vector holds NaN/inf."""


class SimulationTimeout(SimulationError):
    """ngspice did not finish within the time limit; its worker was killed."""


class WorkerCrash(SimulationError):
    """The ngspice worker process died during the run; a fresh worker serves the next run."""
