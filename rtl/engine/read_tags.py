"""DRAM tag allocation and the per-tag read context.

Every read gets a free DRAM tag when it is accepted; the tag names the read until its DRAM
response is consumed. Per tag the table keeps: allocated, issued to DRAM and not yet answered,
encrypted, context ready, the upstream tag (flip-flops), read combinationally by tag, and
the decryption context T_0 / K1-last (a memory written when the tweak unit delivers it), read
synchronously so the decrypt pipelines start at a register.
"""

from amaranth import Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .layouts import READ_CONTEXT_LAYOUT
from .scrub import Scrubber

__all__ = ["ReadTagTable"]


class ReadTagTable(wiring.Component):
    """Tags of outstanding reads and their decryption contexts.

    Parameters
    ----------
    tag_width : int
        Upstream tag width.
    dram_tag_width : int
        DRAM tag width: ``2**dram_tag_width`` reads can be outstanding.

    Members
    -------
    alloc : ``In(stream.Signature({"encrypted", "tag"}))``
        Allocate :attr:`alloc_tag` to a read (``tag``: its upstream tag). ``ready`` is high
        while a tag is free; it depends on the table's state only.
    alloc_tag : ``Out(dram_tag_width)``
        The lowest free DRAM tag. No tag is given out while :attr:`scrubbing`.
    context : ``In(stream.Signature({"dram_tag", "context"}, always_ready=True))``
        T_0 / K1-last of an encrypted read (from the tweak unit); marks its context ready.
    issued : ``In(stream.Signature(dram_tag_width, always_ready=True))``
        The read of this tag was sent to DRAM.
    rsp_tag : ``In(dram_tag_width)``
        Tag of the DRAM response being looked at.
    rsp_known, rsp_context_ready, rsp_encrypted, rsp_up_tag : ``Out``
        About ``rsp_tag``: a read is out at DRAM under it; its context is written; it is
        encrypted; its upstream tag.
    release : ``In(1)``
        The response of ``rsp_tag`` was consumed: the tag is free from the next cycle.
    context_tag : ``In(dram_tag_width)``
        Tag whose context to read.
    context_tag_ready : ``Out(1)``
        The context of ``context_tag`` is written (combinational).
    context_read : ``In(1)``
        Read the context of ``context_tag``: :attr:`context_data` shows it from the next cycle.
    context_data : ``Out(READ_CONTEXT_LAYOUT)``
        T_0 / K1-last read in the last cycle ``context_read`` was high (held otherwise). It is
        the context of that tag only if ``context_tag_ready`` was high in that cycle.
    scrubbing : ``Out(1)``
        The contexts are being zeroed after a reset (``2**dram_tag_width`` cycles).
    """

    def __init__(self, *, tag_width=8, dram_tag_width=5):
        self.tag_width = tag_width
        self.dram_tag_width = dram_tag_width
        super().__init__({
            "alloc": In(stream.Signature(data.StructLayout({"encrypted": 1, "tag": tag_width}))),
            "alloc_tag": Out(dram_tag_width),
            "context": In(stream.Signature(data.StructLayout(
                {"dram_tag": dram_tag_width, "context": READ_CONTEXT_LAYOUT}), always_ready=True)),
            "issued": In(stream.Signature(dram_tag_width, always_ready=True)),
            "rsp_tag": In(dram_tag_width),
            "rsp_known": Out(1),
            "rsp_context_ready": Out(1),
            "rsp_encrypted": Out(1),
            "rsp_up_tag": Out(tag_width),
            "release": In(1),
            "context_tag": In(dram_tag_width),
            "context_tag_ready": Out(1),
            "context_read": In(1),
            "context_data": Out(READ_CONTEXT_LAYOUT),
            "scrubbing": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        ntags = 1 << self.dram_tag_width
        allocated = Signal(ntags)
        out_at_dram = Signal(ntags)           # issued to DRAM, not yet answered
        context_ready = Signal(ntags)
        encrypted = Signal(ntags)
        up_tags = Signal(data.ArrayLayout(self.tag_width, ntags))
        m.submodules.contexts = contexts = Memory(shape=READ_CONTEXT_LAYOUT, depth=ntags,
                                                  init=[])
        ctx_write = contexts.write_port()
        ctx_read = contexts.read_port(domain="sync", transparent_for=())
        m.submodules.scrubber = scrubber = Scrubber(ntags)
        m.d.comb += self.scrubbing.eq(scrubber.active)

        for i in reversed(range(ntags)):        # lowest free tag wins
            with m.If(~allocated[i]):
                m.d.comb += self.alloc_tag.eq(i)
        m.d.comb += self.alloc.ready.eq(~allocated.all() & ~scrubber.active)

        tag = self.alloc_tag
        with m.If(self.alloc.valid & self.alloc.ready):
            m.d.sync += [
                allocated.bit_select(tag, 1).eq(1),
                context_ready.bit_select(tag, 1).eq(~self.alloc.payload.encrypted),
                encrypted.bit_select(tag, 1).eq(self.alloc.payload.encrypted),
                up_tags[tag].eq(self.alloc.payload.tag),
            ]
        m.d.comb += [
            ctx_write.en.eq(self.context.valid),
            ctx_write.addr.eq(self.context.payload.dram_tag),
            ctx_write.data.eq(self.context.payload.context),
            ctx_read.addr.eq(self.context_tag),
            ctx_read.en.eq(self.context_read),
            self.context_data.eq(ctx_read.data),
            self.context_tag_ready.eq(context_ready.bit_select(self.context_tag, 1)),
        ]
        with m.If(scrubber.active):
            # Zero every context; read word 0 (zeroed in the first cycle) so the read register
            # ends the scrub holding zeros too.
            m.d.comb += [ctx_write.en.eq(1), ctx_write.addr.eq(scrubber.addr),
                         ctx_write.data.eq(0), ctx_read.addr.eq(0), ctx_read.en.eq(1)]
        with m.If(self.context.valid):
            m.d.sync += context_ready.bit_select(self.context.payload.dram_tag, 1).eq(1)
        with m.If(self.issued.valid):
            m.d.sync += out_at_dram.bit_select(self.issued.payload, 1).eq(1)

        rsp = self.rsp_tag
        m.d.comb += [
            self.rsp_known.eq(out_at_dram.bit_select(rsp, 1)),
            self.rsp_context_ready.eq(context_ready.bit_select(rsp, 1)),
            self.rsp_encrypted.eq(encrypted.bit_select(rsp, 1)),
            self.rsp_up_tag.eq(up_tags[rsp]),
        ]
        with m.If(self.release):
            m.d.sync += [allocated.bit_select(rsp, 1).eq(0),
                         context_ready.bit_select(rsp, 1).eq(0),
                         out_at_dram.bit_select(rsp, 1).eq(0)]
        return m
