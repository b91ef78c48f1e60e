"""Small reference circuits for engine tests and benchmarks (built with the netlist writer)."""
from __future__ import annotations

from .core import Dc, Expr, Netlist, Pulse, Sweep, Tran


def diode_rc(stop_s: float = 20e-9, max_step_s: float | None = None) -> Netlist:
    """A pulse into R + exponential diode + C: nonlinear, stiff enough to be interesting."""
    n = Netlist("diode_rc", Tran(1e-11, stop_s, max_step_s))
    n.add("v1", ("a", "0"), Pulse(0, 5, 1e-9, 1e-10, 1e-10, 5e-9, 20e-9))
    n.add("r1", ("a", "n"), 1e3)
    n.add("b1", ("n", "0"), Expr("1e-12*(exp(min(V(n)/0.026, 80)) - 1)"), kind="I")
    n.add("c1", ("n", "0"), 1e-12)
    return n


def nested_dc(points_inner: int = 101, points_outer: int = 11) -> Netlist:
    """A nested DC sweep of a B-source network."""
    n = Netlist("nested_dc", Dc((Sweep("va", 0, 1, 1 / (points_inner - 1)),
                                 Sweep("vb", 0, 1, 1 / (points_outer - 1)))))
    n.add("va", ("a", "0"), 0.0)
    n.add("vb", ("b", "0"), 0.0)
    n.add("b1", ("o", "0"), Expr("tanh(3*V(a)) * V(b) + 0.1*V(a)*V(a)"), kind="V")
    n.add("r1", ("o", "0"), 1e3)
    return n


def stuck_inductor() -> Netlist:
    """An inductor driven into a current step: ngspice fails with 'timestep too small'."""
    n = Netlist("stuck_inductor", Tran(1e-12, 10e-9))
    n.add("v1", ("a", "0"), Pulse(0, 1, 1e-9, 1e-15, 1e-15, 1e-9, 2e-9))
    n.add("l1", ("a", "b"), 1e-6)
    n.add("b1", ("b", "0"), Expr("1e3*u(V(b))"), kind="I")
    return n


def slow_transient() -> Netlist:
    """A transient that takes far longer than a second (tiny max step over a long span)."""
    n = Netlist("slow_transient", Tran(1e-12, 1.0, 1e-12))
    n.add("v1", ("a", "0"), Pulse(0, 1, 0, 1e-9, 1e-9, 1e-3, 2e-3))
    n.add("b1", ("n", "0"), Expr("tanh(V(a))"), kind="V")
    n.add("r1", ("n", "0"), 1e3)
    return n
