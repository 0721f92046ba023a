"""An independent pure-Python AES-128 (FIPS-197) that exposes the state after every round.

It exists to debug the RTL AES pipelines: :func:`encrypt_trace` and :func:`decrypt_trace` give
the 128-bit state at the output of every round stage, which is what a pipeline register holds.
It shares no code with ``cryptography`` (the tests cross-check the two) and is slow on purpose:
every step is the textbook one.

States, blocks and keys are 16-byte ``bytes`` in FIPS byte order (byte 0 = ``in[0]``);
``int.from_bytes(state, "little")`` gives the bus value of ``docs/architecture.md`` §1.
"""

from __future__ import annotations

__all__ = [
    "SBOX",
    "INV_SBOX",
    "expand_key",
    "last_round_key",
    "encrypt_block",
    "decrypt_block",
    "encrypt_trace",
    "decrypt_trace",
]


def _xtime(b: int) -> int:
    b <<= 1
    return (b ^ 0x11B) if b & 0x100 else b


def _gmul(a: int, b: int) -> int:
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = _xtime(a)
        b >>= 1
    return r


def _make_sbox() -> list[int]:
    # S(x) = affine(x^-1) in GF(2^8); computed rather than typed in so there is no table to mistype.
    inv = [0] * 256
    for x in range(1, 256):
        for y in range(1, 256):
            if _gmul(x, y) == 1:
                inv[x] = y
                break
    sbox = []
    for x in range(256):
        b = inv[x]
        s = b
        for shift in range(1, 5):
            s ^= ((b << shift) | (b >> (8 - shift))) & 0xFF
        sbox.append(s ^ 0x63)
    return sbox


SBOX: tuple[int, ...] = tuple(_make_sbox())
INV_SBOX: tuple[int, ...] = tuple(SBOX.index(i) for i in range(256))
_RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)


def _check16(name: str, value: bytes) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 16:
        raise ValueError(f"{name} must be 16 bytes")
    return bytes(value)


def expand_key(key: bytes) -> list[bytes]:
    """The 11 round keys of AES-128 (round key 0 is the cipher key)."""
    w = [list(_check16("key", key)[4 * i:4 * i + 4]) for i in range(4)]
    for i in range(4, 44):
        t = list(w[i - 1])
        if i % 4 == 0:
            t = t[1:] + t[:1]  # RotWord
            t = [SBOX[b] for b in t]  # SubWord
            t[0] ^= _RCON[i // 4 - 1]
        w.append([a ^ b for a, b in zip(w[i - 4], t, strict=True)])
    return [bytes(sum(w[4 * r:4 * r + 4], [])) for r in range(11)]


def last_round_key(key: bytes) -> bytes:
    """Round key 10, the key the decrypt pipeline starts from (architecture §7)."""
    return expand_key(key)[10]


def _add(state: bytes, rk: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(state, rk, strict=True))


def _shift_rows(s: bytes, inverse: bool = False) -> bytes:
    # Column-major state: byte 4c+r is row r, column c; row r rotates left by r (right if inverse).
    sign = -1 if inverse else 1
    return bytes(s[4 * ((c + sign * r) % 4) + r] for c in range(4) for r in range(4))


def _mix_columns(s: bytes, inverse: bool = False) -> bytes:
    m = (14, 11, 13, 9) if inverse else (2, 3, 1, 1)
    out = []
    for c in range(4):
        col = s[4 * c:4 * c + 4]
        for r in range(4):
            v = 0
            for k in range(4):
                v ^= _gmul(col[k], m[(k - r) % 4])
            out.append(v)
    return bytes(out)


def encrypt_trace(key: bytes, block: bytes) -> list[bytes]:
    """States of an encryption: ``[after AddRoundKey 0, after round 1, ..., after round 10]``.

    The last entry is the ciphertext.
    """
    rks = expand_key(key)
    state = _add(_check16("block", block), rks[0])
    trace = [state]
    for rnd in range(1, 11):
        state = _shift_rows(bytes(SBOX[b] for b in state))
        if rnd != 10:
            state = _mix_columns(state)
        state = _add(state, rks[rnd])
        trace.append(state)
    return trace


def decrypt_trace(key: bytes, block: bytes) -> list[bytes]:
    """States of the inverse cipher: ``[after AddRoundKey 10, after inverse round 9, ..., after 0]``.

    Entry ``k`` (1 <= k <= 9) is the state after the inverse round that uses round key ``10 - k``
    (InvShiftRows, InvSubBytes, AddRoundKey, InvMixColumns); the last entry is the plaintext.
    For 0 <= k <= 9 entry ``k`` equals ShiftRows(SubBytes(``encrypt_trace(key, plaintext)[9 - k]``)),
    the ``s_row`` state of encryption round ``10 - k`` in FIPS-197 Appendix C.
    """
    rks = expand_key(key)
    state = _add(_check16("block", block), rks[10])
    trace = [state]
    for rnd in range(9, -1, -1):
        state = bytes(INV_SBOX[b] for b in _shift_rows(state, inverse=True))
        state = _add(state, rks[rnd])
        if rnd != 0:
            state = _mix_columns(state, inverse=True)
        trace.append(state)
    return trace


def encrypt_block(key: bytes, block: bytes) -> bytes:
    """AES-128 encryption of one 16-byte block."""
    return encrypt_trace(key, block)[-1]


def decrypt_block(key: bytes, block: bytes) -> bytes:
    """AES-128 decryption of one 16-byte block."""
    return decrypt_trace(key, block)[-1]
