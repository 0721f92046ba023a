"""XTS tweak unit: T_0 = AES_K2(i) through an AES encrypt pipeline, and the alpha multiply.

The engine starts the tweak in the cycle after a request is accepted (the key memory's read
latency), so on a read it is computed while the DRAM access is in flight, never after it. The
``tag`` travels with the tweak through the pipeline and tells the engine where the result goes.

The input is a ``lib.stream`` with ``ready``: this unit takes a request every cycle (``ready``
is always 1), but the engine also works with a unit that accepts one request every few cycles
(a folded AES, say): it holds the request and stops accepting upstream requests meanwhile.
A line every 4 cycles each way needs one tweak every 2 cycles.

Docs: docs/architecture.md §2 (T_{j+1} = T_j * alpha: shift the little-endian 128-bit value left
by one; if bit 127 fell out, XOR 0x87 into byte 0).
"""

from amaranth import Cat, Const, Module, Mux
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..aes.folded import AESEncryptFolded
from ..aes.pipeline import AESEncryptPipeline
from ..aes.sbox import DEFAULT_SBOX

__all__ = ["mul_alpha", "alpha_power", "TweakUnit", "TWEAK_SBOX", "TWEAK_FOLD"]

#: The tweak pipeline's S-box style for an engine style, where they differ (see TweakUnit).
TWEAK_SBOX = {"ebr": "split"}
#: The tweak unit's folding for an engine style, where it is not 1 (see TweakUnit). The
#: engine holds a request while ``i.ready`` is low; one tweak every two cycles is what a line
#: every 4 cycles each way needs.
TWEAK_FOLD = {"ebr": 2}


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
    """AES_K2(i) for XTS, one tweak per cycle (or per two, folded), with a sideband tag.

    Parameters
    ----------
    index_width : int
        Width of the tweak value i (the stripped DRAM address); zero-extended to 128 bits.
    tag_width : int
        Width of the sideband that comes back with the tweak.
    regs_per_round : {1, 2, 3, 4}
        Passed to :class:`~rtl.aes.pipeline.AESEncryptPipeline` (or, folded, to
        :class:`~rtl.aes.folded.AESEncryptFolded`, which takes 2 or 3: 1 gives it 2, 4
        gives it 3).
    sbox : str
        The engine's S-box style. ``"ebr"`` (block-RAM S-boxes for the two data pipelines)
        gives the tweak pipeline the ``"split"`` style instead, the same two-cycle round in
        LUTs: the EBR budget (160 of the ECP5-85F's 208) holds two block-RAM pipelines, not
        three. Every other style is used as it is.
    fold : {1, 2} or None
        1: a full AES pipeline, ``i.ready`` always 1. 2: :class:`~rtl.aes.folded.AESEncryptFolded`
        (five round units used twice; half the area), which takes a request at most every
        :attr:`interval` = 2 cycles and lowers ``i.ready`` otherwise: the engine needs a tweak
        per line, one every two cycles with reads and writes both at full rate. ``None``:
        :data:`TWEAK_FOLD` for the style (1 unless listed).
    pipeline : callable, optional
        With ``fold=1``: builds the AES instead of :class:`~rtl.aes.pipeline.AESEncryptPipeline`
        (same arguments, same signature and ``latency``); the formal harnesses pass a model
        with the pipeline's timing and no cipher (verif/formal/aes_model.py).

    Members
    -------
    i : ``In(stream.Signature({"index", "key", "tag"}))``
        Tweak value i, tweak key K2, sideband. ``ready`` is 1 with ``fold=1``; with ``fold=2``
        it is low in the cycles where a block re-enters for its second pass (it depends on
        registers only, never on ``i.valid``).
    o : ``Out(stream.Signature({"t0", "tag"}, always_ready=True))``
        T_0, :attr:`latency` cycles later.
    """

    def __init__(self, *, index_width=48, tag_width=0, regs_per_round=1, sbox=DEFAULT_SBOX,
                 fold=None, pipeline=AESEncryptPipeline):
        self.index_width = index_width
        self.tag_width = tag_width
        self.fold = TWEAK_FOLD.get(sbox, 1) if fold is None else fold
        style = TWEAK_SBOX.get(sbox, sbox)
        if self.fold == 2:
            # The folded units have two or three registers per round (1 means 2 here, 4 means
            # 3: the tweak is not on a read's critical path and a fourth register would only
            # add latency before the data needs it).
            self._aes = AESEncryptFolded(tag_width=tag_width, sbox=style,
                                         regs_per_round=min(3, max(2, regs_per_round)))
        elif self.fold == 1:
            self._aes = pipeline(tag_width=tag_width, regs_per_round=regs_per_round, sbox=style)
        else:
            self._MustUse__silence = True
            raise ValueError(f"fold must be 1 or 2, not {fold!r}")
        super().__init__({
            "i": In(stream.Signature(data.StructLayout(
                {"index": index_width, "key": 128, "tag": tag_width}))),
            "o": Out(stream.Signature(data.StructLayout(
                {"t0": 128, "tag": tag_width}), always_ready=True)),
        })

    @property
    def latency(self):
        """Cycles from the transfer on ``i`` to ``o.valid``."""
        return self._aes.latency

    @property
    def interval(self):
        """Sustained rate: at most one request every ``interval`` cycles."""
        return getattr(self._aes, "interval", 1)

    def elaborate(self, platform):
        m = Module()
        m.submodules.aes = aes = self._aes
        m.d.comb += [
            aes.i.valid.eq(self.i.valid),
            self.i.ready.eq(1 if self.fold == 1 else aes.i.ready),
            aes.i.payload.block.eq(self.i.payload.index),      # zero-extended: i < 2^PA_WIDTH
            aes.i.payload.key.eq(self.i.payload.key),
            aes.i.payload.tag.eq(self.i.payload.tag),
            self.o.valid.eq(aes.o.valid),
            self.o.payload.t0.eq(aes.o.payload.block),
            self.o.payload.tag.eq(aes.o.payload.tag),
        ]
        return m
