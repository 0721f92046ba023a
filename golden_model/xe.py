"""First-generation AMD-style XE mode: ``C = AES_K(P ^ T(PA))`` with a *linear* address tweak.

Research on Zen 1 (Du et al. 2017; SEVurity 2020; facts §1.8) found that the tweak is the XOR
of one fixed 128-bit constant ``t_i`` per set address bit ``i >= 4`` (the tweak works on 16-byte
blocks). Because ``T`` is linear, a ciphertext block moved from address A to address B decrypts
to ``P ^ T(A) ^ T(B)``: predictable, and known plaintext reveals the constants. XTS
(``T = AES_K2(i) * alpha^j``) has no such structure. Used only by the block-move demo.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .xts import key_bytes

__all__ = ["XeCipher"]

_BLOCK = 16


class XeCipher:
    """AES-128 XE with ``T(pa) = XOR of t_i over set bits i >= 4 of pa``.

    Parameters
    ----------
    key : bytes or int
        The AES key.
    seed : bytes
        Selects the tweak constants ``t_i = SHA-256(seed || i)[:16]`` (the real constants are
        fixed per part; any fixed values show the same linearity).
    """

    def __init__(self, key: bytes | int, seed: bytes = b"zen1-xe") -> None:
        cipher = Cipher(algorithms.AES(key_bytes(key)), modes.ECB())
        self._enc = cipher.encryptor()
        self._dec = cipher.decryptor()
        self.constants = {
            i: int.from_bytes(hashlib.sha256(seed + bytes([i])).digest()[:16], "little")
            for i in range(4, 64)
        }

    def __repr__(self) -> str:
        return "XeCipher(<key hidden>)"

    def tweak(self, pa: int) -> int:
        """``T(pa)`` of the 16-byte block at ``pa`` (bits 3:0 ignored)."""
        t = 0
        for i in range(4, pa.bit_length()):
            if pa >> i & 1:
                t ^= self.constants[i]
        return t

    def _crypt(self, pa: int, data: bytes, decrypt: bool) -> bytes:
        if pa % _BLOCK or len(data) % _BLOCK:
            raise ValueError("XE works on 16-byte-aligned whole blocks")
        out = bytearray()
        for j in range(0, len(data), _BLOCK):
            t = self.tweak(pa + j)
            block = int.from_bytes(data[j:j + _BLOCK], "little")
            if decrypt:
                y = int.from_bytes(self._dec.update(block.to_bytes(_BLOCK, "little")), "little") ^ t
                out += y.to_bytes(_BLOCK, "little")
            else:
                out += self._enc.update((block ^ t).to_bytes(_BLOCK, "little"))
        return bytes(out)

    def encrypt(self, pa: int, data: bytes) -> bytes:
        """Encrypt whole 16-byte blocks starting at ``pa``: ``C = AES_K(P ^ T(pa))``."""
        return self._crypt(pa, data, decrypt=False)

    def decrypt(self, pa: int, data: bytes) -> bytes:
        """Decrypt whole 16-byte blocks starting at ``pa``: ``P = AES^-1_K(C) ^ T(pa)``."""
        return self._crypt(pa, data, decrypt=True)
