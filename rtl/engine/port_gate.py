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

__all__ = ["RegisteredStreamGate", "StreamGate"]


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


class RegisteredStreamGate(wiring.Component):
    """A :class:`StreamGate` with a register stage: the logic behind it starts at a flip-flop.

    Used on the upstream request port, whose payload feeds the address decode and every queue
    write enable in the acceptance cycle: without the register that decode hung off the pins
    (or off the requester's logic) and set the whole engine's clock (docs/fpga.md). The register
    holds one request; it takes the next one in the cycle its current one leaves, so a request
    can still be taken every cycle, one cycle later than through a plain gate.

    Parameters
    ----------
    shape : shape-castable
        The stream's payload shape.

    Members
    -------
    i : ``In(stream.Signature(shape))``
        Towards the source: ``i.ready = open & (~o.valid | o.ready)``; no path from ``i.valid``
        or ``i.payload`` to ``i.ready``.
    o : ``Out(stream.Signature(shape))``
        Towards the sink, from the register; its payload is zero while ``o.valid`` is low.
    open : ``In(1)``
        Transfers into the register allowed. A request already in the register when ``open``
        falls is cleared by the reset that closes the gate.
    """

    def __init__(self, shape):
        self.shape = shape
        signature = stream.Signature(shape)
        super().__init__({"i": In(signature), "o": Out(signature), "open": In(1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(self.open & (~self.o.valid | self.o.ready))
        with m.If(~self.o.valid | self.o.ready):
            taken = self.i.valid & self.i.ready
            m.d.sync += [
                self.o.valid.eq(taken),
                # Zero when nothing is taken: the register never holds a request it has passed on.
                self.o.payload.eq(Mux(taken, self.i.payload, 0)),
            ]
        return m
