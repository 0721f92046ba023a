"""Building blocks for formal properties written as Amaranth ``Assert``/``Assume``/``Cover``.

A formal harness is an ordinary :class:`~amaranth.hdl.Module` that instantiates the design under
test and adds properties around it. Everything here is synthesizable and runs in SymbiYosys
through :mod:`sim.formal`; nothing is simulator-only.

Naming: every property carries its name as the ``Assert``/``Assume``/``Cover`` message. The
runner reads the names back from the ``$check`` cells of the RTLIL (parameter ``FORMAT``) and
reports a failure by name and source line, so names must be unique within a harness.

Reset: a harness starts in reset (:class:`ResetTracker`) and may be reset again at any later
cycle, so every property is written to hold across a reset in the middle of traffic.
"""

from amaranth import Module, ResetSignal, Signal, Value
from amaranth.hdl import Assert, Assume, Cover
from amaranth.lib import wiring

__all__ = ["PropertySet", "ResetTracker", "ObservedStream", "free_inputs", "past", "stream_rules"]


class PropertySet:
    """The named properties of one harness, added to its module.

    Parameters
    ----------
    m : Module
        The harness module the properties go into (comb domain: checked every cycle).

    Attributes
    ----------
    names : dict
        Property name -> kind (``"assert"``, ``"assume"``, ``"cover"``).
    """

    def __init__(self, m: Module):
        self._m = m
        self.names = {}

    def _add(self, kind, cls, test, name, src_loc_at):
        if name in self.names:
            raise ValueError(f"property name {name!r} used twice in one harness")
        self.names[name] = kind
        self._m.d.comb += cls(test, name, src_loc_at=2 + src_loc_at)

    def check(self, test, name, *, src_loc_at=0):
        """Assert *test* in every cycle (the source line reported is the caller's)."""
        self._add("assert", Assert, test, name, src_loc_at)

    def assume(self, test, name, *, src_loc_at=0):
        """Constrain the environment: only traces where *test* holds are considered."""
        self._add("assume", Assume, test, name, src_loc_at)

    def cover(self, test, name, *, src_loc_at=0):
        """Show that *test* is reachable (non-vacuity of a property)."""
        self._add("cover", Cover, test, name, src_loc_at)


def free_inputs(component):
    """A new harness signal for every input of *component*: ``[(input, free signal)]``.

    The harness drives each input from its signal and makes the signals its ports, so they are
    free in the formal model. An undriven input would instead be tied to its initial value,
    hiding every behaviour that needs it.
    """
    pairs = []
    for path, member, value in component.signature.flatten(component):
        if member.flow == wiring.In:
            value = Value.cast(value)
            pairs.append((value, Signal(len(value), name="in_" + "__".join(map(str, path)))))
    return pairs


class ObservedStream:
    """A stream port as a harness observes it: ``valid``, ``ready`` and ``payload`` values,
    any of which a seeded bug may have replaced (pass it to :func:`stream_rules`)."""

    def __init__(self, valid, ready, payload):
        self.valid, self.ready, self.payload = valid, ready, payload


def past(m: Module, value, *, name):
    """*value* as it was in the previous cycle (0 in the first cycle), in a reset-less register.

    Reset-less so that a reset does not erase the history a property compares against.
    """
    value = Value.cast(value)
    reg = Signal(len(value), name=f"past_{name}", reset_less=True)
    m.d.sync += reg.eq(value)
    return reg


class ResetTracker:
    """Start the trace in reset and count the cycles since the last reset.

    The first cycle is forced into reset (an assumption on the ``sync`` reset), later resets
    are free, so the solver may reset in the middle of traffic.

    Parameters
    ----------
    m : Module
        The harness module.
    props : PropertySet
        Where the reset assumption goes.
    saturate : int
        The cycle counter stops here (properties only ask "fewer than N cycles since reset").

    Attributes
    ----------
    rst : Value
        The ``sync`` reset in this cycle.
    past_rst : Signal
        The reset was asserted in the previous cycle (registers hold their reset values now).
    cycles : Signal
        Cycles since the reset was last released, saturating at *saturate*: 0 in the first
        cycle after reset.
    """

    def __init__(self, m: Module, props: PropertySet, *, saturate=255):
        self.rst = ResetSignal()
        started = Signal(name="trace_started", reset_less=True)
        m.d.sync += started.eq(1)
        props.assume(self.rst | started, "trace_starts_in_reset")
        self.past_rst = past(m, self.rst, name="rst")
        self.cycles = Signal(range(saturate + 1), name="cycles_since_reset", reset_less=True)
        with m.If(self.rst):
            m.d.sync += self.cycles.eq(0)
        with m.Elif(self.cycles != saturate):
            m.d.sync += self.cycles.eq(self.cycles + 1)


def stream_rules(m: Module, props: PropertySet, resets: ResetTracker, port, *, name, role):
    """The ``lib.stream`` rules on one port: once ``valid`` is high it stays high, with the same
    payload, until the transfer (``ready``) happens.

    Parameters
    ----------
    port : stream.Interface
        The port as seen from the harness (the DUT's member).
    name : str
        Prefix of the property names.
    role : {"input", "output"}
        ``"input"``: the rule is assumed of the environment driving the DUT;
        ``"output"``: the rule is asserted of the DUT.

    Returns
    -------
    Value
        "The port is holding a stalled transfer in this cycle", for covers.
    """
    if role not in ("input", "output"):
        raise ValueError(f"role must be 'input' or 'output', not {role!r}")
    stalled = past(m, port.valid & ~port.ready, name=f"{name}_stalled")
    payload = Value.cast(port.payload)
    held_payload = past(m, payload, name=f"{name}_payload")
    # A reset aborts a transfer: in the reset cycle nothing is offered, and after it the DUT's
    # registers start afresh; no promise spans a reset.
    holding = stalled & ~resets.past_rst & ~resets.rst
    rule = ~holding | (port.valid & (payload == held_payload))
    if role == "input":
        props.assume(rule, f"{name}_stream_rule", src_loc_at=1)
    else:
        props.check(rule, f"{name}_stream_rule", src_loc_at=1)
    return holding
