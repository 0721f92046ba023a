"""Cold boot: a DRAM dump holds no plaintext under SME or TME, but does under bypass / NO_ENCRYPT."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TextIO

from ..dram import Dram
from ..keytable import Command, KeyProgramCommand
from ._platform import amd_sme_platform, intel_tme_platform
from .registry import demo

SECRET = b"password=hunter2; card=4111-1111"


def dump_has_secret(dram: Dram) -> bool:
    """Dump to a file and search the file as the attacker would."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dram.txt"
        dram.dump(path)
        return Dram.load(path).contains_bytes(SECRET)


def _scenarios():
    eng, cpu = amd_sme_platform(tsme=True)
    yield "SME/TSME (host key)", eng, cpu, 0
    eng, cpu = intel_tme_platform()
    yield "TME (KeyID 0)", eng, cpu, 0
    eng, cpu = intel_tme_platform(bypass=True)
    yield "TME bypass", eng, cpu, 0
    eng, cpu = intel_tme_platform()
    eng.key_program(KeyProgramCommand(3, Command.NO_ENCRYPT))
    yield "TME-MK KeyID 3 = NO_ENCRYPT", eng, cpu, cpu.keyid_tag(3)


@demo("cold-boot", "dump DRAM to a file, search it for a secret: absent under SME/TME, present under bypass")
def run(out: TextIO) -> bool:
    expected = {"SME/TSME (host key)": False, "TME (KeyID 0)": False, "TME bypass": True,
                "TME-MK KeyID 3 = NO_ENCRYPT": True}
    ok = True
    print(f"before: the OS writes {SECRET!r} to PA 0x200000, then the machine is frozen and the DIMM read",
          file=out)
    for name, eng, cpu, tag in _scenarios():
        cpu.write_phys(0x20_0000 | tag, SECRET)
        cpu.wbinvd()
        found = dump_has_secret(eng.dram)
        readback = cpu.read_phys(0x20_0000 | tag, len(SECRET))
        print(f"after:  {name:30s} secret in DRAM dump: {'YES' if found else 'no '}  (CPU reads back "
              f"{'ok' if readback == SECRET else 'WRONG'})", file=out)
        ok &= found == expected[name] and readback == SECRET
    return ok
