"""Platform scenarios on the RTL, driven by the golden model's CPU, firmware and TME-MK layers.

The platform software (:class:`golden_model.sev.SecureProcessor`, :class:`golden_model.cpu.Cpu`,
:func:`golden_model.mktme.pconfig`) is synchronous and talks to an *engine object*.
:class:`RtlEngineAdapter` is that object: every configuration write, key-program command and
line request the software makes is applied to a platform-side golden model (so the software
sees answers at once) and queued for the RTL; after each software step
:meth:`PlatformVseq.sync` replays the queue on the RTL's ports, in order, through the agents
(commands wait until every earlier request has been accepted, so the cycle rule puts those
requests before the command, as in the software's order). The scoreboard checks every RTL
status, response and DRAM line against its own model; the sequence also asserts that each RTL
command status equals the one the software saw.
"""

from __future__ import annotations

from golden_model.config import ConfigReg
from golden_model.cpu import Cpu
from golden_model.engine import Engine, EngineParams, Request
from golden_model.entropy import EntropySource
from golden_model.keytable import KeyProgramCommand
from golden_model.mktme import (
    IA32_TME_ACTIVATE,
    MKTME_KEY_PROGRAM,
    KeyProgramStruct,
    pconfig,
    with_keyid,
    wrmsr,
)
from golden_model.sev import GuestOwner, GuestPolicy, SecureProcessor, SevStatus, launch_digest

from .coverage import sample_platform
from .sequences import ENABLE, LOCK, EngineVseq

__all__ = ["RtlEngineAdapter", "PlatformVseq", "SevGuestVseq", "MktmeVmsVseq"]


class RtlEngineAdapter:
    """An engine object for the platform software: a golden model plus a queue for the RTL.

    Parameters
    ----------
    engine : golden_model.engine.Engine
        The platform-side model (same entropy seed as the RTL's entropy BFM).

    Attributes
    ----------
    ops : list
        ``("cfg", reg, value, status)``, ``("kp", command, status)`` and ``("req", Request)``
        not yet replayed on the RTL.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.ops = []

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def config_access(self, addr, write, data=0):
        """Forward to the model; record writes for the RTL."""
        status, value = self._engine.config_access(addr, write, data)
        if write:
            self.ops.append(("cfg", int(addr), data, int(status)))
        return status, value

    def config_write(self, reg, value):
        """Forward to the model; record for the RTL."""
        return self.config_access(int(reg), True, value)[0]

    def key_program(self, cmd: KeyProgramCommand):
        """Forward to the model; record for the RTL's key-program port."""
        status = self._engine.key_program(cmd)
        self.ops.append(("kp", cmd, int(status)))
        return status

    def request(self, req: Request):
        """Forward to the model; record for the RTL's upstream port."""
        self.ops.append(("req", req))
        return self._engine.request(req)

    def read(self, addr, asid=0):
        """Shorthand for a read request."""
        return self.request(Request(addr, False, asid))

    def write(self, addr, data, asid=0):
        """Shorthand for a write request."""
        return self.request(Request(addr, True, asid, data))


class PlatformVseq(EngineVseq):
    """Base: an adapter over a fresh platform model with the RTL's entropy seed."""

    def __init__(self, name="platform", rng=None, entropy_seed=0, **knobs):
        super().__init__(name, rng, **knobs)
        self.platform = RtlEngineAdapter(Engine(EngineParams(), EntropySource(seed=entropy_seed)))
        self.replayed = {"cfg": 0, "kp": 0, "req": 0}

    async def sync(self, event=None):
        """Replay every queued operation on the RTL; sample *event* when done."""
        ops, self.platform.ops = self.platform.ops, []
        for op in ops:
            if op[0] == "req":
                r = op[1]
                await self.req(r.addr, r.write,
                               int.from_bytes(r.data, "little") if r.write else 0, r.asid)
            else:
                await self.tb.up_req.wait()  # earlier requests accepted before the command
                if op[0] == "cfg":
                    status, _ = await self.cfg(op[1], op[2])
                else:
                    c = op[1]
                    status = await self.kp(c.keyid, c.command, c.key1, c.key2, c.enc_alg)
                assert status == op[-1], f"{op[0]} {op[1:-1]}: RTL {status}, software saw {op[-1]}"
            self.replayed[op[0]] += 1
        await self.drain()
        if event is not None:
            sample_platform(event)


