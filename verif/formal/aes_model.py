"""An abstraction of the AES pipelines for formal proofs: their timing without their cipher.

A full AES-128 pipeline is 10 rounds of 128-bit S-box logic; three of them in the solver make
an engine-level proof intractable, and none of the engine-level properties depends on what the
cipher computes, only on when a block enters and leaves. :class:`AESPipelineModel` has the
pipelines' signature (:func:`rtl.aes.pipeline.input_layout` in, ``output_layout`` out, both
``always_ready``) and their contract: a block entering with ``i.valid`` leaves exactly
:attr:`latency` cycles later with ``o.valid`` and its tag, every stage loads only for a valid
block and a reset clears it. The "cipher" is ``block ^ key``: a bijection for each key, so the
output still depends on both the data and the key the block entered with.

The engine accepts it through its ``encrypt_pipeline``/``decrypt_pipeline`` factories and, for
the tweak, ``TweakUnit(pipeline=...)`` (verif/formal/engine.py). The latency is a parameter: the
engine's queue depths and credit counters are computed from the declared latency, so a short
one keeps the traces short without changing the logic under proof.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.aes.pipeline import input_layout, output_layout

__all__ = ["AESPipelineModel", "LastRoundKeyModel", "pipeline_model"]


class AESPipelineModel(wiring.Component):
    """A pipeline of ``latency`` register stages computing ``block ^ key``.

    Parameters
    ----------
    tag_width : int
        Sideband carried with the block.
    regs_per_round, sbox, blocks_per_key :
        Accepted for signature compatibility with the AES pipelines, and ignored.
    latency : int
        Register stages (at least 1).

    Members
    -------
    i : ``In(stream.Signature(input_layout(tag_width), always_ready=True))``
    o : ``Out(stream.Signature(output_layout(tag_width), always_ready=True))``
    """

    def __init__(self, *, tag_width=0, regs_per_round=1, sbox=None, blocks_per_key=1,
                 latency=2):
        if not isinstance(latency, int) or latency < 1:
            self._MustUse__silence = True  # never elaborated
            raise ValueError(f"latency must be a positive int, not {latency!r}")
        self.tag_width = tag_width
        self._latency = latency
        super().__init__({
            "i": In(stream.Signature(input_layout(tag_width), always_ready=True)),
            "o": Out(stream.Signature(output_layout(tag_width), always_ready=True)),
        })

    @property
    def latency(self):
        """Cycles from ``i.valid`` to the matching ``o.valid``."""
        return self._latency

    def elaborate(self, platform):
        m = Module()
        valid = self.i.valid
        block = self.i.payload.block ^ self.i.payload.key
        tag = self.i.payload.tag
        for stage in range(self._latency):
            # Like the real stages: zeros unless a valid block is loaded.
            next_valid = Signal(name=f"stage{stage}_valid")
            next_block = Signal(128, name=f"stage{stage}_block")
            next_tag = Signal(self.tag_width, name=f"stage{stage}_tag")
            m.d.sync += [next_valid.eq(valid), next_block.eq(Mux(valid, block, 0)),
                         next_tag.eq(Mux(valid, tag, 0))]
            valid, block, tag = next_valid, next_block, next_tag
        m.d.comb += [self.o.valid.eq(valid), self.o.payload.block.eq(block),
                     self.o.payload.tag.eq(tag)]
        return m


def pipeline_model(latency):
    """A factory with the AES pipelines' constructor arguments building a model of *latency*."""
    def build(**kwargs):
        return AESPipelineModel(**kwargs, latency=latency)
    return build


class LastRoundKeyModel(wiring.Component):
    """The key table's last-round-key unit (:class:`rtl.aes.key_schedule.AESLastRoundKey`)
    with its handshake and a shorter iteration, and no key schedule: round key 10 is modelled
    as the key itself (so the model's decryption, ``block ^ key``, inverts its encryption).

    A key is taken while the unit is idle; it appears on ``o`` :attr:`latency` cycles later and
    is held until taken; the unit then clears itself, as the real one does.

    Parameters
    ----------
    latency : int
        Cycles from the transfer on ``i`` to ``o.valid`` (the real unit: 10).
    """

    def __init__(self, *, latency=1):
        if not isinstance(latency, int) or latency < 1:
            self._MustUse__silence = True  # never elaborated
            raise ValueError(f"latency must be a positive int, not {latency!r}")
        self.latency = latency
        super().__init__({"i": In(stream.Signature(128)), "o": Out(stream.Signature(128))})

    def elaborate(self, platform):
        m = Module()
        key = Signal(128)
        busy = Signal()
        wait = Signal(range(self.latency + 1))
        m.d.comb += [self.i.ready.eq(~busy), self.o.valid.eq(busy & (wait == 0)),
                     self.o.payload.eq(key)]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [key.eq(self.i.payload), busy.eq(1), wait.eq(self.latency)]
        with m.Elif(busy & (wait != 0)):
            m.d.sync += wait.eq(wait - 1)
        with m.Elif(self.o.valid & self.o.ready):
            m.d.sync += [busy.eq(0), key.eq(0)]
        return m
