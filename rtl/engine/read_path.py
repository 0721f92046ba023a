"""The read (decrypt) path: DRAM responses in, plaintext lines out to the response arbiter.

A DRAM response is looked up by its tag in the :class:`~rtl.engine.read_tags.ReadTagTable`.
A response whose tag has no read out at the DRAM is consumed at once and dropped, and sets the
sticky ``err_dram_rsp_tag``; one whose context is not written yet waits (``dram_rsp.ready``
low). A plaintext line goes to the plaintext-response queue. An encrypted line's first beat
enters the ``lanes`` decrypt pipelines in the cycle of its DRAM response transfer, the other
beats follow from a shift register on the next cycles, so the pipelines see a beat every cycle
when lines arrive back to back. The assembler XORs ``T_j`` (carried in the pipeline tag) back
in; the decrypted line is offered upstream in the cycle its last beat leaves the pipelines
(cut-through) and goes into the decrypted-line queue only when it is not taken at once.

The pipelines cannot stall, so a line enters them only with a place reserved in the
decrypted-line queue (a credit counter of the lines inside the pipelines).
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..aes.pipeline import AESDecryptPipeline
from ..aes.sbox import DEFAULT_SBOX
from .lanes import block_index, block_of, lane_name
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
        Passed to :class:`~rtl.aes.pipeline.AESDecryptPipeline`.
    line_queue_depth : int, optional
        Lines in the decrypted-line queue. Default: every line the pipelines can hold plus one.

    Members
    -------
    dram_rsp : ``In(stream.Signature(dram_rsp_layout(dram_tag_width)))``
        The engine's DRAM response port.
    rsp_tag, rsp_known, rsp_context_ready, rsp_encrypted, rsp_up_tag, release :
        Look-up of the response tag in the read-tag table (see
        :class:`~rtl.engine.read_tags.ReadTagTable`; directions flipped).
    context_tag, context_data :
        Context look-up for the line entering the pipelines.
    decrypted : ``Out(stream.Signature(up_rsp_layout(tag_width)))``
        Decrypted lines (``error`` OK).
    plain : ``Out(stream.Signature(up_rsp_layout(tag_width)))``
        Plaintext lines (``error`` OK).
    err_dram_rsp_tag : ``Out(1)``
        Sticky: a DRAM response arrived whose tag has no read out at the DRAM.
    """

    def __init__(self, *, tag_width=8, dram_tag_width=5, lanes=1, regs_per_round=1,
                 sbox=DEFAULT_SBOX, line_queue_depth=None):
        self.tag_width = tag_width
        self.lanes = lanes
        self.beats = 4 // lanes
        self._tag_layout = data.StructLayout({"tweak": BLOCK_BITS, "beat": 2, "up_tag": tag_width})
        self.pipelines = [AESDecryptPipeline(tag_width=self._tag_layout.size,
                                             regs_per_round=regs_per_round, sbox=sbox)
                          for _ in range(lanes)]
        self.line_queue_depth = (line_queue_depth if line_queue_depth is not None
                                 else -(-(self.latency + self.beats + 1) // self.beats) + 1)
        super().__init__({
            "dram_rsp": In(stream.Signature(dram_rsp_layout(dram_tag_width))),
            "rsp_tag": Out(dram_tag_width),
            "rsp_known": In(1),
            "rsp_context_ready": In(1),
            "rsp_encrypted": In(1),
            "rsp_up_tag": In(tag_width),
            "release": Out(1),
            "context_tag": Out(dram_tag_width),
            "context_data": In(READ_CONTEXT_LAYOUT),
            "decrypted": Out(stream.Signature(up_rsp_layout(tag_width))),
            "plain": Out(stream.Signature(up_rsp_layout(tag_width))),
            "err_dram_rsp_tag": Out(1),
        })

    @property
    def latency(self):
        """Latency of one decrypt pipeline, cycles (its declared ``latency``)."""
        return self.pipelines[0].latency

    def elaborate(self, platform):
        m = Module()
        lanes, beats = self.lanes, self.beats
        tag_layout = self._tag_layout
        line_layout = data.StructLayout({"tag": self.tag_width, "data": LINE_BITS})
        m.submodules.decrypted_lines = decrypted_lines = StreamQueue(line_layout,
                                                                     self.line_queue_depth)
        m.submodules.plain_lines = plain_lines = StreamQueue(line_layout, 2)
        for i, pipe in enumerate(self.pipelines):
            m.submodules[lane_name("decrypt_aes", i, lanes)] = pipe

        rsp = self.dram_rsp
        m.d.comb += self.rsp_tag.eq(rsp.payload.tag)
        rsp_fire = rsp.valid & rsp.ready
        known_fire = rsp_fire & self.rsp_known
        m.d.comb += self.release.eq(known_fire)
        with m.If(rsp.valid & ~self.rsp_known):
            m.d.sync += self.err_dram_rsp_tag.eq(1)

        lines_in_flight = Signal(range(self.line_queue_depth + 1))
        credit = decrypted_lines.level + lines_in_flight < self.line_queue_depth
        line_in = rsp.payload.data
        beat_bits = lanes * BLOCK_BITS
        if beats > 1:
            busy = Signal()                 # beats 1.. of the current line still to push
            beat = Signal(2)
            rest = Signal((beats - 1) * beat_bits)   # beats still to push, next in [:beat_bits]
            busy_dram_tag = Signal.like(rsp.payload.tag)
            busy_up_tag = Signal(self.tag_width)
            can_start = ~busy & credit
        else:
            can_start = credit
        m.d.comb += rsp.ready.eq(
            ~self.rsp_known
            | (self.rsp_context_ready & Mux(self.rsp_encrypted, can_start, plain_lines.w.ready)))
        start = known_fire & self.rsp_encrypted
        m.d.comb += [
            plain_lines.w.valid.eq(known_fire & ~self.rsp_encrypted),
            plain_lines.w.payload.tag.eq(self.rsp_up_tag),
            plain_lines.w.payload.data.eq(line_in),
        ]
        if beats > 1:
            # The tag stays allocated (so its context stays written) until the response
            # transfers, and a re-allocated tag's context is rewritten no earlier than L + 1
            # cycles later: reading it by busy_dram_tag for the later beats is safe.
            m.d.comb += self.context_tag.eq(Mux(busy, busy_dram_tag, rsp.payload.tag))
            with m.If(start):
                m.d.sync += [
                    busy.eq(1),
                    beat.eq(1),
                    rest.eq(line_in[beat_bits:]),
                    busy_dram_tag.eq(rsp.payload.tag),
                    busy_up_tag.eq(self.rsp_up_tag),
                ]
            with m.Elif(busy):
                m.d.sync += [beat.eq(beat + 1), rest.eq(rest[beat_bits:])]
                with m.If(beat == beats - 1):
                    m.d.sync += busy.eq(0)
            cur_beat = Mux(busy, beat, 0)
            cur_data = Mux(busy, rest[:beat_bits], line_in[:beat_bits])
            cur_up_tag = Mux(busy, busy_up_tag, self.rsp_up_tag)
            push = busy | start
        else:
            m.d.comb += self.context_tag.eq(rsp.payload.tag)
            cur_beat, cur_data, cur_up_tag, push = Const(0, 2), line_in, self.rsp_up_tag, start

        ctx = self.context_data
        for i, pipe in enumerate(self.pipelines):
            t = alpha_power(ctx.t0, block_index(cur_beat, i, lanes))
            in_tag = data.View(tag_layout, pipe.i.payload.tag)
            m.d.comb += [
                pipe.i.valid.eq(push),
                pipe.i.payload.block.eq(block_of(cur_data, i) ^ t),
                pipe.i.payload.key.eq(ctx.k1_last),
                in_tag.tweak.eq(t),
                in_tag.beat.eq(cur_beat),
                in_tag.up_tag.eq(cur_up_tag),
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
            self.plain.valid.eq(plain_lines.r.valid),
            self.plain.payload.tag.eq(plain_lines.r.payload.tag),
            self.plain.payload.data.eq(plain_lines.r.payload.data),
            self.plain.payload.error.eq(RspError.OK),
            plain_lines.r.ready.eq(self.plain.ready),
        ]
        return m
