"""The AES round transformations and their inverses, as combinational Amaranth components.

Every component maps a 128-bit state ``i`` to a 128-bit state ``o`` (:class:`AddRoundKey` also
takes ``key``), with FIPS-197 byte 0 in bits [7:0]: the byte in row ``r`` and column ``c`` is
byte ``r + 4*c`` (docs/architecture.md §1). :mod:`rtl.aes.reference` defines the same functions
on Python integers, and the unit tests compare the two.
"""

import functools
import operator

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .sbox import COMB_SBOX_IMPLS, DEFAULT_SBOX, PipelinedSBox, SBox, check_sbox_impl

__all__ = [
    "SubBytes", "InvSubBytes", "PipelinedSubBytes", "ShiftRows", "InvShiftRows",
    "MixColumns", "InvMixColumns", "InvMixPremix", "AddRoundKey",
    "xtime", "gf_mul_const",
]


def _byte(v, n):
    return v[8 * n:8 * n + 8]


def xtime(b):
    """Multiply the 8-bit value *b* by x in GF(2^8) (a wiring shuffle plus three XORs)."""
    return Cat(b[7], b[0] ^ b[7], b[1], b[2] ^ b[7], b[3] ^ b[7], b[4], b[5], b[6])


def gf_mul_const(b, k):
    """Multiply the 8-bit value *b* by the constant *k* in GF(2^8), as XORs of shifted copies."""
    terms = []
    p = b
    while k:
        if k & 1:
            terms.append(p)
        p = xtime(p)
        k >>= 1
    return functools.reduce(operator.xor, terms)


class _StateMap(wiring.Component):
    """Base of the one-input state transformations."""

    i: In(128)
    o: Out(128)

    def __repr__(self):
        return f"{type(self).__name__}()"


class _SubBytesBase(_StateMap):
    _inverse = False

    def __init__(self, *, sbox=DEFAULT_SBOX):
        self.sbox = check_sbox_impl(sbox, owner=self, styles=COMB_SBOX_IMPLS)
        super().__init__()

    def __repr__(self):
        return f"{type(self).__name__}(sbox={self.sbox!r})"

    def elaborate(self, platform):
        m = Module()
        outs = []
        for n in range(16):
            s = m.submodules[f"sbox{n}"] = SBox(inverse=self._inverse, sbox=self.sbox)
            m.d.comb += s.i.eq(_byte(self.i, n))
            outs.append(s.o)
        # Outputs are assigned whole: see the note in rtl.aes.sbox on Icarus.
        m.d.comb += self.o.eq(Cat(*outs))
        return m


class SubBytes(_SubBytesBase):
    """SubBytes: the S-box on each of the 16 bytes.

    Parameters
    ----------
    sbox : {"composite", "table"}
        S-box implementation (:mod:`rtl.aes.sbox`).

    Members
    -------
    i : ``In(128)``
    o : ``Out(128)``
    """

    _inverse = False


class InvSubBytes(_SubBytesBase):
    """InvSubBytes: the inverse S-box on each of the 16 bytes (members as :class:`SubBytes`)."""

    _inverse = True


class PipelinedSubBytes(wiring.Component):
    """SubBytes (or InvSubBytes) over two cycles: 16 :class:`~rtl.aes.sbox.PipelinedSBox`
    (a register inside each S-box) and a register on the output; the LUT-only counterpart of
    :class:`~rtl.aes.sbox_rom.RegisteredSubBytes` (the ``sbox="split"`` pipelines).

    Parameters
    ----------
    inverse : bool
        ``True`` for InvSubBytes.

    Members
    -------
    i : ``In(128)``
    en : ``In(1)``
        ``i`` belongs to a valid request. Both registers load only for one and hold zeros
        otherwise, so an idle pipeline keeps no key-derived value.
    o : ``Out(128)``
        SubBytes of the state :attr:`latency` cycles earlier.

    Attributes
    ----------
    latency : int
        2.
    """

    i: In(128)
    en: In(1)
    o: Out(128)
    latency = 2

    def __init__(self, *, inverse=False):
        self.inverse = bool(inverse)
        super().__init__()

    def __repr__(self):
        return f"PipelinedSubBytes(inverse={self.inverse!r})"

    def elaborate(self, platform):
        m = Module()
        outs = []
        for n in range(16):
            s = m.submodules[f"sbox{n}"] = PipelinedSBox(inverse=self.inverse)
            m.d.comb += [s.i.eq(_byte(self.i, n)), s.en.eq(self.en)]
            outs.append(s.o)
        en_q = Signal()
        out_q = Signal(128)
        m.d.sync += [en_q.eq(self.en), out_q.eq(Mux(en_q, Cat(*outs), 0))]
        m.d.comb += self.o.eq(out_q)
        return m


