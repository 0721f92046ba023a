"""SME page test: a page written with C=1 reads as ciphertext through a C=0 alias."""

from __future__ import annotations

from typing import TextIO

from ._platform import amd_sme_platform, hexline
from .registry import demo

SECRET = b"SME protects this page".ljust(64, b".")


@demo("sme-page", "write a page with the C-bit set; read it back with C=0 (ciphertext) and C=1 (secret)")
def run(out: TextIO) -> bool:
    eng, cpu = amd_sme_platform()
    pt = cpu.new_page_tables(tag=cpu.c_bit)
    frame = cpu.alloc_frame()
    enc_va, plain_va = 0x40_0000, 0x50_0000
    pt.map(enc_va, frame | cpu.c_bit)  # encrypted mapping
    pt.map(plain_va, frame)  # alias of the same frame with C=0
    cpu.write(pt, enc_va, SECRET)
    print(f"before: wrote through C=1 at PA {frame | cpu.c_bit:#x}: {SECRET[:22]!r}", file=out)
    cpu.wbinvd()  # the two aliases are different cache lines: flush before switching views
    via_c0 = cpu.read(pt, plain_va, 64)
    via_c1 = cpu.read(pt, enc_va, 64)
    print(f"after:  read with C=0: {hexline(via_c0)}  (ciphertext, what DRAM holds)", file=out)
    print(f"        read with C=1: {via_c1[:22]!r}", file=out)
    return via_c1 == SECRET and via_c0 == eng.dram.peek(frame) and SECRET[:16] not in via_c0