class SevGuestVseq(PlatformVseq):
    """An SEV guest launched through the firmware, then running private and shared traffic.

    Steps (each replayed on the RTL): boot (AMD mode, SME, host key by SET_KEY_RANDOM), INIT,
    WBINVD + DF_FLUSH, LAUNCH_START with the guest owner's session, ACTIVATE (guest key by
    SET_KEY_DIRECT into slot ASID), LAUNCH_UPDATE_DATA of the firmware image (encrypted in
    place through the engine), LAUNCH_MEASURE (verified by the owner), LAUNCH_SECRET,
    LAUNCH_FINISH; then guest stores and loads (C=1 private with its ASID, C=0 shared) through
    the CPU model's cache, written back with WBINVD. Knob ``n``: guest accesses (16).
    """

    ASID = 1

    async def body(self):
        rng, n = self.rng, self.knobs.get("n", 16)
        cpu = Cpu(self.platform)
        sp = SecureProcessor(self.platform, cpu=cpu, seed=3)
        await self.sync()
        assert sp.init() == SevStatus.SUCCESS
        sp.wbinvd()
        assert sp.df_flush() == SevStatus.SUCCESS
        await self.sync("sev_init")
        owner = GuestOwner(GuestPolicy(nodbg=True, noks=True), seed=5)
        bundle = owner.build_session(sp.pdh_cert_export().pdh)
        start = sp.launch_start(bundle.policy, bundle.dh_cert, bundle.session)
        assert start.status == SevStatus.SUCCESS
        await self.sync("sev_launch_start")
        assert sp.activate(start.handle, self.ASID) == SevStatus.SUCCESS
        await self.sync("sev_activate")
        guest = cpu.new_guest(self.ASID)
        gpas = [0x0000, 0x1000, 0x2000]
        hpa = {gpa: cpu.alloc_frame() for gpa in gpas}
        for gpa, frame in hpa.items():
            guest.map_gpa(gpa, frame)
        firmware = b"guest firmware ".ljust(256, b"#")
        cpu.write_phys(hpa[0], firmware)
        assert sp.launch_update_data(start.handle, hpa[0], len(firmware)) == SevStatus.SUCCESS
        await self.sync("sev_launch_update_data")
        measure = sp.launch_measure(start.handle)
        st = sp.platform_status()
        assert owner.verify_measurement(measure.measurement, launch_digest(firmware),
                                        api_major=st.api_major, api_minor=st.api_minor,
                                        build=st.build)
        await self.sync("sev_launch_measure")
        secret = b"disk-key:0123456789abcdef".ljust(48, b"\0")
        packet = owner.wrap_secret(secret)
        assert sp.launch_secret(start.handle, packet.header, hpa[0x1000] + 0x100, len(secret),
                                packet.trans) == SevStatus.SUCCESS
        await self.sync("sev_launch_secret")
        assert sp.launch_finish(start.handle) == SevStatus.SUCCESS
        await self.sync("sev_launch_finish")
        # The guest runs: private (C=1, ASID) and shared (C=0) accesses, random offsets.
        shadow = {}
        for _ in range(n):
            # Private lines above the secret (0x1100..0x112F) and the shared page.
            gpa = rng.choice([0x1800, 0x2000]) + 64 * rng.randrange(16)
            private = gpa < 0x2000
            if rng.random() < 0.6:
                data = rng.randbytes(64)
                guest.write_gpa(gpa, data, private=private)
                shadow[gpa] = data
            elif gpa in shadow:
                assert guest.read_gpa(gpa, 64, private=private) == shadow[gpa]
        assert guest.read_gpa(0x1100, len(secret)) == secret
        assert guest.read_gpa(0x0000, len(firmware)) == firmware
        sp.wbinvd()
        await self.sync("sev_guest_traffic")
        # The hypervisor reads the guest's pages with C=0: ciphertext for private memory.
        dump = cpu.read_phys(hpa[0x1000], 4096)
        assert secret not in dump
        cpu.wbinvd()
        await self.sync()


class MktmeVmsVseq(PlatformVseq):
    """Two TME-MK virtual machines with their own KeyIDs, and an alias access.

    BIOS activates TME-MK (KEYID_BITS 6, LOCK) by WRMSR; the VMM programs KeyIDs 5 and 9 with
    PCONFIG; each VM writes and reads its own frames (through the CPU model's cache, written
    back by CLFLUSH/WBINVD). Then VM 2 maps VM 1's frame with its own KeyID (an alias): it
    reads ciphertext decrypted with the wrong key, and its write makes VM 1 read garbage.
    Knob ``n``: accesses per VM (12).
    """

    async def body(self):
        rng, n = self.rng, self.knobs.get("n", 12)
        eng = self.platform
        wrmsr(eng, IA32_TME_ACTIVATE, ENABLE | LOCK | (6 << 32) | (1 << 48))
        await self.sync()
        cpu = Cpu(eng)
        vms = {5: [], 9: []}
        for keyid in vms:
            s = KeyProgramStruct.build(keyid, 0, key1=rng.randbytes(16), key2=rng.randbytes(16))
            assert pconfig(eng, MKTME_KEY_PROGRAM, s) == 0
            vms[keyid] = [cpu.alloc_frame() for _ in range(2)]
        await self.sync()
        shadow = {}
        for _ in range(n * 2):
            keyid = rng.choice(list(vms))
            pa = with_keyid(rng.choice(vms[keyid]) + 64 * rng.randrange(8), keyid, 6, 48)
            if rng.random() < 0.6 or pa not in shadow:
                shadow[pa] = rng.randbytes(64)
                cpu.write_phys(pa, shadow[pa])
            else:
                assert cpu.read_phys(pa, 64) == shadow[pa]
        cpu.wbinvd()
        await self.sync("mktme_vm_traffic")
        # Alias: VM 2 (KeyID 9) accesses a frame of VM 1 (KeyID 5).
        victim = next(pa for pa in shadow if pa >> 42 == 5)
        alias = with_keyid(victim & ((1 << 42) - 1), 9, 6, 48)
        assert cpu.read_phys(alias, 64) != shadow[victim], "alias read must not see plaintext"
        cpu.write_phys(alias, bytes(64))
        cpu.wbinvd()
        assert cpu.read_phys(victim, 64) != shadow[victim], "VM 1 must read garbage"
        assert self.platform.config_read(ConfigReg.TME_ACTIVATE) & LOCK
        cpu.wbinvd()
        await self.sync("mktme_alias")
