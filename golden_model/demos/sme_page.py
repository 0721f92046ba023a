"""SME page test: the same frame through an encrypted (C=1) and a plaintext (C=0) mapping.

The C-bit comes from CPUID Fn8000_001F EBX[5:0] and SYSCFG[23], as Linux's ``sme_enable()``
computes ``sme_me_mask`` (facts §1.3). Part 1 writes through C=1 and reads both ways: C=0
returns the raw ciphertext DRAM holds. Part 2 writes through C=0 and reads through C=1: the
engine decrypts plaintext, i.e. garbage (facts §1.7).
"""

from __future__ import annotations

from typing import TextIO

from ..platform import AmdPlatform
from ._dump import side_by_side
from .registry import demo

SECRET = b"SME protects this page".ljust(64, b".")
PLAIN = b"written with C=0: plaintext".ljust(64, b"_")


@demo("sme-page", "write a page with the C-bit set; read it back with C=0 (ciphertext) and C=1 (secret)")
def run(out: TextIO) -> bool:
    plat = AmdPlatform()
    cpu, dram = plat.cpu, plat.dram
    me_mask = plat.sme_me_mask()  # what the kernel derives from CPUID and SYSCFG
    print(f"CPUID Fn8000_001F EBX = {plat.cpuid(0x8000_001F).ebx:#x}: C-bit {me_mask.bit_length() - 1}, "
          f"SYSCFG = {plat.rdmsr(0xC001_0010):#x}: sme_me_mask = {me_mask:#x}", file=out)
    pt = cpu.new_page_tables(tag=me_mask)
    frame = cpu.alloc_frame()
    enc_va, plain_va = 0x40_0000, 0x50_0000
    pt.map(enc_va, frame | me_mask)  # encrypted mapping
    pt.map(plain_va, frame)  # alias of the same frame with C=0

    # Part 1: written through C=1.
    cpu.write(pt, enc_va, SECRET)
    cpu.wbinvd()  # the two aliases are different cache lines: flush before switching views
    via_c0 = cpu.read(pt, plain_va, 64)
    via_c1 = cpu.read(pt, enc_va, 64)
    print(f"before: wrote 64 bytes through C=1 (PA {frame | me_mask:#x}), WBINVD", file=out)
    print("after:  the same line read both ways", file=out)
    print(side_by_side([("written (C=1)", SECRET), ("read with C=0 = DRAM", via_c0),
                        ("read with C=1", via_c1)], base=frame), file=out)
    part1 = via_c1 == SECRET and via_c0 == dram.peek(frame) and SECRET[:16] not in via_c0

    # Part 2: written through C=0, read through C=1.
    cpu.write(pt, plain_va, PLAIN)
    cpu.wbinvd()
    via_c1_2 = cpu.read(pt, enc_va, 64)
    print(f"before: wrote 64 bytes through C=0 (PA {frame:#x}), WBINVD", file=out)
    print("after:  read through C=1 the engine decrypts plaintext: garbage", file=out)
    print(side_by_side([("written (C=0) = DRAM", dram.peek(frame)), ("read with C=1", via_c1_2)],
                       base=frame), file=out)
    part2 = dram.peek(frame) == PLAIN and via_c1_2 != PLAIN
    return part1 and part2
