"""Launching an SEV guest through the firmware model, shared by the SEV demos.

The flow is QEMU/KVM's (facts §2.10): the host driver INITs the platform and runs WBINVD +
DF_FLUSH; then LAUNCH_START with the guest owner's session, ACTIVATE, LAUNCH_UPDATE_DATA of
the guest's firmware image, LAUNCH_MEASURE checked by the guest owner, LAUNCH_SECRET,
LAUNCH_FINISH. The guest then runs on the platform's CPU model with one private page and one
shared page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from ..cpu import Guest
from ..platform import AmdPlatform
from ..sev import GuestOwner, GuestPolicy, SevStatus, launch_digest

__all__ = ["FIRMWARE", "OWNER_SECRET", "GPA_FIRMWARE", "GPA_PRIVATE", "GPA_SHARED", "LaunchedGuest",
           "init_platform", "launch_guest", "report"]

FIRMWARE = b"guest firmware v1.0 ".ljust(256, b"#")
OWNER_SECRET = b"disk-key:0123456789abcdef0123456789abcdef".ljust(48, b"\0")
# Guest-physical layout: firmware, private data (the owner's secret at +0x100), shared buffer.
GPA_FIRMWARE, GPA_PRIVATE, GPA_SHARED = 0x0000, 0x1000, 0x2000
OWNER_SECRET_GPA = GPA_PRIVATE + 0x100


@dataclass
class LaunchedGuest:
    """A running SEV guest: its platform, firmware handle, CPU-side guest and host frames."""

    plat: AmdPlatform
    handle: int
    guest: Guest
    hpa: dict[int, int]
    policy: int


def report(out: TextIO, steps: list[tuple[str, int]], indent: str = "  ") -> bool:
    """Print each firmware step with its status name; True if all succeeded."""
    for name, status in steps:
        print(f"{indent}{name:24s} -> {SevStatus(status)}", file=out)
    return all(status == SevStatus.SUCCESS for _, status in steps)


def init_platform(plat: AmdPlatform, *, es: bool = False) -> bool:
    """INIT (with the ES flag), then WBINVD + DF_FLUSH so the ASIDs are clean (Linux's order)."""
    if plat.sp.init(flags=int(es)) != SevStatus.SUCCESS:
        return False
    plat.sp.wbinvd()
    return plat.sp.df_flush() == SevStatus.SUCCESS


def launch_guest(plat: AmdPlatform, policy: GuestPolicy, asid: int, out: TextIO, *,
                 owner_seed: int = 5) -> LaunchedGuest | None:
    """Launch a guest on ``plat`` with ASID ``asid``; ``None`` (after printing why) on a failure."""
    sp, cpu = plat.sp, plat.cpu
    owner = GuestOwner(policy, seed=owner_seed)
    bundle = owner.build_session(sp.pdh_cert_export().pdh)
    start = sp.launch_start(bundle.policy, bundle.dh_cert, bundle.session)
    handle = start.handle
    steps = [("LAUNCH_START", start.status), ("ACTIVATE", sp.activate(handle, asid))]
    hpa = {gpa: cpu.alloc_frame() for gpa in (GPA_FIRMWARE, GPA_PRIVATE, GPA_SHARED)}
    # The hypervisor copies the firmware image into guest memory in plaintext; the firmware
    # measures it and encrypts it in place with the guest's key.
    cpu.write_phys(hpa[GPA_FIRMWARE], FIRMWARE)
    steps.append(("LAUNCH_UPDATE_DATA", sp.launch_update_data(handle, hpa[GPA_FIRMWARE], len(FIRMWARE))))
    measure = sp.launch_measure(handle)
    steps.append(("LAUNCH_MEASURE", measure.status))
    st = sp.platform_status()
    if not owner.verify_measurement(measure.measurement, launch_digest(FIRMWARE), api_major=st.api_major,
                                    api_minor=st.api_minor, build=st.build):
        report(out, steps)
        print("  guest owner: measurement does NOT match, no secret released", file=out)
        return None
    packet = owner.wrap_secret(OWNER_SECRET)
    steps.append(("LAUNCH_SECRET", sp.launch_secret(handle, packet.header, hpa[GPA_PRIVATE] + 0x100,
                                                     len(OWNER_SECRET), packet.trans)))
    steps.append(("LAUNCH_FINISH", sp.launch_finish(handle)))
    if not report(out, steps):
        return None
    guest = plat.new_guest(asid)
    for gpa, frame in hpa.items():
        guest.map_gpa(gpa, frame)
    return LaunchedGuest(plat, handle, guest, hpa, bundle.policy)
