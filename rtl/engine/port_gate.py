"""The gate on each of the engine's stream ports: closed during reset and the scrub after it.

While a reset is asserted the engine's registers are being cleared in the same cycle, and
during the scrub after it the memories are; a handshake made then would be lost (a request
taken and forgotten, a response given twice). The gate makes that impossible at the port
itself, whatever the components behind it do: while closed, ``valid`` and ``ready`` are low
on both sides. It also gives every payload a defined value when nothing is transferred: zero
whenever ``valid`` is low, so an idle port shows no data (docs/security.md G4) and the logic
behind an input port sees no pin activity without a request.
"""

from amaranth import Module, Mux
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["StreamGate"]


class StreamGate(wiring.Component):
    """Passes a stream while ``open``; payloads are zero while ``valid`` is low.

    Parameters
    ----------
    shape : shape-castable
        The stream's payload shape.
    always_ready : bool
        The stream has no ``ready`` (``lib.stream`` rule).

    Members
    -------
    i : ``In(stream.Signature(shape))``
        Towards the source.
    o : ``Out(stream.Signature(shape))``
        Towards the sink: ``o.valid = i.valid & open``, ``i.ready = o.ready & open``,
        ``o.payload = i.payload`` while ``o.valid`` and zero otherwise.
    open : ``In(1)``
        Transfers allowed.
    """

    def __init__(self, shape, *, always_ready=False):
        self.shape = shape
        signature = stream.Signature(shape, always_ready=always_ready)
        super().__init__({"i": In(signature), "o": Out(signature), "open": In(1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [
            self.o.valid.eq(self.i.valid & self.open),
            self.o.payload.eq(Mux(self.o.valid, self.i.payload, 0)),
        ]
        if not self.i.signature.always_ready:
            m.d.comb += self.i.ready.eq(self.o.ready & self.open)
        return m

