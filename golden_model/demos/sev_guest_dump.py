"""SEV guest memory dump: the hypervisor reads a running SEV guest's memory and sees ciphertext,
except in the buffer the guest shares on purpose; the same guest without SEV leaks everything.

The guest is launched through the SEV firmware model exactly as QEMU/KVM do it
(:mod:`._sev`) and then runs on the CPU model (:mod:`golden_model.cpu`): its private stores
carry C = 1 and its ASID, its store to the shared buffer carries C = 0 (facts §1.7, §2.2,
§2.10). With ``--dump DIR`` the raw DRAM images of both machines are written to
``DIR/sev.img`` and ``DIR/no-sev.img``; ``strings DIR/no-sev.img | grep TOP-SECRET`` finds
the secret, ``strings DIR/sev.img | grep TOP-SECRET`` does not (the Oracle blog's experiment).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from ..platform import AmdPlatform
from ..sev import GuestPolicy
from ._dump import hexdump
from ._sev import FIRMWARE, GPA_FIRMWARE, GPA_PRIVATE, GPA_SHARED, OWNER_SECRET, init_platform, launch_guest
from .cold_boot import strings
from .registry import demo

__all__ = ["run", "SECRET", "SHARED_MESSAGE"]

SECRET = b"TOP-SECRET: db password = swordfish"
SHARED_MESSAGE = b"virtio: hello hypervisor, please send packet 42"
ASID = 1


def _check(ok: bool, out: TextIO, what: str) -> bool:
    if not ok:
        print(f"MODEL ERROR: {what}", file=out)
    return ok


def _image_has(plat: AmdPlatform, needle: bytes, path: Path | None) -> bool:
    """``strings`` on the raw DRAM image (written to ``path`` when given)."""
    if path is not None:
        plat.dram.write_image(path)
        image = path.read_bytes()
    else:
        image = plat.dram.image()
    return any(needle in s for s in strings(image))


@demo("sev-guest-dump", "hypervisor dumps an SEV guest's memory: secret absent, shared buffer visible",
      dumps=True)
def run(out: TextIO, dump_dir: Path | None = None) -> bool:
    print(f"before: launch an SEV guest through the Secure Processor (ASID {ASID})", file=out)
    plat = AmdPlatform(name="sev", firmware_seed=3)
    if not init_platform(plat):
        return _check(False, out, "INIT / DF_FLUSH failed")
    launched = launch_guest(plat, GuestPolicy(nodbg=True, noks=True), ASID, out)
    if launched is None:
        return False
    guest, hpa = launched.guest, launched.hpa
    print("  guest owner verified the measurement and released its disk key", file=out)
    # The guest runs: a private store (C = 1, its ASID) and a store to the shared buffer (C = 0).
    guest.write_gpa(GPA_PRIVATE, SECRET, private=True)
    guest.write_gpa(GPA_SHARED, SHARED_MESSAGE, private=False)
    if not _check(guest.read_gpa(GPA_PRIVATE, len(SECRET)) == SECRET
                  and guest.read_gpa(GPA_PRIVATE + 0x100, len(OWNER_SECRET)) == OWNER_SECRET
                  and guest.read_gpa(GPA_FIRMWARE, len(FIRMWARE)) == FIRMWARE, out,
                  "the guest cannot read its own memory"):
        return False
    print(f"        guest writes {SECRET!r} to private memory (C=1)", file=out)
    print(f"        guest writes {SHARED_MESSAGE!r} to its shared buffer (C=0)", file=out)
    frames = [hpa[g] for g in (GPA_FIRMWARE, GPA_PRIVATE, GPA_SHARED)]
    dump = plat.host_dump(frames)  # WBINVD, then C = 0 / ASID 0 reads of every guest page
    sev_path = dump_dir / "sev.img" if dump_dir is not None else None
    secret_seen = SECRET in dump or _image_has(plat, SECRET, sev_path)
    owner_secret_seen = OWNER_SECRET[:16] in dump
    firmware_seen = FIRMWARE[:20] in dump
    shared_seen = SHARED_MESSAGE in dump
    print("after (SEV):    hypervisor dump of the guest's pages:", file=out)
    print(f"  guest secret        {'VISIBLE' if secret_seen else 'absent (ciphertext)'}", file=out)
    print(hexdump(dump[4096:4096 + 48], hpa[GPA_PRIVATE], indent="    "), file=out)
    print(f"  owner's disk key    {'VISIBLE' if owner_secret_seen else 'absent (ciphertext)'}", file=out)
    print(f"  firmware image      {'VISIBLE' if firmware_seen else 'absent (encrypted in place)'}", file=out)
    print(f"  shared buffer       {'visible' if shared_seen else 'MISSING'}", file=out)
    print(hexdump(dump[8192:8192 + 48], hpa[GPA_SHARED], indent="    "), file=out)
    if sev_path is not None:
        print(f"  raw DRAM image: {sev_path} (try: strings {sev_path} | grep TOP-SECRET)", file=out)

    # The same guest as a plain VM: every access is ASID 0, C = 0.
    plain = AmdPlatform(name="no-sev")
    frames2 = [plain.cpu.alloc_frame() for _ in range(3)]
    plain.cpu.write_phys(frames2[0], FIRMWARE)
    plain.cpu.write_phys(frames2[1], SECRET)
    plain.cpu.write_phys(frames2[2], SHARED_MESSAGE)
    dump2 = plain.host_dump(frames2)
    plain_path = dump_dir / "no-sev.img" if dump_dir is not None else None
    plain_secret_seen = SECRET in dump2 and _image_has(plain, SECRET, plain_path)
    print("after (no SEV): hypervisor dump of the same guest without SEV:", file=out)
    print(f"  guest secret        {'VISIBLE' if plain_secret_seen else 'absent'}", file=out)
    print(hexdump(dump2[4096:4096 + 48], frames2[1], indent="    "), file=out)
    print(f"  shared buffer       {'visible' if SHARED_MESSAGE in dump2 else 'MISSING'}", file=out)
    if plain_path is not None:
        print(f"  raw DRAM image: {plain_path} (try: strings {plain_path} | grep TOP-SECRET)", file=out)

    ok = _check(not secret_seen and not owner_secret_seen and not firmware_seen, out,
                "SEV guest plaintext reached the hypervisor's dump")
    ok &= _check(shared_seen, out, "the shared buffer should be readable by the hypervisor")
    ok &= _check(plain_secret_seen and SHARED_MESSAGE in dump2, out, "a non-SEV guest should leak its memory")
    return ok
