"""No integrity: one flipped ciphertext bit garbles exactly one 16-byte block of the line."""

from __future__ import annotations

from typing import TextIO

from ._dump import side_by_side
from ._platform import amd_sme_platform
from .registry import demo

PLAIN = bytes(range(64))


def garbled_blocks(a: bytes, b: bytes) -> list[int]:
    """Indices of the 16-byte blocks where ``a`` and ``b`` differ."""
    return [j for j in range(len(a) // 16) if a[16 * j:16 * j + 16] != b[16 * j:16 * j + 16]]


@demo("bit-flip", "flip one DRAM bit of an encrypted line: exactly one 16-byte block decrypts to garbage")
def run(out: TextIO) -> bool:
    eng, cpu = amd_sme_platform()
    pa = 0x30_0000
    cpu.write_phys(pa | cpu.c_bit, PLAIN)
    cpu.wbinvd()
    bit = 8 * 37 + 5  # byte 37 is in block 2
    cipher = eng.dram.peek(pa)
    print(f"before: line at {pa:#x} written through C=1; flip DRAM bit {bit} (byte 37, block 2)", file=out)
    eng.dram.flip_bit(pa, bit)
    after = cpu.read_phys(pa | cpu.c_bit, 64)
    blocks = garbled_blocks(PLAIN, after)
    print("after:  the CPU reads the line back", file=out)
    columns = [("written", PLAIN), ("DRAM before", cipher), ("DRAM after the flip", eng.dram.peek(pa)),
               ("read back", after)]
    print(side_by_side(columns, base=pa, width=8), file=out)
    print(f"        garbled 16-byte blocks: {blocks} (no error: there is no integrity check)", file=out)
    return blocks == [bit // 128]
