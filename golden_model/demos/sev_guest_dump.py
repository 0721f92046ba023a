"""SEV guest memory dump: the hypervisor reads a running SEV guest's memory and sees ciphertext,
except in the buffer the guest shares on purpose; the same guest without SEV leaks everything.

The guest is launched through the SEV firmware model exactly as QEMU/KVM do it (LAUNCH_START
with the guest owner's session, ACTIVATE, LAUNCH_UPDATE_DATA of its firmware image,
LAUNCH_MEASURE checked by the guest owner, LAUNCH_SECRET, LAUNCH_FINISH) and then runs on the
CPU model (:mod:`golden_model.cpu`): its private stores carry C = 1 and its ASID, its store to
the shared buffer carries C = 0 (facts §1.7, §2.2, §2.10).
"""

from __future__ import annotations

from typing import TextIO

from ..cpu import Cpu
from ..engine import Engine
from ..entropy import EntropySource
from ..sev import GuestOwner, GuestPolicy, SecureProcessor, SevStatus, launch_digest
from .registry import demo

__all__ = ["run", "SECRET", "SHARED_MESSAGE"]

SECRET = b"TOP-SECRET: db password = swordfish"
SHARED_MESSAGE = b"virtio: hello hypervisor, please send packet 42"
OWNER_SECRET = b"disk-key:0123456789abcdef0123456789abcdef".ljust(48, b"\0")
FIRMWARE = b"guest firmware v1.0 ".ljust(256, b"#")
ASID = 1
# Guest-physical layout (identity for the demo): firmware, private data, shared buffer.
GPA_FIRMWARE, GPA_PRIVATE, GPA_SHARED = 0x0000, 0x1000, 0x2000


def _check(ok: bool, out: TextIO, what: str) -> bool:
    if not ok:
        print(f"MODEL ERROR: {what}", file=out)
    return ok


def _sev_guest(out: TextIO) -> tuple[Engine, Cpu, SecureProcessor, int, dict[int, int]] | None:
    """Launch an SEV guest through the firmware; ``None`` (after printing why) on a failure."""
    engine = Engine(entropy=EntropySource(seed=1))
    cpu = Cpu(engine)
    sp = SecureProcessor(engine, cpu=cpu, seed=3)
    # Host driver: INIT, then WBINVD + DF_FLUSH so ASIDs are clean (what Linux does after INIT).
    if sp.init() != SevStatus.SUCCESS:
        return None
    sp.wbinvd()
    if sp.df_flush() != SevStatus.SUCCESS:
        return None
    owner = GuestOwner(GuestPolicy(nodbg=True, noks=True), seed=5)
    bundle = owner.build_session(sp.pdh_cert_export().pdh)
    start = sp.launch_start(bundle.policy, bundle.dh_cert, bundle.session)
    handle = start.handle
    steps = [("LAUNCH_START", start.status), ("ACTIVATE", sp.activate(handle, ASID))]
    guest = cpu.new_guest(ASID)
    hpa = {gpa: cpu.alloc_frame() for gpa in (GPA_FIRMWARE, GPA_PRIVATE, GPA_SHARED)}
    for gpa, frame in hpa.items():
        guest.map_gpa(gpa, frame)
    # The hypervisor copies the firmware image into guest memory in plaintext; the firmware
    # measures it and encrypts it in place with the guest's key.
    cpu.write_phys(hpa[GPA_FIRMWARE], FIRMWARE)
    steps.append(("LAUNCH_UPDATE_DATA", sp.launch_update_data(handle, hpa[GPA_FIRMWARE], len(FIRMWARE))))
    measure = sp.launch_measure(handle)
    steps.append(("LAUNCH_MEASURE", measure.status))
    st = sp.platform_status()
    if not owner.verify_measurement(measure.measurement, launch_digest(FIRMWARE), api_major=st.api_major,
                                    api_minor=st.api_minor, build=st.build):
        print("guest owner: measurement does NOT match, no secret released", file=out)
        return None
    packet = owner.wrap_secret(OWNER_SECRET)
    steps.append(("LAUNCH_SECRET", sp.launch_secret(handle, packet.header, hpa[GPA_PRIVATE] + 0x100,
                                                     len(OWNER_SECRET), packet.trans)))
    steps.append(("LAUNCH_FINISH", sp.launch_finish(handle)))
    for name, status in steps:
        print(f"  {name:20s} -> {SevStatus(status).name}", file=out)
    if any(status != SevStatus.SUCCESS for _, status in steps):
        return None
    print("  guest owner verified the measurement and released its disk key", file=out)
    # The guest runs: a private store (C = 1, its ASID) and a store to the shared buffer (C = 0).
    guest.write_gpa(GPA_PRIVATE, SECRET, private=True)
    guest.write_gpa(GPA_SHARED, SHARED_MESSAGE, private=False)
    if not (guest.read_gpa(GPA_PRIVATE, len(SECRET)) == SECRET
            and guest.read_gpa(GPA_PRIVATE + 0x100, len(OWNER_SECRET)) == OWNER_SECRET
            and guest.read_gpa(GPA_FIRMWARE, len(FIRMWARE)) == FIRMWARE):
        print("MODEL ERROR: the guest cannot read its own memory", file=out)
        return None
    return engine, cpu, sp, handle, hpa


