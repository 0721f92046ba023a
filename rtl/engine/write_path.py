"""The write (encrypt) path: plaintext lines and their tweaks in, ciphertext lines out.

An encrypted write's plaintext waits in the write-data queue from acceptance, its T_0 and K1
in the write-tweak queue from the cycle the tweak unit delivers them. The encrypt sequencer
pushes a line's blocks ``P_j ^ T_j`` into the ``lanes`` encrypt pipelines on ``4 // lanes``
consecutive cycles (beats), through a register, so a pipeline's first stage starts at a
register rather than at the queues' read ports; the assembler XORs ``T_j`` (carried in the
pipeline tag) back in and writes the 512-bit ciphertext into the ciphertext queue, whose head
the DRAM issue sends.
Lines keep their acceptance order throughout.

The pipelines cannot stall, so a line enters them only with a place reserved in the
ciphertext queue (a credit counter of the lines inside the pipelines).
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..aes.pipeline import AESEncryptPipeline
from ..aes.sbox import DEFAULT_SBOX
from .lanes import block_index, block_of, lane_name, pipeline_options
from .layouts import BLOCK_BITS, LINE_BITS, WRITE_TWEAK_LAYOUT
from .stream_queue import StreamQueue
from .tweak import alpha_power

__all__ = ["EncryptPath"]

_BLOCK_TAG = data.StructLayout({"tweak": BLOCK_BITS, "beat": 2})


class EncryptPath(wiring.Component):
    """Write-data and write-tweak queues, encrypt pipelines, ciphertext queue.

    Parameters
    ----------
    lanes : {1, 2, 4}
        Encrypt pipelines side by side; a line takes ``4 // lanes`` cycles.
    regs_per_round, sbox :
        Passed to the pipeline factory.
    write_depth : int
        Lines in the write-data and write-tweak queues.
    line_queue_depth : int, optional
        Lines in the ciphertext queue. Default: every line the input registers and the
        pipelines can hold plus one, enough for a line every ``4 // lanes`` cycles.

    Members
    -------
    plaintext : ``In(stream.Signature(LINE_BITS))``
        Plaintext lines of encrypted writes, in acceptance order.
    tweak : ``In(stream.Signature(WRITE_TWEAK_LAYOUT, always_ready=True))``
        T_0 and K1 of the same writes, in the same order. Never refused: there are never more
        tweaks than plaintext lines waiting, and both queues have ``write_depth`` entries.
    ciphertext : ``Out(stream.Signature(LINE_BITS))``
        Ciphertext lines, in the same order.
    scrubbing : ``Out(1)``
        Its queues are being zeroed after a reset (:class:`~rtl.engine.scrub.Scrubber`).

    Attributes
    ----------
    write_data, write_tweaks, ciphertexts : StreamQueue
        The three queues.
    lines_in_flight : Signal
        The credit counter: lines inside the pipelines, each with a place reserved in
        ``ciphertexts`` (the formal harness checks it, verif/formal/engine.py).
    """

    def __init__(self, *, lanes=1, regs_per_round=1, sbox=DEFAULT_SBOX, write_depth=8,
                 line_queue_depth=None, pipeline=AESEncryptPipeline):
        self.lanes = lanes
        self.beats = 4 // lanes
        self.write_depth = write_depth
        self.pipelines = [pipeline(tag_width=_BLOCK_TAG.size, regs_per_round=regs_per_round,
                                   sbox=sbox, **pipeline_options(lanes, regs_per_round))
                          for _ in range(lanes)]
        self.line_queue_depth = (line_queue_depth if line_queue_depth is not None
                                 else -(-(self.latency + self.beats + 2) // self.beats) + 1)
        self.write_data = StreamQueue(LINE_BITS, write_depth)
        self.write_tweaks = StreamQueue(WRITE_TWEAK_LAYOUT, write_depth)
        self.ciphertexts = StreamQueue(LINE_BITS, self.line_queue_depth)
        self.lines_in_flight = Signal(range(self.line_queue_depth + 1))
        super().__init__({
            "plaintext": In(stream.Signature(LINE_BITS)),
            "tweak": In(stream.Signature(WRITE_TWEAK_LAYOUT, always_ready=True)),
            "ciphertext": Out(stream.Signature(LINE_BITS)),
            "scrubbing": Out(1),
        })

    @property
    def latency(self):
        """Latency of one encrypt pipeline, cycles (its declared ``latency``)."""
        return self.pipelines[0].latency

    def elaborate(self, platform):
        m = Module()
        lanes, beats = self.lanes, self.beats
        m.submodules.write_data = write_data = self.write_data
        m.submodules.write_tweaks = write_tweaks = self.write_tweaks
        m.submodules.ciphertexts = ciphertexts = self.ciphertexts
        wiring.connect(m, wiring.flipped(self.plaintext), write_data.w)
        wiring.connect(m, ciphertexts.r, wiring.flipped(self.ciphertext))
        m.d.comb += [write_tweaks.w.valid.eq(self.tweak.valid),
                     write_tweaks.w.payload.eq(self.tweak.payload)]
        for i, pipe in enumerate(self.pipelines):
            m.submodules[lane_name("encrypt_aes", i, lanes)] = pipe

        # Encrypt sequencer: beat k of a line pushes blocks k*lanes .. k*lanes + lanes-1, one
        # per pipeline; the pipelines run in lock step, so lane 0's tag tells the beat.
        beat = Signal(2)                                     # next beat of the current line
        lines_in_flight = self.lines_in_flight
        start = ((beat == 0) & write_tweaks.r.valid
                 & (ciphertexts.level + lines_in_flight < self.line_queue_depth))
        push = (beat != 0) | start
        last = beat == beats - 1
        tweak = write_tweaks.r.payload
        for i, pipe in enumerate(self.pipelines):
            j = block_index(beat, i, lanes)
            t = alpha_power(tweak.t0, j)
            to_pipeline = Signal.like(pipe.i.payload, name=f"to_pipeline{i}")
            to_pipeline_valid = Signal(name=f"to_pipeline{i}_valid")
            in_tag = data.View(_BLOCK_TAG, to_pipeline.tag)
            m.d.sync += [
                to_pipeline_valid.eq(push),
                to_pipeline.block.eq(block_of(write_data.r.payload, j) ^ t),
                to_pipeline.key.eq(tweak.k1),
                in_tag.tweak.eq(t),
                in_tag.beat.eq(beat),
            ]
            m.d.comb += [pipe.i.valid.eq(to_pipeline_valid), pipe.i.payload.eq(to_pipeline)]
        with m.If(push):
            m.d.sync += beat.eq(Mux(last, 0, beat + 1))
        m.d.comb += [write_tweaks.r.ready.eq(push & last), write_data.r.ready.eq(push & last)]

        # Assembler: earlier beats wait in a register, the last one completes the line.
        out_beat = data.View(_BLOCK_TAG, self.pipelines[0].o.payload.tag).beat
        blocks = Cat(*(p.o.payload.block ^ data.View(_BLOCK_TAG, p.o.payload.tag).tweak
                       for p in self.pipelines))
        line_done = self.pipelines[0].o.valid & (out_beat == beats - 1)
        if beats > 1:
            earlier = Signal((beats - 1) * lanes * BLOCK_BITS)
            with m.If(self.pipelines[0].o.valid & ~line_done):
                m.d.sync += earlier.word_select(out_beat, lanes * BLOCK_BITS).eq(blocks)
            line = Cat(earlier, blocks)
        else:
            line = blocks
        m.d.comb += [ciphertexts.w.valid.eq(line_done), ciphertexts.w.payload.eq(line)]
        m.d.sync += lines_in_flight.eq(lines_in_flight + (start & push) - line_done)
        m.d.comb += self.scrubbing.eq(write_data.scrubbing | write_tweaks.scrubbing | ciphertexts.scrubbing)
        return m
