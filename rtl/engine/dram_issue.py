"""DRAM issue: the order-queue head becomes a DRAM request, a completion, or an error response.

Requests leave strictly from the head of the order queue, so requests to one line reach DRAM
in acceptance order. A read goes out at once; a plaintext write carries its own data; an
encrypted write waits for its line at the head of the ciphertext stream. A write completes
(its upstream response is queued) when DRAM accepts it; an errored request leaves the queue
without touching DRAM and queues its error response.
"""

from amaranth import Module, Mux
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import (
    LINE_BITS,
    OrderKind,
    RspError,
    completion_layout,
    dram_req_layout,
    order_entry_layout,
    up_rsp_layout,
)
from .stream_queue import StreamQueue

__all__ = ["DramIssue"]


class DramIssue(wiring.Component):
    """In-order DRAM issue from the order queue, and the completion queue.

    Parameters
    ----------
    pa_width, tag_width, dram_tag_width : int
        Widths of the DRAM address, the upstream tag and the DRAM tag.
    completion_depth : int
        Entries of the completion queue (write completions and error responses).

    Members
    -------
    order : ``In(stream.Signature(order_entry_layout(...)))``
        Accepted requests, oldest first.
    ciphertext : ``In(stream.Signature(LINE_BITS))``
        Encrypted writes' lines, in the order of their order-queue entries.
    dram_req : ``Out(stream.Signature(dram_req_layout(...)))``
        The engine's DRAM request port.
    read_issued : ``Out(stream.Signature(dram_tag_width, always_ready=True))``
        The DRAM tag of a read DRAM accepted.
    completion : ``Out(stream.Signature(up_rsp_layout(tag_width)))``
        Write completions and error responses (``data`` 0).
    """

    def __init__(self, *, pa_width=48, tag_width=8, dram_tag_width=5, completion_depth=4):
        self.completion_depth = completion_depth
        self.tag_width = tag_width
        super().__init__({
            "order": In(stream.Signature(order_entry_layout(pa_width, tag_width,
                                                            dram_tag_width))),
            "ciphertext": In(stream.Signature(LINE_BITS)),
            "dram_req": Out(stream.Signature(dram_req_layout(pa_width, dram_tag_width))),
            "read_issued": Out(stream.Signature(dram_tag_width, always_ready=True)),
            "completion": Out(stream.Signature(up_rsp_layout(tag_width))),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.completions = completions = StreamQueue(completion_layout(self.tag_width),
                                                             self.completion_depth)
        head = self.order.payload
        kind = head.kind
        is_write = (kind == OrderKind.WRITE_PLAIN) | (kind == OrderKind.WRITE_ENCRYPTED)
        with m.Switch(kind):
            with m.Case(OrderKind.READ):
                m.d.comb += self.dram_req.valid.eq(self.order.valid)
            with m.Case(OrderKind.WRITE_PLAIN):
                m.d.comb += self.dram_req.valid.eq(self.order.valid & completions.w.ready)
            with m.Case(OrderKind.WRITE_ENCRYPTED):
                m.d.comb += self.dram_req.valid.eq(self.order.valid & completions.w.ready
                                                   & self.ciphertext.valid)
        m.d.comb += [
            self.dram_req.payload.addr.eq(head.addr),
            self.dram_req.payload.write.eq(is_write),
            self.dram_req.payload.tag.eq(head.dram_tag),
            self.dram_req.payload.data.eq(Mux(kind == OrderKind.WRITE_ENCRYPTED,
                                              self.ciphertext.payload, head.data)),
        ]
        issued = self.dram_req.valid & self.dram_req.ready
        error_leaves = self.order.valid & (kind == OrderKind.ERROR) & completions.w.ready
        m.d.comb += [
            self.read_issued.valid.eq(issued & (kind == OrderKind.READ)),
            self.read_issued.payload.eq(head.dram_tag),
            self.order.ready.eq(issued | error_leaves),
            self.ciphertext.ready.eq(issued & (kind == OrderKind.WRITE_ENCRYPTED)),
            completions.w.valid.eq((issued & is_write) | error_leaves),
            completions.w.payload.tag.eq(head.tag),
            completions.w.payload.error.eq(Mux(error_leaves, head.error, RspError.OK)),
            self.completion.valid.eq(completions.r.valid),
            self.completion.payload.tag.eq(completions.r.payload.tag),
            self.completion.payload.error.eq(completions.r.payload.error),
            completions.r.ready.eq(self.completion.ready),
        ]
        return m
