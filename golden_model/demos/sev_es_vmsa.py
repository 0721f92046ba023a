"""SEV-ES: the guest's register state is encrypted and measured; a plain SEV guest's is not.

Under SEV the hypervisor keeps a vCPU's registers in the VMCB save area, in its own memory,
readable. Under SEV-ES they live in the VMSA, which LAUNCH_UPDATE_VMSA measures into the
launch digest and encrypts in place with the guest's key (facts §2.2, §2.8). The platform
reserves ASIDs below CPUID Fn8000_001F EDX for SEV-ES guests, so the ES guest must get one of
them, and inside the guest SEV_STATUS reads SEV and SEV-ES set.
"""

from __future__ import annotations

from typing import TextIO

from ..amd import CPUID_MEM_ENCRYPTION, MSR_SEV_STATUS, AmdPlatformParams
from ..platform import AmdPlatform
from ..sev import GuestOwner, GuestPolicy, SevStatus, launch_digest
from ..sev.vmsa import VMSA_BYTES, Vmsa
from ._dump import hexdump
from ._sev import FIRMWARE, init_platform
from .registry import demo

__all__ = ["run", "REGISTERS"]

# RAX holds a secret the way a crypto routine's register would.
REGISTERS = Vmsa(rip=0xFFFF_FFFF_8100_0000, rsp=0xFFFF_C900_0000_3F00, rax=0x5EC2_E75E_C2E7_5EC2)
_WINDOW = (0x170, 0x200)  # RFLAGS .. RAX


@demo("sev-es-vmsa", "SEV-ES: the vCPU registers (VMSA) are encrypted and measured; SEV leaves them readable")
def run(out: TextIO) -> bool:
    plat = AmdPlatform(AmdPlatformParams(min_sev_asid=5), name="es", firmware_seed=4)
    sp, cpu = plat.sp, plat.cpu
    leaf = plat.cpuid(CPUID_MEM_ENCRYPTION)
    print(f"before: CPUID Fn8000_001F EAX={leaf.eax:#x} (SME, SEV, SEV-ES), EDX={leaf.edx}: "
          f"ASIDs 1..{leaf.edx - 1} are for SEV-ES guests", file=out)
    if not init_platform(plat, es=True):
        print("MODEL ERROR: INIT with ES failed", file=out)
        return False
    owner = GuestOwner(GuestPolicy(es=True, nodbg=True), seed=8)
    bundle = owner.build_session(sp.pdh_public)
    start = sp.launch_start(bundle.policy, bundle.dh_cert, bundle.session)
    h = start.handle
    fw, vmsa_pa = cpu.alloc_frame(), cpu.alloc_frame()
    cpu.write_phys(fw, FIRMWARE)
    vmsa = REGISTERS.to_bytes()
    cpu.write_phys(vmsa_pa, vmsa)  # the hypervisor builds the initial VMSA
    steps = [("LAUNCH_START (ES)", start.status),
             ("ACTIVATE on ASID 5", sp.activate(h, 5)),  # an SEV-only ASID: refused
             ("ACTIVATE on ASID 1", sp.activate(h, 1)),
             ("LAUNCH_UPDATE_DATA", sp.launch_update_data(h, fw, len(FIRMWARE))),
             ("LAUNCH_UPDATE_VMSA", sp.launch_update_vmsa(h, vmsa_pa, VMSA_BYTES))]
    measure = sp.launch_measure(h)
    steps.append(("LAUNCH_MEASURE", measure.status))
    st = sp.platform_status()
    verified = owner.verify_measurement(measure.measurement, launch_digest(FIRMWARE, vmsa),
                                        api_major=st.api_major, api_minor=st.api_minor, build=st.build)
    steps.append(("LAUNCH_FINISH", sp.launch_finish(h)))
    expected = [SevStatus.SUCCESS, SevStatus.INVALID_ASID] + [SevStatus.SUCCESS] * 5
    for (name, status), want in zip(steps, expected, strict=True):
        mark = "" if status == want else f"   <-- expected {want}"
        print(f"  {name:24s} -> {SevStatus(status)}{mark}", file=out)
    ok = [s for _, s in steps] == expected and verified
    verdict = "verified" if verified else "NO"
    print(f"  guest owner: the measurement covers the firmware and the VMSA: {verdict}", file=out)
    guest = plat.new_guest(1, es=True)
    guest.map_gpa(0, vmsa_pa)
    status_msr = guest.rdmsr(MSR_SEV_STATUS)
    print(f"  inside the guest: RDMSR SEV_STATUS = {status_msr:#x} (bit 0 SEV, bit 1 SEV-ES)", file=out)
    own_view = Vmsa.from_bytes(guest.read_gpa(0, VMSA_BYTES))

    lo, hi = _WINDOW
    seen = plat.host_dump([vmsa_pa])[:VMSA_BYTES]
    print("after (SEV-ES): the hypervisor reads the VMSA page (RFLAGS..RAX):", file=out)
    print(hexdump(seen[lo:hi], vmsa_pa + lo, indent="    "), file=out)
    print("after (SEV):    a plain SEV guest's registers sit in the VMCB save area, in the clear:", file=out)
    print(hexdump(vmsa[lo:hi], lo, indent="    "), file=out)
    print(f"                 RIP={REGISTERS.rip:#x} RAX={REGISTERS.rax:#x}", file=out)

    # LAUNCH_UPDATE_VMSA for a guest without the ES policy bit is refused.
    plain = AmdPlatform(name="sev", firmware_seed=5)
    init_platform(plain)
    b = GuestOwner(GuestPolicy(), seed=9).build_session(plain.sp.pdh_public)
    h2 = plain.sp.launch_start(b.policy, b.dh_cert, b.session).handle
    plain.sp.activate(h2, 1)
    refused = plain.sp.launch_update_vmsa(h2, plain.cpu.alloc_frame(), VMSA_BYTES)
    print(f"  LAUNCH_UPDATE_VMSA for a guest without ES -> {SevStatus(refused)}", file=out)
    rax = REGISTERS.rax.to_bytes(8, "little")
    return (ok and status_msr == 0b11 and own_view == REGISTERS and rax not in seen
            and refused == SevStatus.UNSUPPORTED)
