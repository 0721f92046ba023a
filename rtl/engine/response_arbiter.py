"""Round-robin merge of the engine's upstream response sources into ``up_rsp``.

The sources are the decrypted reads, the plaintext reads and the completions (write
completions and error responses). The source offered on ``up_rsp`` is chosen round-robin
among those with a response and held while ``up_rsp`` is stalled, so the offered payload never
changes before it is taken (``lib.stream`` rule).
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import up_rsp_layout

__all__ = ["ResponseArbiter"]


class ResponseArbiter(wiring.Component):
    """Round-robin arbiter of response streams, choice held while the output is stalled.

    Parameters
    ----------
    tag_width : int
        Upstream tag width.
    sources : tuple of str
        Names of the input streams, in round-robin order.

    Members
    -------
    <source> : ``In(stream.Signature(up_rsp_layout(tag_width)))``, one per name in ``sources``
        Responses of one source. A source must hold ``valid`` and its payload until taken.
    up_rsp : ``Out(stream.Signature(up_rsp_layout(tag_width)))``
        The merged responses.
    """

    def __init__(self, *, tag_width=8, sources=("decrypted", "plain", "completion")):
        self.sources = tuple(sources)
        members = {name: In(stream.Signature(up_rsp_layout(tag_width))) for name in sources}
        members["up_rsp"] = Out(stream.Signature(up_rsp_layout(tag_width)))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        n = len(self.sources)
        inputs = [getattr(self, name) for name in self.sources]
        out = self.up_rsp

        pointer = Signal(range(n))          # source with the highest priority next time
        held = Signal()                     # a stalled offer is being held
        held_source = Signal(range(n))
        pick = Signal(range(n))
        for offset in reversed(range(n)):
            for p in range(n):
                s = (p + offset) % n
                with m.If((pointer == p) & inputs[s].valid):
                    m.d.comb += pick.eq(s)
        selected = Mux(held, held_source, pick)
        with m.Switch(selected):
            for s, source in enumerate(inputs):
                with m.Case(s):
                    m.d.comb += [
                        out.valid.eq(source.valid),
                        out.payload.eq(source.payload),
                        source.ready.eq(out.ready),
                    ]
        with m.If(out.valid & out.ready):
            m.d.sync += [held.eq(0), pointer.eq(Mux(selected == n - 1, 0, selected + 1))]
        with m.Elif(out.valid):
            m.d.sync += [held.eq(1), held_source.eq(selected)]
        return m