def _hypervisor_dump(cpu: Cpu, sp: SecureProcessor | None, hpa: dict[int, int]) -> bytes:
    """WBINVD (so DRAM is current), then read every guest page with ASID 0 and C = 0."""
    if sp is not None:
        sp.wbinvd()
    else:
        cpu.wbinvd()
    return b"".join(cpu.read_phys(frame, 4096) for frame in hpa.values())


@demo("sev-guest-dump", "hypervisor dumps an SEV guest's memory: secret absent, shared buffer visible")
def run(out: TextIO) -> bool:
    print("before: launch an SEV guest through the Secure Processor (ASID 1)", file=out)
    launched = _sev_guest(out)
    if launched is None:
        return False
    engine, cpu, sp, _, hpa = launched
    print(f"        guest writes {SECRET!r} to private memory (C=1)", file=out)
    print(f"        guest writes {SHARED_MESSAGE!r} to its shared buffer (C=0)", file=out)
    dump = _hypervisor_dump(cpu, sp, hpa)
    secret_seen = SECRET in dump or engine.dram.contains_bytes(SECRET)
    owner_secret_seen = OWNER_SECRET[:16] in dump
    firmware_seen = FIRMWARE[:20] in dump
    shared_seen = SHARED_MESSAGE in dump
    print("after (SEV):    hypervisor dump of the guest's pages:", file=out)
    print(f"  guest secret        {'VISIBLE' if secret_seen else 'absent (ciphertext)'}", file=out)
    print(f"  owner's disk key    {'VISIBLE' if owner_secret_seen else 'absent (ciphertext)'}", file=out)
    print(f"  firmware image      {'VISIBLE' if firmware_seen else 'absent (encrypted in place)'}", file=out)
    print(f"  shared buffer       {'visible' if shared_seen else 'MISSING'}", file=out)

    # The same guest as a plain VM: every access is ASID 0, C = 0.
    engine2 = Engine(entropy=EntropySource(seed=1))
    cpu2 = Cpu(engine2)
    frames = {gpa: cpu2.alloc_frame() for gpa in (GPA_FIRMWARE, GPA_PRIVATE, GPA_SHARED)}
    cpu2.write_phys(frames[GPA_FIRMWARE], FIRMWARE)
    cpu2.write_phys(frames[GPA_PRIVATE], SECRET)
    cpu2.write_phys(frames[GPA_SHARED], SHARED_MESSAGE)
    dump2 = _hypervisor_dump(cpu2, None, frames)
    plain_secret_seen = SECRET in dump2
    print("after (no SEV): hypervisor dump of the same guest without SEV:", file=out)
    print(f"  guest secret        {'VISIBLE' if plain_secret_seen else 'absent'}", file=out)
    print(f"  shared buffer       {'visible' if SHARED_MESSAGE in dump2 else 'MISSING'}", file=out)

    ok = _check(not secret_seen and not owner_secret_seen and not firmware_seen, out,
                "SEV guest plaintext reached the hypervisor's dump")
    ok &= _check(shared_seen, out, "the shared buffer should be readable by the hypervisor")
    ok &= _check(plain_secret_seen and SHARED_MESSAGE in dump2, out, "a non-SEV guest should leak its memory")
    return ok
