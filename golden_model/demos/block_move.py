"""Ciphertext block move: XE's linear tweak makes a moved block predictable, XTS makes it garbage."""

from __future__ import annotations

from typing import TextIO

from ..xe import XeCipher
from ..xts import xts_decrypt_line, xts_encrypt_line
from ._dump import hexdump
from .registry import demo

KEY1, KEY2 = bytes(range(16)), bytes(range(16, 32))
PA_A, PA_B = 0x12_3400, 0x45_6780  # 16-byte aligned block addresses
PLAIN = b"jmp attacker_code"[:16]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@demo("xe-block-move", "move a ciphertext block to another address: XE gives P^T(A)^T(B), XTS gives garbage")
def run(out: TextIO) -> bool:
    xe = XeCipher(KEY1)
    c = xe.encrypt(PA_A, PLAIN)
    moved = xe.decrypt(PA_B, c)  # the CPU reads the moved block at PA_B
    delta = (xe.tweak(PA_A) ^ xe.tweak(PA_B)).to_bytes(16, "little")
    print(f"before: block {PLAIN!r} encrypted at {PA_A:#x}, moved to {PA_B:#x}", file=out)
    print(f"after (XE):  reads {moved.hex()} = P ^ T(A) ^ T(B): {moved == _xor(PLAIN, delta)}", file=out)
    # Known plaintext at A and the observed result at B give T(A)^T(B): the attacker can now
    # place any chosen block at B by moving AES_K(X ^ T(A)) with X = wanted ^ T(A) ^ T(B).
    learned = _xor(moved, PLAIN)
    print(f"             learned T(A)^T(B) = {learned.hex()}", file=out)
    # XTS: the same move of one 16-byte block within a line (block 0 of line A to block 0 of line B).
    line_a, line_b = PA_A & ~63, PA_B & ~63
    ct = xts_encrypt_line(KEY1, KEY2, line_a, PLAIN * 4)
    forged = ct[:16] + xts_encrypt_line(KEY1, KEY2, line_b, bytes(64))[16:]
    xts_moved = xts_decrypt_line(KEY1, KEY2, line_b, forged)[:16]
    print("after (XTS): reads (unrelated to P and to any linear function of it):", file=out)
    print(hexdump(xts_moved, line_b), file=out)
    return moved == _xor(PLAIN, delta) and learned == delta and xts_moved != PLAIN
