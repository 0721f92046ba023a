"""The AES S-box and inverse S-box as combinational Amaranth components, in two styles.

``sbox="composite"`` (the default)
    Inversion in GF(2^8) computed in the isomorphic tower field GF((2^4)^2), the approach of
    Satoh et al. and Canright ("A very compact S-box for AES", CHES 2005). The byte is mapped
    into the tower field by an 8x8 GF(2) matrix, inverted there with two GF(2^4) multiplications,
    one GF(2^4) multiply-and-square and one GF(2^4) inversion, and mapped back; the affine
    transform of the S-box is folded into the output matrix (the inverse S-box folds the
    inverse affine transform into the input matrix). On a LUT4 FPGA this is a few dozen LUT4s
    per S-box, against roughly twice that for a 256-entry table: the 8-input functions of a table
    each need 16 LUT4s plus multiplexers, while the tower field's widest functions (the
    GF(2^4) products and the 4-bit inversion) have 8 or 4 inputs. The matrices are derived
    below from the field definitions (not copied from a paper) and every S-box is checked
    exhaustively against :mod:`rtl.aes.reference` by the unit tests.

``sbox="table"``
    A 256-entry read-only memory read asynchronously: the obvious reference implementation,
    kept so that the FPGA flow can measure both, and the fastest style to simulate (an array
    index in every simulator).

``sbox="ebr"`` (pipelines only)
    The data-path S-boxes are registered block-RAM lookups (:mod:`rtl.aes.sbox_rom`), and the
    key-schedule S-boxes are the composite circuit cut in two by a register
    (:class:`PipelinedSBox`). Not a combinational style: :class:`SBox` refuses it.

``sbox="split"`` (pipelines only)
    The same two-cycle round as ``"ebr"`` in LUTs alone: every S-box is a
    :class:`PipelinedSBox` followed by a register.

:class:`PipelinedSBox` is the composite S-box with a register after the GF(2^4) inversion:
the first half (input map, norm, 4-bit inversion) and the second half (two GF(2^4) products,
output map) are about equally deep.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from . import reference

__all__ = ["SBOX_IMPLS", "COMB_SBOX_IMPLS", "TWO_CYCLE_SBOX_IMPLS", "DEFAULT_SBOX", "SBox", "PipelinedSBox",
           "check_sbox_impl"]

#: The accepted values of the pipelines' (and the engine's) ``sbox=`` parameter.
SBOX_IMPLS = ("composite", "table", "ebr", "split")
#: The styles a combinational S-box can have (``SBox``, ``SubBytes``, the key-schedule steps).
COMB_SBOX_IMPLS = ("composite", "table")
#: The pipeline styles whose SubBytes takes two cycles (they need ``regs_per_round=2``).
TWO_CYCLE_SBOX_IMPLS = ("ebr", "split")
#: The default S-box style: the smaller combinational one on a LUT4 FPGA.
DEFAULT_SBOX = "composite"


def check_sbox_impl(sbox, owner=None, styles=SBOX_IMPLS):
    """Raise :class:`ValueError` unless *sbox* is one of *styles*; return it.

    *owner* is the component being constructed: a component whose constructor fails is never
    elaborated, so Amaranth's "created but never used" check is silenced for it (otherwise it
    fires at garbage collection, on a half-initialised object).
    """
    if sbox not in styles:
        if owner is not None:
            owner._MustUse__silence = True
        raise ValueError(f"sbox must be one of {styles}, not {sbox!r}")
    return sbox


# Tower-field arithmetic (Python, used at elaboration time) ----------------------------------

_GF16_POLY = 0b10011          # y^4 + y + 1


def _gf16_mul(a, b):
    r = 0
    for i in range(4):
        if (b >> i) & 1:
            r ^= a << i
    for i in (6, 5, 4):
        if (r >> i) & 1:
            r ^= _GF16_POLY << (i - 4)
    return r


_GF16_INV = tuple(next((b for b in range(16) if _gf16_mul(a, b) == 1), 0) for a in range(16))

# GF(2^8) = GF(2^4)[x] / (x^2 + x + LAMBDA); the element a_h*x + a_l is the byte (a_h << 4) | a_l.
# LAMBDA is the first constant that makes x^2 + x + LAMBDA irreducible over GF(2^4).
_LAMBDA = next(lam for lam in range(1, 16)
               if all(_gf16_mul(t, t) ^ t ^ lam for t in range(16)))


def _tower_mul(a, b):
    ah, al, bh, bl = a >> 4, a & 15, b >> 4, b & 15
    hh = _gf16_mul(ah, bh)
    hi = hh ^ _gf16_mul(ah, bl) ^ _gf16_mul(al, bh)
    lo = _gf16_mul(al, bl) ^ _gf16_mul(_LAMBDA, hh)
    return (hi << 4) | lo


def _tower_pow(a, n):
    r = 1
    for _ in range(n):
        r = _tower_mul(r, a)
    return r


def _aes_poly_at(beta):
    # x^8 + x^4 + x^3 + x + 1 evaluated at beta in the tower field.
    acc = 0
    for e in (8, 4, 3, 1, 0):
        acc ^= _tower_pow(beta, e)
    return acc


# A root of the AES polynomial in the tower field; alpha^i -> beta^i is a field isomorphism.
_BETA = next(b for b in range(2, 256) if _aes_poly_at(b) == 0)
# Columns of the 8x8 GF(2) matrices, as the image of each basis bit.
_TO_TOWER = tuple(_tower_pow(_BETA, i) for i in range(8))


def _apply(columns, v):
    r = 0
    for i, col in enumerate(columns):
        if (v >> i) & 1:
            r ^= col
    return r


def _linear_columns(func):
    """Columns of the GF(2)-linear map *func* on bytes."""
    return tuple(func(1 << i) for i in range(8))


_FROM_TOWER_TABLE = {_apply(_TO_TOWER, v): v for v in range(256)}
assert len(_FROM_TOWER_TABLE) == 256, "tower-field map is not invertible"
_FROM_TOWER = _linear_columns(lambda t: _FROM_TOWER_TABLE[t])
# The S-box's affine part: A(b) = SBOX(inv(b)); linear part is A(b) ^ 0x63.
_AFFINE = _linear_columns(lambda b: reference.SBOX[reference._gf_inv(b)] ^ 0x63)
_INV_AFFINE_TABLE = {_apply(_AFFINE, v): v for v in range(256)}
_INV_AFFINE = _linear_columns(lambda b: _INV_AFFINE_TABLE[b])

# Forward:  S(x)    = AFFINE . FROM_TOWER . inv_tower(TO_TOWER . x) ^ 0x63
# Inverse:  S^-1(y) = FROM_TOWER . inv_tower(TO_TOWER . INV_AFFINE . y ^ TO_TOWER . INV_AFFINE . 0x63)
_FWD_IN, _FWD_IN_CONST = _TO_TOWER, 0
_FWD_OUT, _FWD_OUT_CONST = _linear_columns(lambda t: _apply(_AFFINE, _apply(_FROM_TOWER, t))), 0x63
_INV_IN = _linear_columns(lambda y: _apply(_TO_TOWER, _apply(_INV_AFFINE, y)))
_INV_IN_CONST = _apply(_INV_IN, 0x63)
_INV_OUT, _INV_OUT_CONST = _FROM_TOWER, 0


def _tower_inv_model(t):
    ah, al = t >> 4, t & 15
    d = _gf16_mul(_LAMBDA, _gf16_mul(ah, ah)) ^ _gf16_mul(ah, al) ^ _gf16_mul(al, al)
    di = _GF16_INV[d]
    return (_gf16_mul(ah, di) << 4) | _gf16_mul(ah ^ al, di)


# Elaboration-time self-check of the derivation (cheap: 256 evaluations each).
assert all(_apply(_FWD_OUT, _tower_inv_model(_apply(_FWD_IN, x))) ^ _FWD_OUT_CONST
           == reference.SBOX[x] for x in range(256))
assert all(_apply(_INV_OUT, _tower_inv_model(_apply(_INV_IN, y) ^ _INV_IN_CONST))
           == reference.INV_SBOX[y] for y in range(256))


# Hardware building blocks ------------------------------------------------------------------

def _xor_all(terms):
    # One reduction per output bit (``^{...}`` in Verilog) rather than a chain of 2-input XORs:
    # the same logic after synthesis, but a third of the nets, which keeps the Verilog small
    # and event-driven simulation (Icarus) fast.
    return Cat(*terms).xor()


def _linear(columns, v, const, width_in=8, width_out=8):
    """Bits of ``columns . v ^ const`` as XOR expressions of the bits of *v*."""
    bits = []
    for j in range(width_out):
        terms = [v[i] for i in range(width_in) if (columns[i] >> j) & 1]
        bit = _xor_all(terms) if terms else Const(0, 1)
        if (const >> j) & 1:
            bit = ~bit
        bits.append(bit)
    return bits


def _gf16_mul_hw(a, b):
    """GF(2^4) product of two 4-bit values as a list of four bit expressions."""
    lhs, rhs = [[] for _ in range(4)], [[] for _ in range(4)]
    for i in range(4):
        for j in range(4):
            p = _gf16_mul(1 << i, 1 << j)
            for k in range(4):
                if (p >> k) & 1:
                    lhs[k].append(a[i])
                    rhs[k].append(b[j])
    return [(Cat(*lhs[k]) & Cat(*rhs[k])).xor() for k in range(4)]


def _gf16_sq_scale_columns(scale):
    # v -> scale * v^2 is GF(2)-linear.
    return tuple(_gf16_mul(scale, _gf16_mul(1 << i, 1 << i)) for i in range(4))


def _composite_front(m, byte, inverse):
    """First half of the composite S-box: ``(ah, ah ^ al, d^-1)`` (4-bit signals each)."""
    in_cols, in_const = (_INV_IN, _INV_IN_CONST) if inverse else (_FWD_IN, _FWD_IN_CONST)
    # Into the tower field (with the inverse affine transform folded in for S^-1).
    t = Signal(8)
    # Every signal is assigned whole, never bit by bit: a process that drives some bits of
    # a vector and reads others re-triggers itself in Icarus (it cannot narrow the
    # sensitivity of constant selects in always_comb), which made simulation ~100x slower.
    m.d.comb += t.eq(Cat(*_linear(in_cols, byte, in_const)))
    ah, al = t[4:8], t[0:4]

    # d = LAMBDA*ah^2 ^ ah*al ^ al^2: the norm, the only value that must be inverted.
    d = Signal(4)
    sq_hi = _linear(_gf16_sq_scale_columns(_LAMBDA), ah, 0, 4, 4)
    sq_lo = _linear(_gf16_sq_scale_columns(1), al, 0, 4, 4)
    prod = _gf16_mul_hw(ah, al)
    m.d.comb += d.eq(Cat(*(sq_hi[k] ^ prod[k] ^ sq_lo[k] for k in range(4))))

    # 4-bit inversion: a 4-input function per bit, i.e. one LUT4 each.
    d_inv = Signal(4)
    with m.Switch(d):
        for x in range(16):
            with m.Case(x):
                m.d.comb += d_inv.eq(_GF16_INV[x])
    ahl = Signal(4)
    m.d.comb += ahl.eq(ah ^ al)
    return ah, ahl, d_inv


def _composite_back(m, ah, ahl, d_inv, inverse):
    """Second half: ``inverse = (ah * d^-1) x + (ah ^ al) * d^-1``, mapped back (8 bits)."""
    out_cols, out_const = (_INV_OUT, _INV_OUT_CONST) if inverse else (_FWD_OUT, _FWD_OUT_CONST)
    inv = Signal(8)
    hi = _gf16_mul_hw(ah, d_inv)
    lo = _gf16_mul_hw(ahl, d_inv)
    m.d.comb += inv.eq(Cat(*lo, *hi))
    # Back to the polynomial basis (with the affine transform folded in for S).
    return Cat(*_linear(out_cols, inv, out_const))


class SBox(wiring.Component):
    """The AES S-box (or inverse S-box) on one byte, combinational.

    Parameters
    ----------
    inverse : bool
        ``False`` for SubBytes' S-box, ``True`` for InvSubBytes'.
    sbox : {"composite", "table"}
        Implementation style; see the module docstring.

    Members
    -------
    i : ``In(8)``
        The input byte.
    o : ``Out(8)``
        ``S(i)`` (or ``S^-1(i)``).
    """

    i: In(8)
    o: Out(8)

    def __init__(self, *, inverse=False, sbox=DEFAULT_SBOX):
        self.inverse = bool(inverse)
        self.sbox = check_sbox_impl(sbox, owner=self, styles=COMB_SBOX_IMPLS)
        super().__init__()

    def __repr__(self):
        return f"SBox(inverse={self.inverse!r}, sbox={self.sbox!r})"

    def elaborate(self, platform):
        m = Module()
        if self.sbox == "table":
            # A read-only memory with an asynchronous read: simulators index an array
            # (Amaranth, Verilator and Icarus alike) instead of walking 256 cases, and
            # synthesis maps it to LUTs (ECP5 block RAMs have no asynchronous read).
            table = reference.INV_SBOX if self.inverse else reference.SBOX
            m.submodules.table = rom = Memory(shape=8, depth=256, init=table)
            port = rom.read_port(domain="comb")
            m.d.comb += [port.addr.eq(self.i), self.o.eq(port.data)]
            return m

        front = _composite_front(m, self.i, self.inverse)
        m.d.comb += self.o.eq(_composite_back(m, *front, self.inverse))
        return m


class PipelinedSBox(wiring.Component):
    """The composite S-box (or inverse) with one register inside: ``o`` is ``S(i)`` one cycle
    after ``i``.

    The register holds ``ah``, ``ah ^ al`` and ``d^-1`` (12 bits): the input map, the norm and
    the 4-bit inversion before it; the two GF(2^4) products and the output map after it. Each
    half is about half the depth of :class:`SBox`. The register loads only for a valid input
    (``en``) and holds zeros otherwise: an idle pipeline keeps no key-derived value.

    Parameters
    ----------
    inverse : bool
        ``False`` for the S-box, ``True`` for the inverse S-box.

    Members
    -------
    i : ``In(8)``
    en : ``In(1)``
        ``i`` belongs to a valid request: load the register (else load zeros).
    o : ``Out(8)``
        ``S(i)`` of the previous cycle (``S`` of the zero register after an idle cycle).

    Attributes
    ----------
    latency : int
        1.
    """

    i: In(8)
    en: In(1)
    o: Out(8)
    latency = 1

    def __init__(self, *, inverse=False):
        self.inverse = bool(inverse)
        super().__init__()

    def __repr__(self):
        return f"PipelinedSBox(inverse={self.inverse!r})"

    def elaborate(self, platform):
        m = Module()
        front = _composite_front(m, self.i, self.inverse)
        regs = [Signal(4, name=n) for n in ("ah_q", "ahl_q", "d_inv_q")]
        m.d.sync += [reg.eq(Mux(self.en, v, 0)) for reg, v in zip(regs, front, strict=True)]
        m.d.comb += self.o.eq(_composite_back(m, *regs, self.inverse))
        return m
