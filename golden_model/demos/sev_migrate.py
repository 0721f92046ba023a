"""SEV live migration: a running guest moves to another platform through the firmware's
SEND_* / RECEIVE_* commands; the hypervisor carries every byte but can read none of them.

Source and target are two modelled AMD platforms with the same owner. SEND_START wraps fresh
transport keys for the target's PDH (after checking the guest's policy: NOSEND, SEV = genuine
AMD part, DOMAIN = same owner); SEND_UPDATE_DATA turns each guest page into a packet
encrypted with TEK; RECEIVE_UPDATE_DATA on the target checks its MAC and writes it under the
target's own key for the guest (facts §2.4, §2.6, §2.8; firmware ``sev_mcmd.c``).
"""

from __future__ import annotations

from typing import TextIO

from ..platform import AmdPlatform
from ..sev import GuestPolicy, GuestState, SevStatus
from ._dump import hexdump
from ._sev import (
    GPA_FIRMWARE,
    GPA_PRIVATE,
    OWNER_SECRET,
    OWNER_SECRET_GPA,
    init_platform,
    launch_guest,
    report,
)
from .registry import demo

__all__ = ["run", "SECRET", "OWNER"]

SECRET = b"TOP-SECRET: session token 7f3a9c (migrated)"
OWNER = 7  # both platforms' owner (OCA) seed
ASID = 1
PAGE = 4096


def _refusals(src: AmdPlatform, handle: int, out: TextIO) -> bool:
    """SEND_START towards platforms the policy forbids; then a NOSEND guest."""
    other_owner = AmdPlatform(name="other-owner", owner_seed=OWNER + 1, firmware_seed=21)
    counterfeit = AmdPlatform(name="counterfeit", owner_seed=OWNER, genuine=False, firmware_seed=22)
    for plat in (other_owner, counterfeit):
        init_platform(plat)
    rows = [
        ("SEND_START to another owner's platform (DOMAIN)",
         src.sp.send_start(handle, other_owner.sp.pdh_cert_export().certificates).status,
         SevStatus.POLICY_FAILURE),
        ("SEND_START to a part not signed by AMD (SEV)",
         src.sp.send_start(handle, counterfeit.sp.pdh_cert_export().certificates).status,
         SevStatus.BAD_SIGNATURE),
    ]
    print("  a second guest with policy NOSEND (ASID 2):", file=out)
    nosend = launch_guest(src, GuestPolicy(nosend=True), 2, out, owner_seed=6)
    if nosend is None:
        return False
    rows.append(("SEND_START of the NOSEND guest",
                 src.sp.send_start(nosend.handle, other_owner.sp.pdh_cert_export().certificates).status,
                 SevStatus.POLICY_FAILURE))
    ok = True
    for name, status, expected in rows:
        mark = "" if status == expected else f"   <-- expected {expected}"
        print(f"  {name:50s} -> {SevStatus(status)}{mark}", file=out)
        ok &= status == expected
    return ok and src.sp.guest_status(handle).state == GuestState.RUNNING


@demo("sev-migrate", "migrate a running SEV guest between two platforms: unreadable on both and in transit")
def run(out: TextIO) -> bool:
    src = AmdPlatform(name="source", seed=1, firmware_seed=11, owner_seed=OWNER)
    dst = AmdPlatform(name="target", seed=2, firmware_seed=12, owner_seed=OWNER)
    if not (init_platform(src) and init_platform(dst)):
        print("MODEL ERROR: INIT failed", file=out)
        return False
    policy = GuestPolicy(nodbg=True, noks=True, domain=True, sev=True)
    print(f"before: launch a guest on the source platform, policy {policy.to_int():#x} "
          "(NODBG, NOKS, DOMAIN, SEV)", file=out)
    launched = launch_guest(src, policy, ASID, out)
    if launched is None:
        return False
    launched.guest.write_gpa(GPA_PRIVATE, SECRET)
    print(f"        the guest writes {SECRET!r} to private memory; the source hypervisor reads:", file=out)
    src_dump = src.host_dump([launched.hpa[GPA_PRIVATE]])
    print(hexdump(src_dump[:48], launched.hpa[GPA_PRIVATE], indent="    "), file=out)
    ok = SECRET not in src_dump

    print("refused by the policy:", file=out)
    ok &= _refusals(src, launched.handle, out)

    print("after: migrate to the target (same owner, genuine part)", file=out)
    send = src.sp.send_start(launched.handle, dst.sp.pdh_cert_export().certificates)
    recv = dst.sp.receive_start(send.policy, send.pdh, send.session)
    steps = [("SEND_START", send.status), ("RECEIVE_START", recv.status),
             ("ACTIVATE (target)", dst.sp.activate(recv.handle, ASID))]
    frames, packets = {}, {}
    for gpa in (GPA_FIRMWARE, GPA_PRIVATE):
        packet = src.sp.send_update_data(launched.handle, launched.hpa[gpa], PAGE)
        packets[gpa] = packet
        frames[gpa] = dst.cpu.alloc_frame()
        steps.append((f"SEND_UPDATE_DATA {gpa:#x}", packet.status))
        if gpa == GPA_PRIVATE:  # a hypervisor that tampers with a packet is caught
            forged = bytes([packet.trans[0] ^ 1]) + packet.trans[1:]
            tampered = dst.sp.receive_update_data(recv.handle, packet.header, forged, frames[gpa], PAGE)
            print(f"  RECEIVE_UPDATE_DATA of a tampered packet -> {SevStatus(tampered)}", file=out)
            ok &= tampered == SevStatus.BAD_MEASUREMENT
        received = dst.sp.receive_update_data(recv.handle, packet.header, packet.trans, frames[gpa], PAGE)
        steps.append((f"RECEIVE_UPDATE_DATA {gpa:#x}", received))
    steps += [("SEND_FINISH", src.sp.send_finish(launched.handle)),
              ("RECEIVE_FINISH", dst.sp.receive_finish(recv.handle))]
    ok &= report(out, steps)
    transit = packets[GPA_PRIVATE].trans
    print("  in transit (the private page's packet, what the hypervisor carries):", file=out)
    print(hexdump(transit[:48], 0, indent="    "), file=out)
    ok &= SECRET not in transit and OWNER_SECRET[:16] not in transit

    guest = dst.new_guest(ASID)
    for gpa, frame in frames.items():
        guest.map_gpa(gpa, frame)
    seen = guest.read_gpa(GPA_PRIVATE, len(SECRET))
    owner_secret = guest.read_gpa(OWNER_SECRET_GPA, len(OWNER_SECRET))
    print(f"  the guest on the target reads {seen!r}", file=out)
    dst_dump = dst.host_dump([frames[GPA_PRIVATE]])
    print("  the target hypervisor reads (another key: other ciphertext than on the source):", file=out)
    print(hexdump(dst_dump[:48], frames[GPA_PRIVATE], indent="    "), file=out)
    dbg = dst.sp.dbg_decrypt(recv.handle, frames[GPA_PRIVATE], dst.cpu.alloc_frame(), 64)
    print(f"  DBG_DECRYPT on the target (policy NODBG) -> {SevStatus(dbg)}", file=out)
    states = (src.sp.guest_status(launched.handle).state, dst.sp.guest_status(recv.handle).state)
    print(f"  guest state: source {states[0]}, target {states[1]}", file=out)
    ok &= (seen == SECRET and owner_secret == OWNER_SECRET and SECRET not in dst_dump
           and dst_dump[:48] != src_dump[:48] and dbg == SevStatus.POLICY_FAILURE
           and states == (GuestState.SENT, GuestState.RUNNING))
    return ok
