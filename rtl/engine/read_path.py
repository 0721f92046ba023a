"""The read (decrypt) path: DRAM responses in, plaintext lines out to the response arbiter.

The ``dram_rsp`` port is registered: a response is taken into the *head* register (or, while
the head is busy, into a second *skid* register), so ``dram_rsp.ready`` is a register output
that never depends on the response offered, and the decrypt pipelines start at registers. The
head is looked up by its tag in the :class:`~rtl.engine.read_tags.ReadTagTable`, whose
context memory is read in the same edge that loads the head:

- a response whose tag has no read out at the DRAM is dropped and sets the sticky
  ``err_dram_rsp_tag``;
- a plaintext line is offered upstream from the head (one cycle after the DRAM response);
- an encrypted line's first beat enters the ``lanes`` decrypt pipelines in the cycle after
  its DRAM response (once its context is written: a context written after the head loaded is
  read again), the other beats on the next cycles, so the pipelines see a beat every cycle
  when lines arrive back to back. The assembler XORs ``T_j`` (carried in the pipeline tag)
  back in; the decrypted line is offered upstream in the cycle its last beat leaves the
  pipelines (cut-through) and goes into the decrypted-line queue only when not taken at once.

The pipelines cannot stall, so a line enters them only with a place reserved in the
decrypted-line queue (a credit counter of the lines inside the pipelines).
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..aes.pipeline import AESDecryptPipeline
from ..aes.sbox import DEFAULT_SBOX
from .lanes import block_index, block_of, lane_name, pipeline_options
from .layouts import BLOCK_BITS, LINE_BITS, READ_CONTEXT_LAYOUT, RspError, dram_rsp_layout, up_rsp_layout
from .stream_queue import StreamQueue
from .tweak import alpha_power

__all__ = ["DecryptPath"]


class DecryptPath(wiring.Component):
    """DRAM response handling, decrypt pipelines, decrypted and plaintext response queues.

    Parameters
    ----------
    tag_width, dram_tag_width : int
        Upstream and DRAM tag widths.
    lanes : {1, 2, 4}
        Decrypt pipelines side by side; a line takes ``4 // lanes`` cycles.
    regs_per_round, sbox :
        Passed to the pipeline factory.
    line_queue_depth : int, optional
        Lines in the decrypted-line queue. Default: every line the pipelines can hold plus one.
    pipeline : callable
        Builds each decrypt pipeline (called with ``tag_width``, ``regs_per_round``, ``sbox``):
        :class:`~rtl.aes.pipeline.AESDecryptPipeline`, or a model with its signature and
        ``latency`` (verif/formal/aes_model.py).

    Members
    -------
    dram_rsp : ``In(stream.Signature(dram_rsp_layout(dram_tag_width)))``
        The engine's DRAM response port; ``ready`` is a register.
    rsp_tag, rsp_known, rsp_context_ready, rsp_encrypted, rsp_up_tag, release :
        Look-up of the response tag in the read-tag table (see
        :class:`~rtl.engine.read_tags.ReadTagTable`; directions flipped).
    context_tag, context_tag_ready, context_read, context_data :
        Context read for the head (see :class:`~rtl.engine.read_tags.ReadTagTable`).
    decrypted : ``Out(stream.Signature(up_rsp_layout(tag_width)))``
        Decrypted lines (``error`` OK).
    plain : ``Out(stream.Signature(up_rsp_layout(tag_width)))``
        Plaintext lines (``error`` OK), offered from the head register.
    err_dram_rsp_tag : ``Out(1)``
        Sticky: a DRAM response arrived whose tag has no read out at the DRAM.
    scrubbing : ``Out(1)``
        Its queues are being zeroed after a reset (:class:`~rtl.engine.scrub.Scrubber`).

    Attributes
    ----------
    decrypted_lines : StreamQueue
        Decrypted lines not taken in the cycle they left the pipelines.
    lines_in_flight : Signal
        The credit counter: lines inside the pipelines, each with a place reserved in
        ``decrypted_lines`` (verif/formal/engine.py checks it).
    """

    def __init__(self, *, tag_width=8, dram_tag_width=5, lanes=1, regs_per_round=1,
                 sbox=DEFAULT_SBOX, line_queue_depth=None, pipeline=AESDecryptPipeline):
        self.tag_width = tag_width
        self.lanes = lanes
        self.beats = 4 // lanes
        self._tag_layout = data.StructLayout({"tweak": BLOCK_BITS, "beat": 2, "up_tag": tag_width})
        self.pipelines = [pipeline(tag_width=self._tag_layout.size,
                                   regs_per_round=regs_per_round, sbox=sbox,
                                   **pipeline_options(lanes, regs_per_round))
                          for _ in range(lanes)]
        self.line_queue_depth = (line_queue_depth if line_queue_depth is not None
                                 else -(-(self.latency + self.beats + 1) // self.beats) + 1)
        self.decrypted_lines = StreamQueue(
            data.StructLayout({"tag": tag_width, "data": LINE_BITS}), self.line_queue_depth)
        self.lines_in_flight = Signal(range(self.line_queue_depth + 1))
        super().__init__({
            "dram_rsp": In(stream.Signature(dram_rsp_layout(dram_tag_width))),
            "rsp_tag": Out(dram_tag_width),
            "rsp_known": In(1),
            "rsp_context_ready": In(1),
            "rsp_encrypted": In(1),
            "rsp_up_tag": In(tag_width),
            "release": Out(1),
            "context_tag": Out(dram_tag_width),
            "context_tag_ready": In(1),
            "context_read": Out(1),
            "context_data": In(READ_CONTEXT_LAYOUT),
            "decrypted": Out(stream.Signature(up_rsp_layout(tag_width))),
            "plain": Out(stream.Signature(up_rsp_layout(tag_width))),
            "err_dram_rsp_tag": Out(1),
            "scrubbing": Out(1),
        })

    @property
    def latency(self):
        """Latency of one decrypt pipeline, cycles (its declared ``latency``)."""
        return self.pipelines[0].latency

    def elaborate(self, platform):
        m = Module()
        lanes, beats = self.lanes, self.beats
        tag_layout = self._tag_layout
        m.submodules.decrypted_lines = decrypted_lines = self.decrypted_lines
        for i, pipe in enumerate(self.pipelines):
            m.submodules[lane_name("decrypt_aes", i, lanes)] = pipe

        # Response registers: head (being processed) and skid (taken while the head was busy).
        rsp = self.dram_rsp
        rsp_layout = rsp.payload.shape()
        head = Signal(rsp_layout)
        head_valid = Signal()
        head_context_ok = Signal()      # context_data holds the head's context
        skid = Signal(rsp_layout)
        skid_valid = Signal()
        head_done = Signal()            # the head leaves in this cycle
        m.d.comb += rsp.ready.eq(~skid_valid)
        incoming = rsp.valid & rsp.ready
        load = ~head_valid | head_done
        with m.If(load):
            m.d.sync += head_valid.eq(skid_valid | incoming)
            with m.If(skid_valid):
                m.d.sync += [head.eq(skid), skid_valid.eq(0)]
            with m.Else():
                m.d.sync += head.eq(rsp.payload)
        with m.Elif(incoming):
            m.d.sync += [skid.eq(rsp.payload), skid_valid.eq(1)]

        m.d.comb += self.rsp_tag.eq(head.tag)
        known = head_valid & self.rsp_known
        encrypted = known & self.rsp_encrypted
        with m.If(head_valid & ~self.rsp_known):
            m.d.sync += self.err_dram_rsp_tag.eq(1)

        # The context memory is read in the edge that loads the head, or again once the head's
        # context is written if it was not yet.
        reread = encrypted & ~head_context_ok & self.rsp_context_ready & ~load
        m.d.comb += [
            self.context_tag.eq(Mux(reread, head.tag, Mux(skid_valid, skid.tag, rsp.payload.tag))),
            self.context_read.eq(load | reread),
        ]
        m.d.sync += head_context_ok.eq(Mux(load, self.context_tag_ready,
                                           head_context_ok | reread))

        lines_in_flight = self.lines_in_flight
        credit = decrypted_lines.level + lines_in_flight < self.line_queue_depth
        beat_bits = lanes * BLOCK_BITS
        beat = Signal(2)                                  # next beat of the head's line
        start = encrypted & head_context_ok & (beat == 0) & credit
        push = start | (beat != 0)
        last = beat == beats - 1
        if beats > 1:
            # The head's line shifts down a beat after each push, so the next beat's blocks
            # are always at the bottom (no multiplexer in front of the pipelines).
            with m.If(push):
                m.d.sync += beat.eq(Mux(last, 0, beat + 1))
                with m.If(~last):
                    m.d.sync += head.data.eq(head.data[beat_bits:])

        # A plaintext line is offered from the head; a stray response is dropped at once.
        plain = self.plain
        m.d.comb += [
            plain.valid.eq(known & ~self.rsp_encrypted),
            plain.payload.tag.eq(self.rsp_up_tag),
            plain.payload.data.eq(head.data),
            plain.payload.error.eq(RspError.OK),
            head_done.eq((head_valid & ~self.rsp_known) | (plain.valid & plain.ready)
                         | (push & last)),
            self.release.eq(head_done & known),
        ]

        ctx = self.context_data
        for i, pipe in enumerate(self.pipelines):
            t = alpha_power(ctx.t0, block_index(beat, i, lanes))
            in_tag = data.View(tag_layout, pipe.i.payload.tag)
            m.d.comb += [
                pipe.i.valid.eq(push),
                pipe.i.payload.block.eq(block_of(head.data, i) ^ t),
                pipe.i.payload.key.eq(ctx.k1_last),
                in_tag.tweak.eq(t),
                in_tag.beat.eq(beat),
                in_tag.up_tag.eq(self.rsp_up_tag),
            ]

        out_tag = data.View(tag_layout, self.pipelines[0].o.payload.tag)
        blocks = Cat(*(p.o.payload.block ^ data.View(tag_layout, p.o.payload.tag).tweak
                       for p in self.pipelines))
        line_done = self.pipelines[0].o.valid & (out_tag.beat == beats - 1)
        if beats > 1:
            earlier = Signal((beats - 1) * beat_bits)
            with m.If(self.pipelines[0].o.valid & ~line_done):
                m.d.sync += earlier.word_select(out_tag.beat, beat_bits).eq(blocks)
            line = Cat(earlier, blocks)
        else:
            line = blocks
        m.d.sync += lines_in_flight.eq(lines_in_flight + start - line_done)

        # Cut-through: the line is offered in the cycle it leaves the pipelines while the
        # queue is empty; it is written to the queue unless taken at once, and a stalled offer
        # is then held from the queue with the same payload.
        out = self.decrypted
        queued = decrypted_lines.r
        m.d.comb += [
            out.valid.eq(queued.valid | line_done),
            out.payload.tag.eq(Mux(queued.valid, queued.payload.tag, out_tag.up_tag)),
            out.payload.data.eq(Mux(queued.valid, queued.payload.data, line)),
            out.payload.error.eq(RspError.OK),
            queued.ready.eq(out.ready),
            decrypted_lines.w.valid.eq(line_done & ~(out.ready & ~queued.valid)),
            decrypted_lines.w.payload.tag.eq(out_tag.up_tag),
            decrypted_lines.w.payload.data.eq(line),
        ]
        m.d.comb += self.scrubbing.eq(decrypted_lines.scrubbing)
        return m

