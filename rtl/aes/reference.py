"""A pure-Python AES-128 reference, in the project's byte order, for the RTL unit tests.

Every value is a Python ``int``: a 128-bit block or key holds FIPS-197 byte 0 in bits [7:0]
(``int.from_bytes(block, "little")``, docs/architecture.md §1). The state byte in row ``r``,
column ``c`` is byte ``r + 4*c``; column ``c`` is the 32-bit word in bits [32c+31:32c] with
row 0 in its low byte.

This module deliberately does not use :mod:`cryptography`, so that tests can cross-check the
two; it favours clarity over speed.
"""

__all__ = [
    "SBOX", "INV_SBOX", "RCON",
    "gf_mul", "xtime",
    "sub_bytes", "inv_sub_bytes", "shift_rows", "inv_shift_rows",
    "mix_columns", "inv_mix_columns", "add_round_key",
    "sub_word", "rot_word", "key_expansion_step", "inv_key_expansion_step",
    "expand_key", "last_round_key", "encrypt_block", "decrypt_block",
]

_MASK128 = (1 << 128) - 1


def xtime(a):
    """Multiply the GF(2^8) element *a* by x modulo x^8 + x^4 + x^3 + x + 1."""
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def gf_mul(a, b):
    """Multiply two GF(2^8) elements (AES polynomial)."""
    result = 0
    while b:
        if b & 1:
            result ^= a
        a = xtime(a)
        b >>= 1
    return result


def _gf_inv(a):
    # a^254 = a^-1 (and 0 -> 0), by square-and-multiply.
    result, base, exp = 1, a, 254
    while exp:
        if exp & 1:
            result = gf_mul(result, base)
        base = gf_mul(base, base)
        exp >>= 1
    return result if a else 0


def _affine(b):
    out = 0x63
    for i in range(8):
        bit = 0
        for k in (0, 4, 5, 6, 7):
            bit ^= (b >> ((i + k) % 8)) & 1
        out ^= bit << i
    return out


#: The AES S-box, computed from its definition (inversion in GF(2^8), then the affine map).
SBOX = tuple(_affine(_gf_inv(x)) for x in range(256))
#: The inverse S-box.
INV_SBOX = tuple(SBOX.index(y) for y in range(256))
#: ``RCON[r]`` is the round constant used to derive round key *r* (``RCON[0]`` is unused).
RCON = (0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)


def _bytes(v):
    return [(v >> (8 * i)) & 0xFF for i in range(16)]


def _int(bs):
    return sum(b << (8 * i) for i, b in enumerate(bs))


def sub_bytes(state):
    """SubBytes: the S-box applied to each of the 16 bytes."""
    return _int(SBOX[b] for b in _bytes(state))


def inv_sub_bytes(state):
    """InvSubBytes."""
    return _int(INV_SBOX[b] for b in _bytes(state))


def shift_rows(state):
    """ShiftRows: row *r* rotates left by *r* columns, ``s'[r][c] = s[r][(c + r) % 4]``."""
    b = _bytes(state)
    return _int(b[r + 4 * ((c + r) % 4)] for c in range(4) for r in range(4))


def inv_shift_rows(state):
    """InvShiftRows: ``s'[r][c] = s[r][(c - r) % 4]``."""
    b = _bytes(state)
    return _int(b[r + 4 * ((c - r) % 4)] for c in range(4) for r in range(4))


def _mix(state, coeffs):
    b = _bytes(state)
    out = []
    for c in range(4):
        col = b[4 * c:4 * c + 4]
        for r in range(4):
            acc = 0
            for k in range(4):
                acc ^= gf_mul(coeffs[(k - r) % 4], col[k])
            out.append(acc)
    return _int(out)


def mix_columns(state):
    """MixColumns: each column times the circulant matrix (02 03 01 01)."""
    return _mix(state, (2, 3, 1, 1))


def inv_mix_columns(state):
    """InvMixColumns: each column times the circulant matrix (0e 0b 0d 09)."""
    return _mix(state, (0x0E, 0x0B, 0x0D, 0x09))


def add_round_key(state, round_key):
    """AddRoundKey: XOR (its own inverse)."""
    return (state ^ round_key) & _MASK128


def sub_word(word):
    """SubWord: the S-box on each byte of a 32-bit word."""
    return sum(SBOX[(word >> (8 * i)) & 0xFF] << (8 * i) for i in range(4))


def rot_word(word):
    """RotWord: ``[a0, a1, a2, a3] -> [a1, a2, a3, a0]`` (a0 in the low byte)."""
    return ((word >> 8) | (word << 24)) & 0xFFFFFFFF


def key_expansion_step(round_key, rcon):
    """Round key *r* from round key *r - 1* and ``RCON[r]`` (FIPS-197 §5.2)."""
    w = [(round_key >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
    t = sub_word(rot_word(w[3])) ^ rcon
    w0 = w[0] ^ t
    w1 = w[1] ^ w0
    w2 = w[2] ^ w1
    w3 = w[3] ^ w2
    return w0 | (w1 << 32) | (w2 << 64) | (w3 << 96)


def inv_key_expansion_step(round_key, rcon):
    """Round key *r - 1* from round key *r* and ``RCON[r]`` (the schedule run backwards)."""
    w = [(round_key >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
    p3 = w[3] ^ w[2]
    p2 = w[2] ^ w[1]
    p1 = w[1] ^ w[0]
    p0 = w[0] ^ sub_word(rot_word(p3)) ^ rcon
    return p0 | (p1 << 32) | (p2 << 64) | (p3 << 96)


def expand_key(key):
    """The 11 round keys of AES-128; ``expand_key(key)[0] == key``."""
    keys = [key & _MASK128]
    for r in range(1, 11):
        keys.append(key_expansion_step(keys[-1], RCON[r]))
    return keys


def last_round_key(key):
    """Round key 10: the key the decrypt pipeline takes (docs/architecture.md §7)."""
    return expand_key(key)[10]


def encrypt_block(block, key):
    """AES-128 encryption of one 128-bit block."""
    rks = expand_key(key)
    state = add_round_key(block, rks[0])
    for r in range(1, 11):
        state = shift_rows(sub_bytes(state))
        if r != 10:
            state = mix_columns(state)
        state = add_round_key(state, rks[r])
    return state


def decrypt_block(block, key):
    """AES-128 decryption of one 128-bit block (the straightforward inverse cipher)."""
    rks = expand_key(key)
    state = add_round_key(block, rks[10])
    for r in range(9, -1, -1):
        state = inv_sub_bytes(inv_shift_rows(state))
        state = add_round_key(state, rks[r])
        if r != 0:
            state = inv_mix_columns(state)
    return state
