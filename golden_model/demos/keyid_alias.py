"""TME-MK KeyID aliasing: aliases are not coherent, and a stale dirty line survives a re-key."""

from __future__ import annotations

from typing import TextIO

from ..keytable import Command, KeyProgramCommand, KeyProgramStatus
from ._dump import hexdump
from ._platform import intel_tme_platform
from .registry import demo

SECRET_A = b"tenant A: private key 0xDEADBEEF".ljust(64, b"!")


@demo("keyid-alias", "TME-MK: write via KeyID 1, read via KeyID 2; stale dirty line after a re-key")
def run(out: TextIO) -> bool:
    eng, cpu = intel_tme_platform()
    for keyid in (1, 2):
        status = eng.key_program(KeyProgramCommand(keyid, Command.SET_KEY_RANDOM))
        assert status is KeyProgramStatus.PROG_SUCCESS
    pa = 0x60_0000
    k1, k2 = cpu.keyid_tag(1), cpu.keyid_tag(2)

    # Part 1: one DRAM line, two KeyIDs, two cache lines.
    cpu.write_phys(pa | k1, SECRET_A)
    cpu.wbinvd()
    via_k2 = cpu.read_phys(pa | k2, 64)
    print(f"before: wrote {SECRET_A[:32]!r} through KeyID 1 (PA {pa | k1:#x}), flushed", file=out)
    print(f"after:  read through KeyID 2 (PA {pa | k2:#x}):", file=out)
    print(hexdump(via_k2[:32], pa), file=out)
    print("        (same DRAM line, same tweak, another key: garbage)", file=out)
    part1 = via_k2 != SECRET_A and cpu.read_phys(pa | k1, 64) == SECRET_A

    # Part 2: tenant A leaves a dirty line in the cache; KeyID 1 is re-keyed for tenant B without
    # the required WBINVD. The stale line is written back later, encrypted with B's key.
    cpu.wbinvd()
    line2 = pa + 64
    cpu.write_phys(line2 | k1, SECRET_A)  # dirty, not flushed
    status = eng.key_program(KeyProgramCommand(1, Command.SET_KEY_RANDOM))  # re-key for tenant B
    cpu.wbinvd()  # the stale line reaches DRAM now, under the new key
    tenant_b = cpu.read_phys(line2 | k1, 64)
    flushed_before = cpu.read_phys(pa | k1, 64)  # this line reached DRAM before the re-key
    print("before: tenant A's dirty line sits in the cache; KeyID 1 re-keyed for tenant B without WBINVD",
          file=out)
    print(f"after:  tenant B reads the stale line: {tenant_b[:32]!r} (tenant A's data leaked)", file=out)
    print("        tenant B reads a line flushed before the re-key (garbage):", file=out)
    print(hexdump(flushed_before[:32], pa), file=out)
    part2 = status is KeyProgramStatus.PROG_SUCCESS and tenant_b == SECRET_A and flushed_before != SECRET_A
    return part1 and part2
