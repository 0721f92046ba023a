"""ASID reuse: the SEV firmware refuses to give an old guest's ASID to a new guest until every
core has run WBINVD and DF_FLUSH has succeeded (facts §2.9, §5 item 10).

Why: cache lines are tagged with the ASID. A departed guest can still have dirty lines in the
cache; if the new guest's key were already in slot ASID, those lines would be written back
under the *new* key, i.e. the old guest's plaintext would be readable by the new guest. The
demo first shows that hazard by programming the key slot behind the firmware's back (what a
firmware without the rule would do), then shows the firmware's refusals and the correct order
DEACTIVATE -> DECOMMISSION -> WBINVD -> DF_FLUSH -> ACTIVATE.
"""

from __future__ import annotations

from typing import TextIO

from ..cpu import Cpu
from ..engine import Engine
from ..entropy import EntropySource
from ..keytable import Command, KeyProgramCommand, KeyProgramStatus
from ..sev import GuestOwner, SecureProcessor, SevStatus, derive_vek
from ._dump import hexdump
from .registry import demo

__all__ = ["run", "SECRET_A"]

SECRET_A = b"guest A's private key: 5eCr3t-A"
ASID = 1
GPA = 0x1000


def _platform() -> tuple[Engine, Cpu, SecureProcessor]:
    engine = Engine(entropy=EntropySource(seed=1))
    cpu = Cpu(engine)
    sp = SecureProcessor(engine, cpu=cpu, seed=9)
    sp.init()
    sp.wbinvd()
    sp.df_flush()
    return engine, cpu, sp


def _start(sp: SecureProcessor, seed: int) -> int:
    owner = GuestOwner(0, seed=seed)
    bundle = owner.build_session(sp.pdh_public)
    return sp.launch_start(bundle.policy, bundle.dh_cert, bundle.session).handle


def _run_guest_a(cpu: Cpu, sp: SecureProcessor) -> tuple[int, int]:
    """Guest A launches on ASID 1, runs, and leaves a dirty private line in the cache."""
    a = _start(sp, 1)
    sp.activate(a, ASID)
    sp.launch_measure(a)
    sp.launch_finish(a)
    guest = cpu.new_guest(ASID)
    hpa = cpu.alloc_frame()
    guest.map_gpa(GPA, hpa)
    guest.write_gpa(GPA, SECRET_A, private=True)  # stays dirty in the cache, tagged ASID 1
    return a, hpa


def _guest_b_reads(cpu: Cpu, hpa: int) -> bytes:
    """Guest B (ASID 1 now) reads the same host page through its private mapping."""
    return cpu.read_phys(hpa | cpu.c_bit, len(SECRET_A), asid=ASID)


@demo("asid-reuse", "reusing an ASID without WBINVD + DF_FLUSH is refused (and why)")
def run(out: TextIO) -> bool:
    ok = True
    # -- Without the rule: install B's key while A's dirty line is still cached.
    engine, cpu, sp = _platform()
    a, hpa = _run_guest_a(cpu, sp)
    sp.deactivate(a)
    sp.decommission(a)
    key1, key2 = derive_vek(bytes(range(32)))  # any other guest's key
    forced = engine.key_program(KeyProgramCommand(ASID, Command.SET_KEY_DIRECT, key1=key1, key2=key2))
    sp.wbinvd()  # later the dirty line is evicted: written back under the *new* key
    leaked = _guest_b_reads(cpu, hpa)
    print("before (a firmware without the rule): A's dirty line is written back under B's key", file=out)
    print(f"  guest B reads A's page: {leaked!r}", file=out)
    ok &= forced == KeyProgramStatus.PROG_SUCCESS and leaked == SECRET_A

    # -- With the firmware's rule.
    engine, cpu, sp = _platform()
    a, hpa = _run_guest_a(cpu, sp)
    b = _start(sp, 2)
    steps = [
        ("ACTIVATE(B, 1) while A holds it", sp.activate(b, ASID), SevStatus.ASID_OWNED),
        ("DEACTIVATE(A)", sp.deactivate(a), SevStatus.SUCCESS),
        ("DECOMMISSION(A)", sp.decommission(a), SevStatus.SUCCESS),
        ("ACTIVATE(B, 1) without WBINVD+DF_FLUSH", sp.activate(b, ASID), SevStatus.DFFLUSH_REQUIRED),
        ("DF_FLUSH without WBINVD", sp.df_flush(), SevStatus.WBINVD_REQUIRED),
        ("ACTIVATE(B, 1) again", sp.activate(b, ASID), SevStatus.DFFLUSH_REQUIRED),
    ]
    sp.wbinvd()  # A's dirty line goes to DRAM under A's key
    steps += [
        ("WBINVD on every core, then DF_FLUSH", sp.df_flush(), SevStatus.SUCCESS),
        ("ACTIVATE(B, 1)", sp.activate(b, ASID), SevStatus.SUCCESS),
    ]
    print("after (the SEV firmware's rule):", file=out)
    for name, status, expected in steps:
        mark = "" if status == expected else f"   <-- expected {expected.name}"
        print(f"  {name:40s} -> {SevStatus(status).name}{mark}", file=out)
        ok &= status == expected
    seen = _guest_b_reads(cpu, hpa)
    print("  guest B reads A's page (A's ciphertext decrypted with B's key: garbage):", file=out)
    print(hexdump(seen, hpa | cpu.c_bit, indent="    "), file=out)
    ok &= seen != SECRET_A
    return ok
