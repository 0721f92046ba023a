"""XTS-AES-128 over one 64-byte line, exactly as ``docs/architecture.md`` §2 (DESIGN §3).

``T_0 = AES_K2(i)`` with ``i`` the line's DRAM address (tag bits removed) as a 128-bit
little-endian integer; ``T_{j+1} = T_j * alpha`` in GF(2^128); block ``j`` (bytes 16j..16j+15)
is ``C_j = AES_K1(P_j ^ T_j) ^ T_j``.

The mode is built here from AES-ECB because OpenSSL's XTS refuses K1 == K2 while the hardware
accepts any key pair (IEEE 1619 vector 1 has K1 = K2 = 0). The tests cross-check it against
``cryptography``'s XTS wherever the keys differ.

Integers and bytes: a 128-bit block or key as an ``int`` is ``int.from_bytes(b, "little")``
(architecture §1), so ``T_j * alpha`` is a plain left shift of that integer.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "LINE_BYTES",
    "key_bytes",
    "alpha_mul",
    "line_tweaks",
    "LineCipher",
    "line_cipher",
    "xts_encrypt_line",
    "xts_decrypt_line",
    "encrypt_lines_batch",
    "decrypt_lines_batch",
]

LINE_BYTES = 64
_MASK128 = (1 << 128) - 1
# The batch path works on chunks that stay in the CPU's L2 cache: numpy's whole-array passes
# are then compute-bound instead of memory-bound.
_CHUNK_LINES = 4096
_ONE, _63, _POLY = np.uint64(1), np.uint64(63), np.uint64(0x87)


class _Workspace:
    # Buffers of the batch path, allocated once: fresh large allocations cost page faults that
    # are as expensive as the AES itself.
    def __init__(self) -> None:
        self.tweak_in = np.zeros((_CHUNK_LINES, 2), dtype="<u8")
        self.tweak_out = bytearray(16 * _CHUNK_LINES + 16)  # update_into wants one spare block
        self.tweak_out_words = np.frombuffer(self.tweak_out, "<u8")
        self.mask = np.empty((_CHUNK_LINES, 8), dtype="<u8")
        self.tmp = np.empty(_CHUNK_LINES, dtype="<u8")
        self.x = np.empty((_CHUNK_LINES, 8), dtype="<u8")
        self.y = bytearray(64 * _CHUNK_LINES + 16)
        self.y_words = np.frombuffer(self.y, "<u8")


@functools.cache
def _workspace() -> _Workspace:
    return _Workspace()


def key_bytes(key: bytes | bytearray | int) -> bytes:
    """A 16-byte key in FIPS byte order from bytes or from the little-endian integer form."""
    if isinstance(key, int):
        if not 0 <= key <= _MASK128:
            raise ValueError(f"a 128-bit key as int must be in [0, 2**128), not {key:#x}")
        return key.to_bytes(16, "little")
    if isinstance(key, bytes | bytearray) and len(key) == 16:
        return bytes(key)
    raise ValueError(f"a key is 16 bytes or a 128-bit int, not {key!r}")


def alpha_mul(t: int) -> int:
    """Multiply the 128-bit little-endian value ``t`` by alpha (x) in GF(2^128) mod x^128+x^7+x^2+x+1."""
    t <<= 1
    if t >> 128:
        t ^= (1 << 128) | 0x87
    return t


def line_tweaks(t0: int) -> list[int]:
    """``[T_0, T_1, T_2, T_3]`` of one line from ``T_0 = AES_K2(i)``."""
    ts = [t0]
    for _ in range(3):
        ts.append(alpha_mul(ts[-1]))
    return ts


def _line_mask(t0: int) -> int:
    # T_0..T_3 laid out as the 512-bit line integer: block j in bits [128j+127:128j].
    t1 = alpha_mul(t0)
    t2 = alpha_mul(t1)
    return t0 | t1 << 128 | t2 << 256 | alpha_mul(t2) << 384


def _ecb(key: bytes):
    return Cipher(algorithms.AES(key), modes.ECB())


class LineCipher:
    """XTS-AES-128 line cipher for one key pair, with its AES contexts built once.

    Parameters
    ----------
    key1 : bytes or int
        Data key K1.
    key2 : bytes or int
        Tweak key K2 (K1 == K2 is legal).

    Notes
    -----
    ECB contexts hold no chaining state, so one encryptor is reused for every call; building
    them is the expensive part (several microseconds), which the engine pays once per key.
    """

    def __init__(self, key1: bytes | int, key2: bytes | int) -> None:
        self.key1 = key_bytes(key1)
        self.key2 = key_bytes(key2)
        self._tweak_enc = _ecb(self.key2).encryptor()
        self._data_enc = _ecb(self.key1).encryptor()
        self._data_dec = _ecb(self.key1).decryptor()

    def __repr__(self) -> str:
        return "LineCipher(<keys hidden>)"  # keys are write-only in the hardware; don't print them

    def tweak(self, i: int) -> int:
        """``T_0 = AES_K2(i)`` as a little-endian integer."""
        return int.from_bytes(self._tweak_enc.update(i.to_bytes(16, "little")), "little")

    def _crypt(self, ctx, i: int, data: bytes) -> bytes:
        if len(data) != LINE_BYTES:
            raise ValueError(f"a line is {LINE_BYTES} bytes, not {len(data)}")
        mask = _line_mask(self.tweak(i))
        x = (int.from_bytes(data, "little") ^ mask).to_bytes(LINE_BYTES, "little")
        return (int.from_bytes(ctx.update(x), "little") ^ mask).to_bytes(LINE_BYTES, "little")

    def encrypt(self, i: int, data: bytes) -> bytes:
        """Ciphertext of the 64-byte plaintext line ``data`` at tweak value ``i``."""
        return self._crypt(self._data_enc, i, data)

    def decrypt(self, i: int, data: bytes) -> bytes:
        """Plaintext of the 64-byte ciphertext line ``data`` at tweak value ``i``."""
        return self._crypt(self._data_dec, i, data)

    def _batch(self, ctx, tweaks, data: bytes) -> bytes:
        n = len(data) // LINE_BYTES
        if len(data) != n * LINE_BYTES:
            raise ValueError(f"batch data must be a multiple of {LINE_BYTES} bytes, not {len(data)}")
        if len(tweaks) != n:
            raise ValueError(f"{n} lines need {n} tweaks, not {len(tweaks)}")
        try:
            if isinstance(tweaks, range):  # consecutive lines: no per-line Python work
                tw = np.arange(tweaks.start, tweaks.stop, tweaks.step, dtype="<u8")
            else:
                tw = np.asarray(tweaks, dtype="<u8")
        except (OverflowError, ValueError, TypeError):
            # Tweaks beyond 64 bits (never a DRAM address here) take the per-line path.
            return b"".join(self._crypt(ctx, int(i), data[k * 64:(k + 1) * 64])
                            for k, i in enumerate(tweaks))
        ws = _workspace()
        out = bytearray(len(data))
        dst = np.frombuffer(out, "<u8").reshape(n, 8)
        src = np.frombuffer(data, "<u8").reshape(n, 8)
        for start in range(0, n, _CHUNK_LINES):
            m = min(_CHUNK_LINES, n - start)
            # One ECB call for all tweaks of the chunk: i as a 128-bit LE value (high half zero).
            ws.tweak_in[:m, 0] = tw[start:start + m]
            self._tweak_enc.update_into(ws.tweak_in[:m].reshape(-1).view(np.uint8).data, ws.tweak_out)
            # mask row k = T_0..T_3 of line k as eight 64-bit words (lo, hi per block).
            mask = ws.mask[:m]
            mask[:, 0:2] = ws.tweak_out_words[:2 * m].reshape(m, 2)
            t = ws.tmp[:m]
            for j in range(1, 4):  # T_j = T_{j-1} * alpha on whole columns
                lo, hi = mask[:, 2 * j - 2], mask[:, 2 * j - 1]
                new_lo, new_hi = mask[:, 2 * j], mask[:, 2 * j + 1]
                np.left_shift(lo, _ONE, out=new_lo)
                np.right_shift(hi, _63, out=t)  # bit 127 falls out: reduce with 0x87
                np.multiply(t, _POLY, out=t)
                np.bitwise_xor(new_lo, t, out=new_lo)
                np.left_shift(hi, _ONE, out=new_hi)
                np.right_shift(lo, _63, out=t)  # bit 63 carries into the high word
                np.bitwise_or(new_hi, t, out=new_hi)
            x = ws.x[:m]
            np.bitwise_xor(src[start:start + m], mask, out=x)
            # One ECB call for all data blocks of the chunk.
            ctx.update_into(x.reshape(-1).view(np.uint8).data, ws.y)
            np.bitwise_xor(ws.y_words[:8 * m].reshape(m, 8), mask, out=dst[start:start + m])
        return bytes(out)

    def encrypt_batch(self, tweaks: Sequence[int], data: bytes) -> bytes:
        """Encrypt ``len(tweaks)`` consecutive 64-byte lines of ``data``, line k at ``tweaks[k]``."""
        return self._batch(self._data_enc, tweaks, data)

    def decrypt_batch(self, tweaks: Sequence[int], data: bytes) -> bytes:
        """Decrypt ``len(tweaks)`` consecutive 64-byte lines of ``data``, line k at ``tweaks[k]``."""
        return self._batch(self._data_dec, tweaks, data)


@functools.lru_cache(maxsize=256)
def _cached(key1: bytes, key2: bytes) -> LineCipher:
    return LineCipher(key1, key2)


def line_cipher(key1: bytes | int, key2: bytes | int) -> LineCipher:
    """A (cached) :class:`LineCipher` for the key pair."""
    return _cached(key_bytes(key1), key_bytes(key2))


def xts_encrypt_line(key1: bytes | int, key2: bytes | int, tweak: int, data: bytes) -> bytes:
    """XTS-AES-128 encryption of one 64-byte line at tweak value ``tweak``."""
    return line_cipher(key1, key2).encrypt(tweak, data)


def xts_decrypt_line(key1: bytes | int, key2: bytes | int, tweak: int, data: bytes) -> bytes:
    """XTS-AES-128 decryption of one 64-byte line at tweak value ``tweak``."""
    return line_cipher(key1, key2).decrypt(tweak, data)


def encrypt_lines_batch(key1: bytes | int, key2: bytes | int, tweaks: Sequence[int], data: bytes) -> bytes:
    """Encrypt many lines in one go (same result as :func:`xts_encrypt_line` line by line)."""
    return line_cipher(key1, key2).encrypt_batch(tweaks, data)


def decrypt_lines_batch(key1: bytes | int, key2: bytes | int, tweaks: Sequence[int], data: bytes) -> bytes:
    """Decrypt many lines in one go (same result as :func:`xts_decrypt_line` line by line)."""
    return line_cipher(key1, key2).decrypt_batch(tweaks, data)
