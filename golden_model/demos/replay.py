"""Ciphertext replay at the same address: old ciphertext decrypts to the old plaintext (no freshness)."""

from __future__ import annotations

from typing import TextIO

from ._dump import hexdump
from ._platform import intel_tme_platform
from .registry import demo

OLD = b"balance=0000100 EUR".ljust(64, b" ")
NEW = b"balance=0000000 EUR".ljust(64, b" ")


@demo("replay", "record a line's ciphertext, let it change, put the old ciphertext back: old value returns")
def run(out: TextIO) -> bool:
    eng, cpu = intel_tme_platform()
    pa = 0x40_0000
    cpu.write_phys(pa, OLD)
    cpu.wbinvd()
    recorded = eng.dram.peek(pa)
    print(f"before: memory at PA {pa:#x} holds {OLD[:19]!r}; the attacker records its DRAM line:", file=out)
    print(hexdump(recorded, pa), file=out)
    cpu.write_phys(pa, NEW)
    cpu.wbinvd()
    before = cpu.read_phys(pa, 64)
    cpu.wbinvd()
    print(f"        the program then writes {NEW[:19]!r}; DRAM now holds:", file=out)
    print(hexdump(eng.dram.peek(pa), pa), file=out)
    eng.dram.poke(pa, recorded)  # the attacker writes the old ciphertext back to the DIMM
    after = cpu.read_phys(pa, 64)
    print("after:  the attacker writes the recorded line back to the DIMM", file=out)
    print(f"        recorded value {OLD[:19]!r}; the program now reads {after[:19]!r} "
          f"(it last wrote {NEW[:19]!r}; no integrity, no freshness)", file=out)
    return before == NEW and after == OLD
