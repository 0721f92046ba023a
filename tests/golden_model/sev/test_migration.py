"""SEND_* / RECEIVE_*: migration with transport keys wrapped for the target, the policy's
NOSEND / DOMAIN / SEV rules, packet integrity and the guest state machine."""

import pytest

from golden_model.engine import Engine, EngineParams
from golden_model.entropy import EntropySource
from golden_model.sev import (
    FirmwareVersion,
    GuestOwner,
    GuestPolicy,
    GuestState,
    PlatformState,
    SecureProcessor,
    SevCommand,
    SevStatus,
)
from golden_model.sev.session import PACKET_HEADER_LEN

from . import IMAGE_PA, guest_read, host_read, launch_running

IMAGE = b"guest kernel + initrd".ljust(256, b"~")
OWNER = 7


def platform(seed, **kwargs):
    engine = Engine(params=EngineParams(slots=64), entropy=EntropySource(seed=seed))
    sp = SecureProcessor(engine, seed=seed, owner_seed=kwargs.pop("owner_seed", OWNER), **kwargs)
    assert sp.init() == SevStatus.SUCCESS
    sp.wbinvd()
    assert sp.df_flush() == SevStatus.SUCCESS
    return engine, sp


def running(policy=0, seed=1, **kwargs):
    engine, sp = platform(seed, **kwargs)
    return engine, sp, launch_running(sp, engine, GuestOwner(policy, seed=4), 1, IMAGE)


def certs(sp):
    return sp.pdh_cert_export().certificates


IMAGE_LEN = len(IMAGE)


def migrate(src, h, dst_engine, dst, length=IMAGE_LEN, asid=1):
    """SEND_START .. RECEIVE_FINISH of the image range; returns the target handle and the packet."""
    send = src.send_start(h, certs(dst))
    assert send.status == SevStatus.SUCCESS
    recv = dst.receive_start(send.policy, send.pdh, send.session)
    assert recv.status == SevStatus.SUCCESS
    assert dst.guest_status(recv.handle).state == GuestState.RUPDATE
    assert dst.activate(recv.handle, asid) == SevStatus.SUCCESS
    packet = src.send_update_data(h, IMAGE_PA, length)
    assert packet.status == SevStatus.SUCCESS and len(packet.header) == PACKET_HEADER_LEN
    status = dst.receive_update_data(recv.handle, packet.header, packet.trans, IMAGE_PA, length)
    assert status == SevStatus.SUCCESS
    assert src.send_finish(h) == SevStatus.SUCCESS
    assert dst.receive_finish(recv.handle) == SevStatus.SUCCESS
    return recv.handle, packet


def test_migration_moves_the_plaintext_and_nothing_readable():
    src_engine, src, h = running()
    dst_engine, dst = platform(2)
    hd, packet = migrate(src, h, dst_engine, dst)
    assert guest_read(dst_engine, IMAGE_PA, len(IMAGE), 1) == IMAGE
    assert IMAGE[:16] not in packet.trans and packet.trans != IMAGE
    # Different VEK on the target: the same plaintext at the same PA gives other ciphertext.
    assert host_read(dst_engine, IMAGE_PA, 64) != host_read(src_engine, IMAGE_PA, 64)
    assert src.guest_status(h).state == GuestState.SENT
    assert dst.guest_status(hd).state == GuestState.RUNNING and dst.asid_runnable(1)
    assert dst.platform_status().state == PlatformState.WORKING


def test_through_the_mailbox():
    src_engine, src, h = running()
    dst_engine, dst = platform(2)
    send = src.command(SevCommand.SEND_START, handle=h, target=certs(dst))
    recv = dst.command(SevCommand.RECEIVE_START, policy=send.policy, dh_cert=send.pdh, session=send.session)
    assert dst.command(SevCommand.ACTIVATE, handle=recv.handle, asid=3) == SevStatus.SUCCESS
    pkt = src.command(SevCommand.SEND_UPDATE_DATA, handle=h, guest_paddr=IMAGE_PA, length=64)
    assert dst.command(SevCommand.RECEIVE_UPDATE_DATA, handle=recv.handle, header=pkt.header, trans=pkt.trans,
                       guest_paddr=IMAGE_PA, guest_len=64) == SevStatus.SUCCESS
    assert src.command(SevCommand.SEND_CANCEL, handle=h) == SevStatus.SUCCESS
    assert dst.command(SevCommand.RECEIVE_FINISH, handle=recv.handle) == SevStatus.SUCCESS
    assert guest_read(dst_engine, IMAGE_PA, 64, 3) == IMAGE[:64]
    assert src.guest_status(h).state == GuestState.RUNNING  # cancelled: the source keeps running


def test_nosend_refuses_send_start():
    _, src, h = running(GuestPolicy(nosend=True).to_int())
    _, dst = platform(2)
    assert src.send_start(h, certs(dst)).status == SevStatus.POLICY_FAILURE
    assert src.guest_status(h).state == GuestState.RUNNING