class ShiftRows(_StateMap):
    """ShiftRows: row ``r`` rotates left by ``r`` columns; wiring only.

    Members
    -------
    i : ``In(128)``
    o : ``Out(128)``
    """

    _direction = 1

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.o.eq(Cat(*(_byte(self.i, r + 4 * ((c + self._direction * r) % 4))
                                    for c in range(4) for r in range(4))))
        return m


class InvShiftRows(ShiftRows):
    """InvShiftRows: row ``r`` rotates right by ``r`` columns; wiring only."""

    _direction = -1


class MixColumns(_StateMap):
    """MixColumns: each column multiplied by the circulant matrix (02 03 01 01) over GF(2^8).

    Members
    -------
    i : ``In(128)``
    o : ``Out(128)``
    """

    _coeffs = (2, 3, 1, 1)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.o.eq(self._mix(m, self.i, self._coeffs))
        return m

    @staticmethod
    def _mix(m, state, coeffs):
        """Each column of *state* times the circulant matrix *coeffs*: the 128-bit result."""
        # b*x^n for each input byte, each in a signal of its own: nesting xtime() expressions
        # would duplicate subtrees (harmless for synthesis, slow for the Python simulator).
        top = max(coeffs).bit_length()
        powers = []
        for n in range(16):
            chain = [_byte(state, n)]
            for p in range(1, top):
                sig = Signal(8, name=f"b{n}_x{1 << p}")
                m.d.comb += sig.eq(xtime(chain[-1]))
                chain.append(sig)
            powers.append(chain)
        out = []
        for c in range(4):
            for r in range(4):
                terms = []
                for k in range(4):
                    coeff = coeffs[(k - r) % 4]
                    terms += [powers[4 * c + k][p] for p in range(top) if (coeff >> p) & 1]
                out.append(functools.reduce(operator.xor, terms))
        return Cat(*out)


class InvMixColumns(MixColumns):
    """InvMixColumns: each column multiplied by the circulant matrix (0e 0b 0d 09).

    Computed as MixColumns of ``(05 00 04 00) x column`` (the factorisation ``d(x) = c(x) *
    (04 x^2 + 05)`` of the AES design, Daemen and Rijmen §4.1.3): per column ``u0 = a0 ^ a2``,
    ``u1 = a1 ^ a3`` and ``a_r ^= 04 * u_(r mod 2)``, then the MixColumns XORs. That shares the
    terms the four rows have in common: fewer LUT4s than the 0e/0b/0d/09 products written out
    (each output bit of which is an XOR of about 20 input bits).
    """

    _coeffs = (0x0E, 0x0B, 0x0D, 0x09)

    def elaborate(self, platform):
        m = Module()
        m.submodules.premix = premix = InvMixPremix()
        m.d.comb += [premix.i.eq(self.i),
                     self.o.eq(self._mix(m, premix.o, MixColumns._coeffs))]
        return m


class InvMixPremix(_StateMap):
    """The first factor of InvMixColumns: each column times the circulant (05 00 04 00), so
    that ``InvMixColumns(x) = MixColumns(InvMixPremix(x))``.

    Per column ``u0 = a0 ^ a2``, ``u1 = a1 ^ a3``, ``a_r ^ 04 * u_(r mod 2)``. The four-register
    decrypt pipeline applies it before its round register and MixColumns after (each half
    about two LUT4 levels, instead of InvMixColumns' six before a block-RAM address).

    Members
    -------
    i : ``In(128)``
    o : ``Out(128)``
    """

    def elaborate(self, platform):
        m = Module()
        pre = []
        for c in range(4):
            a = [_byte(self.i, 4 * c + r) for r in range(4)]
            quad = []
            for h in range(2):
                u = Signal(8, name=f"c{c}_u{h}")
                u4 = Signal(8, name=f"c{c}_u{h}_x4")
                m.d.comb += [u.eq(a[h] ^ a[h + 2]), u4.eq(xtime(xtime(u)))]
                quad.append(u4)
            pre += [a[r] ^ quad[r % 2] for r in range(4)]
        m.d.comb += self.o.eq(Cat(*pre))
        return m


class AddRoundKey(wiring.Component):
    """AddRoundKey: ``o = i ^ key`` (its own inverse).

    Members
    -------
    i : ``In(128)``
    key : ``In(128)``
    o : ``Out(128)``
    """

    i: In(128)
    key: In(128)
    o: Out(128)

    def __repr__(self):
        return "AddRoundKey()"

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.o.eq(self.i ^ self.key)
        return m
