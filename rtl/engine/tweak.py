"""XTS tweak unit: T_0 = AES_K2(i) through an AES encrypt pipeline, and the alpha multiply.

The engine starts the tweak in the cycle after a request is accepted (the key memory's read
latency), so on a read it is computed while the DRAM access is in flight, never after it. The
``tag`` travels with the tweak through the pipeline and tells the engine where the result goes.

Docs: docs/architecture.md §2 (T_{j+1} = T_j * alpha: shift the little-endian 128-bit value left
by one; if bit 127 fell out, XOR 0x87 into byte 0).
"""

from amaranth import Cat, Const, Module, Mux
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..aes.pipeline import AESEncryptPipeline
from ..aes.sbox import DEFAULT_SBOX

__all__ = ["mul_alpha", "alpha_power", "TweakUnit", "TWEAK_SBOX"]

#: The tweak pipeline's S-box style for an engine style, where they differ (see TweakUnit).
TWEAK_SBOX = {"ebr": "split"}


def mul_alpha(t):
    """``t * alpha`` in GF(2^128) (IEEE 1619 little-endian convention), as an expression."""
    return Cat(Const(0, 1), t[:127]) ^ Mux(t[127], 0x87, 0)


def alpha_power(t0, j, blocks=4):
    """``t0 * alpha^j`` for a run-time block index ``j`` in ``range(blocks)`` (a 4:1 mux of
    shift-and-XOR terms: no multiplier, no register); a constant ``j`` (an int) selects its
    term directly."""
    powers = [t0]
    for _ in range(blocks - 1):
        powers.append(mul_alpha(powers[-1]))
    if isinstance(j, int):
        return powers[j]
    result = powers[0]
    for n in range(1, blocks):
        result = Mux(j == n, powers[n], result)
    return result


class TweakUnit(wiring.Component):
    """AES_K2(i) for XTS, one tweak per cycle, with a sideband tag.

    Parameters
    ----------
    index_width : int
        Width of the tweak value i (the stripped DRAM address); zero-extended to 128 bits.
    tag_width : int
        Width of the sideband that comes back with the tweak.
    regs_per_round : {1, 2}
        Passed to :class:`~rtl.aes.pipeline.AESEncryptPipeline`.
    sbox : str
        The engine's S-box style. ``"ebr"`` (block-RAM S-boxes for the two data pipelines)
        gives the tweak pipeline the ``"split"`` style instead, the same two-cycle round in
        LUTs: the EBR budget (160 of the ECP5-85F's 208) holds two block-RAM pipelines, not
        three. Every other style is used as it is.

    Members
    -------
    i : ``In(stream.Signature({"index", "key", "tag"}, always_ready=True))``
        Tweak value i, tweak key K2, sideband.
    o : ``Out(stream.Signature({"t0", "tag"}, always_ready=True))``
        T_0, :attr:`latency` cycles later.
    """

    def __init__(self, *, index_width=48, tag_width=0, regs_per_round=1, sbox=DEFAULT_SBOX):
        self.index_width = index_width
        self.tag_width = tag_width
        self._aes = AESEncryptPipeline(tag_width=tag_width, regs_per_round=regs_per_round,
                                       sbox=TWEAK_SBOX.get(sbox, sbox))
        super().__init__({
            "i": In(stream.Signature(data.StructLayout(
                {"index": index_width, "key": 128, "tag": tag_width}), always_ready=True)),
            "o": Out(stream.Signature(data.StructLayout(
                {"t0": 128, "tag": tag_width}), always_ready=True)),
        })

    @property
    def latency(self):
        """Cycles from ``i.valid`` to ``o.valid``."""
        return self._aes.latency

    def elaborate(self, platform):
        m = Module()
        m.submodules.aes = aes = self._aes
        m.d.comb += [
            aes.i.valid.eq(self.i.valid),
            aes.i.payload.block.eq(self.i.payload.index),      # zero-extended: i < 2^PA_WIDTH
            aes.i.payload.key.eq(self.i.payload.key),
            aes.i.payload.tag.eq(self.i.payload.tag),
            self.o.valid.eq(aes.o.valid),
            self.o.payload.t0.eq(aes.o.payload.block),
            self.o.payload.tag.eq(aes.o.payload.tag),
        ]
        return m