def test_domain_needs_the_same_owner():
    _, src, h = running(GuestPolicy(domain=True).to_int())
    _, other = platform(2, owner_seed=OWNER + 1)
    assert src.send_start(h, certs(other)).status == SevStatus.POLICY_FAILURE
    _, same = platform(3)
    assert src.send_start(h, certs(same)).status == SevStatus.SUCCESS


def test_domain_checks_the_owner_signature():
    _, src, h = running(GuestPolicy(domain=True).to_int())
    _, dst = platform(2)
    _, mallory = platform(9, owner_seed=99)
    # The hypervisor swaps in its own PDH under the right owner's name: the OCA signature fails.
    forged = certs(dst).__class__(**{**certs(dst).__dict__, "pdh": certs(mallory).pdh})
    assert src.send_start(h, forged).status == SevStatus.BAD_SIGNATURE


def test_sev_bit_needs_a_genuine_part_and_a_new_enough_api():
    policy = GuestPolicy(sev=True, api_major=1, api_minor=50).to_int()
    _, src, h = running(policy)
    _, fake = platform(2, genuine=False)
    assert src.send_start(h, certs(fake)).status == SevStatus.BAD_SIGNATURE
    _, old = platform(3, version=FirmwareVersion(api_major=1, api_minor=40))
    assert src.send_start(h, certs(old)).status == SevStatus.POLICY_FAILURE
    _, good = platform(4)
    assert src.send_start(h, certs(good)).status == SevStatus.SUCCESS
    # Without the SEV bit a counterfeit part is not checked (the policy did not ask for it).
    _, src2, h2 = running(0, seed=5)
    assert src2.send_start(h2, certs(fake)).status == SevStatus.SUCCESS


def test_tampered_or_misdirected_packets_are_refused():
    _, src, h = running()
    _, dst = platform(2)
    send = src.send_start(h, certs(dst))
    recv = dst.receive_start(send.policy, send.pdh, send.session)
    dst.activate(recv.handle, 1)
    pkt = src.send_update_data(h, IMAGE_PA, 64)
    flipped = bytes([pkt.trans[5] ^ 0x80]).join([pkt.trans[:5], pkt.trans[6:]])
    status = dst.receive_update_data(recv.handle, pkt.header, flipped, IMAGE_PA, 64)
    assert status == SevStatus.BAD_MEASUREMENT
    # A third platform cannot open the session wrapped for the target.
    _, eve = platform(3)
    assert eve.receive_start(send.policy, send.pdh, send.session).status == SevStatus.BAD_MEASUREMENT
    # The policy is bound to the session: the hypervisor cannot weaken it on the way.
    assert dst.receive_start(send.policy | 1, send.pdh, send.session).status == SevStatus.BAD_MEASUREMENT


@pytest.mark.parametrize("length, status", [(0, SevStatus.INVALID_LEN), (24, SevStatus.INVALID_LEN),
                                            (0x5010, SevStatus.INVALID_LEN)])
def test_send_update_lengths(length, status):
    _, src, h = running()
    _, dst = platform(2)
    src.send_start(h, certs(dst))
    assert src.send_update_data(h, IMAGE_PA, length).status == status
    assert src.send_update_data(h, IMAGE_PA + 8, 16).status == SevStatus.INVALID_ADDRESS


def test_state_machine():
    _, src, h = running()
    _, dst = platform(2)
    assert src.send_update_data(h, IMAGE_PA, 64).status == SevStatus.INVALID_GUEST_STATE  # RUNNING
    assert src.send_finish(h) == SevStatus.INVALID_GUEST_STATE
    assert src.send_start(99, certs(dst)).status == SevStatus.INVALID_GUEST
    assert src.send_start(h, None).status == SevStatus.INVALID_LEN
    send = src.send_start(h, certs(dst))
    assert src.send_start(h, certs(dst)).status == SevStatus.INVALID_GUEST_STATE  # SUPDATE now
    recv = dst.receive_start(send.policy, send.pdh, send.session)
    pkt = src.send_update_data(h, IMAGE_PA, 64)
    # Not activated yet on the target.
    assert dst.receive_update_data(recv.handle, pkt.header, pkt.trans, IMAGE_PA, 64) == SevStatus.INACTIVE
    assert dst.receive_start(send.policy, None, send.session).status == SevStatus.INVALID_LEN
    assert src.send_finish(h) == SevStatus.SUCCESS
    assert src.activate(h, 2) == SevStatus.ACTIVE  # still holds ASID 1
    assert src.deactivate(h) == SevStatus.SUCCESS
    assert src.activate(h, 2) == SevStatus.INVALID_GUEST_STATE  # SENT guests are never re-activated
    assert src.decommission(h) == SevStatus.SUCCESS
    assert dst.receive_finish(recv.handle) == SevStatus.SUCCESS
    assert dst.receive_finish(recv.handle) == SevStatus.INVALID_GUEST_STATE
