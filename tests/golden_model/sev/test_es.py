"""SEV-ES: LAUNCH_UPDATE_VMSA encrypts and measures the register state; VMSA migration."""

from golden_model.engine import Engine
from golden_model.entropy import EntropySource
from golden_model.sev import GuestOwner, GuestPolicy, SecureProcessor, SevCommand, SevStatus, launch_digest
from golden_model.sev.vmsa import VMSA_BYTES, Vmsa

from . import guest_read, host_read, host_write, start

VMSA_PA = 0x30_0000
REGS = Vmsa(rip=0xFFFF_FFFF_8100_0000, rsp=0x7FFF_0000, rax=0x1122_3344_5566_7788)
ES = GuestPolicy(es=True).to_int()


def es_platform(seed=7, min_sev_asid=5):
    engine = Engine(entropy=EntropySource(seed=1))
    sp = SecureProcessor(engine, seed=seed, min_sev_asid=min_sev_asid)
    assert sp.init(flags=1) == SevStatus.SUCCESS
    sp.wbinvd()
    assert sp.df_flush() == SevStatus.SUCCESS
    return engine, sp


def test_vmsa_layout_round_trip():
    page = REGS.to_bytes()
    assert len(page) == VMSA_BYTES and page[0x178:0x180] == (0xFFFF_FFFF_8100_0000).to_bytes(8, "little")
    assert Vmsa.from_bytes(page) == REGS


def test_launch_update_vmsa_encrypts_and_measures():
    engine, sp = es_platform()
    owner = GuestOwner(ES, seed=2)
    h = start(sp, owner)
    assert sp.activate(h, 1) == SevStatus.SUCCESS
    host_write(engine, VMSA_PA, REGS.to_bytes())
    status = sp.command(SevCommand.LAUNCH_UPDATE_VMSA, handle=h, paddr=VMSA_PA, length=VMSA_BYTES)
    assert status == SevStatus.SUCCESS
    seen = host_read(engine, VMSA_PA, VMSA_BYTES)
    assert (0x1122_3344_5566_7788).to_bytes(8, "little") not in seen
    assert Vmsa.from_bytes(guest_read(engine, VMSA_PA, VMSA_BYTES, 1)) == REGS
    m = sp.launch_measure(h).measurement
    st = sp.platform_status()
    version = {"api_major": st.api_major, "api_minor": st.api_minor, "build": st.build}
    assert owner.verify_measurement(m, launch_digest(REGS.to_bytes()), **version)
    assert not GuestOwner(ES, seed=2).verify_measurement(m, launch_digest(Vmsa(rip=1).to_bytes()), **version)


def test_launch_update_vmsa_checks():
    engine, sp = es_platform()
    h = start(sp, GuestOwner(ES, seed=2))
    assert sp.launch_update_vmsa(h, VMSA_PA) == SevStatus.INACTIVE
    assert sp.activate(h, 5) == SevStatus.INVALID_ASID  # ASIDs >= CPUID EDX are SEV-only
    assert sp.activate(h, 1) == SevStatus.SUCCESS
    assert sp.launch_update_vmsa(h, VMSA_PA + 16) == SevStatus.INVALID_ADDRESS
    assert sp.launch_update_vmsa(h, VMSA_PA, 2048) == SevStatus.INVALID_LEN
    plain = start(sp, GuestOwner(0, seed=3))
    assert sp.activate(plain, 6) == SevStatus.SUCCESS
    assert sp.launch_update_vmsa(plain, VMSA_PA) == SevStatus.UNSUPPORTED  # not an ES guest


def test_vmsa_migrates():
    src_engine, src = es_platform(seed=7)
    owner = GuestOwner(ES, seed=2)
    h = start(src, owner)
    src.activate(h, 1)
    host_write(src_engine, VMSA_PA, REGS.to_bytes())
    src.launch_update_vmsa(h, VMSA_PA)
    src.launch_measure(h)
    src.launch_finish(h)
    dst_engine, dst = es_platform(seed=8)
    send = src.send_start(h, dst.pdh_cert_export().certificates)
    recv = dst.receive_start(send.policy, send.pdh, send.session)
    dst.activate(recv.handle, 2)
    assert src.send_update_data(h, VMSA_PA, 64).status == SevStatus.SUCCESS  # data path works too
    pkt = src.send_update_vmsa(h, VMSA_PA)
    assert pkt.status == SevStatus.SUCCESS
    # A VMSA packet is not a data packet: the context byte is under the MAC.
    assert dst.receive_update_data(recv.handle, pkt.header, pkt.trans, VMSA_PA, VMSA_BYTES) == \
        SevStatus.BAD_MEASUREMENT
    assert dst.receive_update_vmsa(recv.handle, pkt.header, pkt.trans, VMSA_PA) == SevStatus.SUCCESS
    assert dst.receive_finish(recv.handle) == SevStatus.SUCCESS
    assert Vmsa.from_bytes(guest_read(dst_engine, VMSA_PA, VMSA_BYTES, 2)) == REGS


def test_vmsa_commands_refuse_a_non_es_guest():
    engine, sp = es_platform()
    h = start(sp, GuestOwner(0, seed=3))
    sp.activate(h, 6)
    sp.launch_measure(h)
    sp.launch_finish(h)
    _, dst = es_platform(seed=9)
    sp.send_start(h, dst.pdh_cert_export().certificates)
    assert sp.send_update_vmsa(h, VMSA_PA).status == SevStatus.UNSUPPORTED
