"""Cold boot: a DRAM dump holds no plaintext under SME or TME, but does under bypass / NO_ENCRYPT.

With ``--dump DIR`` each scenario's raw DRAM image is written to ``DIR/<scenario>.img`` (byte
offset = DRAM address), so the attack can be replayed with ordinary tools::

    python -m golden_model demo cold-boot --dump /tmp/dumps
    strings /tmp/dumps/tme-bypass.img | grep password     # found
    strings /tmp/dumps/sme-tsme.img | grep password       # nothing
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TextIO

from ..dram import Dram
from ..keytable import Command, KeyProgramCommand
from ._dump import hexdump
from ._platform import amd_sme_platform, intel_tme_platform
from .registry import demo

__all__ = ["SECRET", "PA", "run", "dump_has_secret", "strings"]

SECRET = b"password=hunter2; card=4111-1111"
PA = 0x20_0000


def strings(image: bytes, min_len: int = 4) -> list[bytes]:
    """Runs of at least ``min_len`` printable ASCII characters, as ``strings(1)`` finds them."""
    return re.findall(rb"[\x20-\x7e]{%d,}" % min_len, image)


def dump_has_secret(dram: Dram, path: Path | None = None) -> bool:
    """Write the raw image to a file (``path``, or a temporary one) and search it as the
    attacker would: ``strings`` on the file."""
    with tempfile.TemporaryDirectory() as tmp:
        target = path if path is not None else Path(tmp) / "dram.img"
        dram.write_image(target)
        return any(SECRET in s for s in strings(target.read_bytes()))


def _scenarios():
    eng, cpu = amd_sme_platform(seed=2, tsme=True)  # another seed than TME: another key
    yield "sme-tsme", "SME/TSME (host key)", eng, cpu, 0
    eng, cpu = intel_tme_platform()
    yield "tme", "TME (KeyID 0)", eng, cpu, 0
    eng, cpu = intel_tme_platform(bypass=True)
    yield "tme-bypass", "TME bypass", eng, cpu, 0
    eng, cpu = intel_tme_platform()
    eng.key_program(KeyProgramCommand(3, Command.NO_ENCRYPT))
    yield "keyid3-no-encrypt", "TME-MK KeyID 3 = NO_ENCRYPT", eng, cpu, cpu.keyid_tag(3)


_EXPECTED = {"sme-tsme": False, "tme": False, "tme-bypass": True, "keyid3-no-encrypt": True}


@demo("cold-boot", "dump DRAM to a file, search it for a secret: absent under SME/TME, present under bypass",
      dumps=True)
def run(out: TextIO, dump_dir: Path | None = None) -> bool:
    ok = True
    print(f"before: the OS writes {SECRET!r} to PA {PA:#x}, then the machine is frozen and the DIMM read",
          file=out)
    for slug, name, eng, cpu, tag in _scenarios():
        cpu.write_phys(PA | tag, SECRET)
        cpu.wbinvd()
        path = dump_dir / f"{slug}.img" if dump_dir is not None else None
        found = dump_has_secret(eng.dram, path)
        readback = cpu.read_phys(PA | tag, len(SECRET))
        print(f"after:  {name:30s} secret in DRAM dump: {'YES' if found else 'no '}  (CPU reads back "
              f"{'ok' if readback == SECRET else 'WRONG'})", file=out)
        print(hexdump(eng.dram.peek(PA)[:len(SECRET)], PA, indent="          "), file=out)
        if path is not None:
            print(f"        raw DRAM image: {path} (try: strings {path} | grep password)", file=out)
        ok &= found == _EXPECTED[slug] and readback == SECRET
    return ok
