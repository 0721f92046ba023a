"""The launch flow: LAUNCH_START's channel and policy checks, LAUNCH_UPDATE_DATA through the
engine, LAUNCH_MEASURE verified by the guest owner, LAUNCH_SECRET, LAUNCH_FINISH, and the
guest state machine (facts §2.6, §2.8, §2.10)."""

import pytest

from golden_model.engine import ErrorCode
from golden_model.sev import GuestOwner, GuestPolicy, GuestState, SevStatus, launch_digest
from golden_model.sev.session import PacketHeader, TransportKeys

from . import C_BIT, IMAGE_PA, guest_read, host_read, host_write, make_platform, ready_platform, start

OK = SevStatus.SUCCESS
IMAGE = bytes(range(256)) * 2  # 512 bytes: 8 whole lines
SECRET = b"disk key: correct horse battery staple!!".ljust(48, b"\0")
SECRET_PA = 0x20_0000


def _measured(image: bytes = IMAGE, asid: int = 1, policy: int = 0):
    """A guest through LAUNCH_MEASURE; returns (engine, sp, owner, handle, measurement)."""
    engine, sp = ready_platform()
    owner = GuestOwner(policy, seed=11)
    handle = start(sp, owner)
    assert sp.activate(handle, asid) == OK
    host_write(engine, IMAGE_PA, image)
    assert sp.launch_update_data(handle, IMAGE_PA, len(image)) == OK
    result = sp.launch_measure(handle)
    assert result.status == OK and len(result.measurement) == 48
    return engine, sp, owner, handle, result.measurement


def _verify(owner: GuestOwner, sp, measurement: bytes, expected_ld: bytes) -> bool:
    st = sp.platform_status()
    return owner.verify_measurement(measurement, expected_ld, api_major=st.api_major,
                                    api_minor=st.api_minor, build=st.build)


# -- guest state machine ------------------------------------------------------------------------

def test_guest_walk_lupdate_lsecret_running_uninit():
    engine, sp, owner, h, m = _measured()
    assert sp.guest_status(h).state == GuestState.LSECRET
    assert sp.launch_finish(h) == OK
    gs = sp.guest_status(h)
    assert (gs.status, gs.state, gs.asid, gs.policy) == (OK, GuestState.RUNNING, 1, 0)
    assert sp.deactivate(h) == OK
    assert sp.decommission(h) == OK
    assert sp.guest_status(h) .state == GuestState.UNINIT


@pytest.mark.parametrize("stop", ["LUPDATE", "LSECRET"])
def test_decommission_from_launch_states(stop):
    engine, sp = ready_platform()
    h = start(sp, GuestOwner(0, seed=1))
    if stop == "LSECRET":
        assert sp.launch_measure(h).status == OK
    assert sp.guest_status(h).state == GuestState[stop]
    assert sp.decommission(h) == OK  # never activated: nothing to deactivate
    assert sp.guest_status(h).state == GuestState.UNINIT


def test_commands_in_the_wrong_guest_state():
    engine, sp, owner, h, _ = _measured()
    # LSECRET: UPDATE_DATA and MEASURE are over.
    assert sp.launch_update_data(h, IMAGE_PA, 64) == SevStatus.INVALID_GUEST_STATE
    assert sp.launch_measure(h).status == SevStatus.INVALID_GUEST_STATE
    assert sp.launch_finish(h) == OK
    # RUNNING: no LAUNCH_* at all.
    assert sp.launch_finish(h) == SevStatus.INVALID_GUEST_STATE
    assert sp.launch_secret(h, bytes(52), SECRET_PA, 16, bytes(16)) == SevStatus.INVALID_GUEST_STATE
    assert sp.launch_update_data(h, IMAGE_PA, 64) == SevStatus.INVALID_GUEST_STATE
    # LUPDATE: SECRET and FINISH come too early.
    h2 = start(sp, GuestOwner(0, seed=5))
    assert sp.launch_finish(h2) == SevStatus.INVALID_GUEST_STATE
    assert sp.activate(h2, 2) == OK
    assert sp.launch_secret(h2, bytes(52), SECRET_PA, 16, bytes(16)) == SevStatus.INVALID_GUEST_STATE


def test_unknown_handles():
    engine, sp = ready_platform()
    h = start(sp, GuestOwner(0, seed=1))
    for bad in (0, h + 1, 2000):
        assert sp.activate(bad, 1) == SevStatus.INVALID_GUEST
        assert sp.deactivate(bad) == SevStatus.INVALID_GUEST
        assert sp.decommission(bad) == SevStatus.INVALID_GUEST
        assert sp.launch_update_data(bad, IMAGE_PA, 16) == SevStatus.INVALID_GUEST
        assert sp.launch_measure(bad).status == SevStatus.INVALID_GUEST
        assert sp.launch_secret(bad, bytes(52), SECRET_PA, 16, bytes(16)) == SevStatus.INVALID_GUEST
        assert sp.launch_finish(bad) == SevStatus.INVALID_GUEST
        gs = sp.guest_status(bad)
        assert (gs.status, gs.state, gs.asid) == (OK, GuestState.UNINIT, 0)


# -- LAUNCH_START ---------------------------------------------------------------------------------

def test_launch_start_without_a_session_has_a_zero_channel():
    engine, sp = ready_platform()
    result = sp.launch_start(0x9)  # no DH certificate: no channel, no policy MAC
    assert result.status == OK and sp.guest_status(result.handle).policy == 0x9
    # The firmware checks the policy fields only inside the channel (sev_guest_verify_policy),
    # so without a session even reserved bits pass.
    assert sp.launch_start(1 << 6).status == OK
    # And the measurement is keyed with TIK = 0: anyone can compute it.
    owner = GuestOwner(0x9, seed=1)
    owner._keys = TransportKeys(tek=bytes(16), tik=bytes(16))
    m = sp.launch_measure(result.handle).measurement
    assert _verify(owner, sp, m, launch_digest())


def test_launch_start_length_and_certificate_checks():
    engine, sp = ready_platform()
    owner = GuestOwner(0, seed=1)
    b = owner.build_session(sp.pdh_public)
    assert sp.launch_start(0, b.dh_cert, b.session[:-1]).status == SevStatus.INVALID_LEN
    assert sp.launch_start(0, b.dh_cert, None).status == SevStatus.INVALID_LEN
    assert sp.launch_start(0, b.dh_cert[:-1], b.session).status == SevStatus.INVALID_LEN
    off_curve = b.dh_cert[:-1] + bytes([b.dh_cert[-1] ^ 1])
    assert sp.launch_start(0, off_curve, b.session).status == SevStatus.INVALID_CERTIFICATE
    assert sp.platform_status().guest_count == 0


def test_launch_start_rejects_a_tampered_session():
    engine, sp = ready_platform()
    b = GuestOwner(0, seed=1).build_session(sp.pdh_public)
    for offset in (0, 16, 48, 64):  # NONCE, WRAP_TK, WRAP_IV... all feed the WRAP_MAC check or unwrap
        bad = bytearray(b.session)
        bad[offset] ^= 1
        status = sp.launch_start(0, b.dh_cert, bytes(bad)).status
        assert status == SevStatus.BAD_MEASUREMENT, offset
    # A session built for another platform's PDH does not open here.
    _, other = make_platform(seed=99)
    b2 = GuestOwner(0, seed=1).build_session(other.pdh_public)
    assert sp.launch_start(0, b2.dh_cert, b2.session).status == SevStatus.BAD_MEASUREMENT


def test_hypervisor_cannot_change_the_policy():
    engine, sp = ready_platform()
    owner = GuestOwner(GuestPolicy(nodbg=True, noks=True), seed=1)
    b = owner.build_session(sp.pdh_public)
    # Dropping NODBG breaks POLICY_MAC (TIK-keyed).
    assert sp.launch_start(b.policy & ~1, b.dh_cert, b.session).status == SevStatus.BAD_MEASUREMENT
    assert sp.launch_start(b.policy, b.dh_cert, b.session).status == OK


@pytest.mark.parametrize("policy", [GuestPolicy(api_major=1, api_minor=56).to_int(),
                                    GuestPolicy(api_major=2).to_int(), 1 << 6, 1 << 15])
def test_policy_failure(policy):
    engine, sp = ready_platform()
    b = GuestOwner(policy, seed=1).build_session(sp.pdh_public)
    assert sp.launch_start(policy, b.dh_cert, b.session).status == SevStatus.POLICY_FAILURE


def test_policy_at_the_firmware_version_passes():
    engine, sp = ready_platform()
    policy = GuestPolicy(api_major=1, api_minor=55).to_int()
    b = GuestOwner(policy, seed=1).build_session(sp.pdh_public)
    assert sp.launch_start(policy, b.dh_cert, b.session).status == OK


def test_es_policy_needs_an_es_platform():
    engine, sp = ready_platform()
    b = GuestOwner(GuestPolicy(es=True), seed=1).build_session(sp.pdh_public)
    assert sp.launch_start(b.policy, b.dh_cert, b.session).status == SevStatus.UNSUPPORTED
    _, sp = make_platform(min_sev_asid=5)
    assert sp.init(flags=1) == OK
    b = GuestOwner(GuestPolicy(es=True), seed=1).build_session(sp.pdh_public)
    assert sp.launch_start(b.policy, b.dh_cert, b.session).status == OK


def test_key_sharing():
    engine, sp = ready_platform()
    h1 = start(sp, GuestOwner(0, seed=1))
    h2 = start(sp, GuestOwner(0, seed=2), handle=h1)  # same policy, NOKS clear: shares the VEK
    assert sp.activate(h1, 1) == OK and sp.activate(h2, 2) == OK
    line = b"shared".ljust(64, b"\0")
    assert engine.write(0x3000 | C_BIT, line, asid=1).error == 0
    assert engine.read(0x3000 | C_BIT, asid=2).data == line  # same key in slots 1 and 2
    # Unknown handle, different policy, NOKS.
    b = GuestOwner(0, seed=3).build_session(sp.pdh_public)
    assert sp.launch_start(0, b.dh_cert, b.session, handle=77).status == SevStatus.INVALID_GUEST
    b = GuestOwner(8, seed=3).build_session(sp.pdh_public)
    assert sp.launch_start(8, b.dh_cert, b.session, handle=h1).status == SevStatus.POLICY_FAILURE
    h3 = start(sp, GuestOwner(GuestPolicy(noks=True), seed=4))
    b = GuestOwner(GuestPolicy(noks=True), seed=5).build_session(sp.pdh_public)
    assert sp.launch_start(b.policy, b.dh_cert, b.session, handle=h3).status == SevStatus.POLICY_FAILURE


def test_guests_without_sharing_get_different_keys():
    engine, sp = ready_platform()
    h1, h2 = start(sp, GuestOwner(0, seed=1)), start(sp, GuestOwner(0, seed=2))
    assert sp.activate(h1, 1) == OK and sp.activate(h2, 2) == OK
    line = b"private".ljust(64, b"\0")
    engine.write(0x3000 | C_BIT, line, asid=1)
    assert engine.read(0x3000 | C_BIT, asid=2).data != line


# -- LAUNCH_UPDATE_DATA ---------------------------------------------------------------------------

def test_update_data_encrypts_in_place_and_measures():
    engine, sp, owner, h, m = _measured()
    assert host_read(engine, IMAGE_PA, len(IMAGE)) != IMAGE  # DRAM: ciphertext now
    assert guest_read(engine, IMAGE_PA, len(IMAGE), asid=1) == IMAGE
    assert _verify(owner, sp, m, launch_digest(IMAGE))


def test_measurement_check_fails_on_a_tampered_digest():
    engine, sp, owner, h, m = _measured()
    bad_ld = bytearray(launch_digest(IMAGE))
    bad_ld[0] ^= 1
    assert not _verify(owner, sp, m, bytes(bad_ld))
    tampered = bytearray(m)
    tampered[40] ^= 1  # MNONCE
    assert not _verify(owner, sp, bytes(tampered), launch_digest(IMAGE))
    tampered = bytearray(m)
    tampered[0] ^= 1  # the MAC itself
    assert not _verify(owner, sp, bytes(tampered), launch_digest(IMAGE))
    assert not _verify(owner, sp, m[:47], launch_digest(IMAGE))
    # A different firmware version in the HMAC input also fails.
    assert not owner.verify_measurement(m, launch_digest(IMAGE), api_major=1, api_minor=54, build=21)
    assert _verify(owner, sp, m, launch_digest(IMAGE))


def test_hypervisor_swapping_the_image_is_detected():
    evil = IMAGE[:-1] + b"\xcc"
    engine, sp, owner, h, m = _measured(image=evil)
    assert not _verify(owner, sp, m, launch_digest(IMAGE))


def test_digest_covers_all_updates_in_order():
    engine, sp = ready_platform()
    owner = GuestOwner(0, seed=11)
    h = start(sp, owner)
    assert sp.activate(h, 4) == OK
    host_write(engine, IMAGE_PA, IMAGE)
    assert sp.launch_update_data(h, IMAGE_PA, 256) == OK
    assert sp.launch_update_data(h, IMAGE_PA + 256, 256) == OK
    m = sp.launch_measure(h).measurement
    assert _verify(owner, sp, m, launch_digest(IMAGE[:256], IMAGE[256:]))


def test_partial_lines_leave_neighbouring_blocks_untouched():
    engine, sp = ready_platform()
    owner = GuestOwner(0, seed=11)
    h = start(sp, owner)
    assert sp.activate(h, 1) == OK
    host_write(engine, IMAGE_PA, IMAGE[:128])
    # 48 bytes from offset 16: blocks 1-3 of line 0, block 0 of line 1 stays plaintext.
    assert sp.launch_update_data(h, IMAGE_PA + 16, 48) == OK
    dram = host_read(engine, IMAGE_PA, 128)
    assert dram[:16] == IMAGE[:16]  # block 0 of line 0: untouched
    assert dram[16:64] != IMAGE[16:64]  # encrypted
    assert dram[64:128] == IMAGE[64:128]  # line 1: untouched
    assert guest_read(engine, IMAGE_PA + 16, 48, asid=1) == IMAGE[16:64]
    assert sp.launch_update_data(h, IMAGE_PA + 64, 16) == OK  # a single block at a line start
    assert host_read(engine, IMAGE_PA + 80, 48) == IMAGE[80:128]
    m = sp.launch_measure(h).measurement
    assert _verify(owner, sp, m, launch_digest(IMAGE[16:64], IMAGE[64:80]))


def test_update_data_checks():
    engine, sp = ready_platform()
    h = start(sp, GuestOwner(0, seed=1))
    assert sp.launch_update_data(h, IMAGE_PA, 64) == SevStatus.INACTIVE  # no ACTIVATE yet
    assert sp.activate(h, 1) == OK
    assert sp.launch_update_data(h, IMAGE_PA + 8, 64) == SevStatus.INVALID_ADDRESS
    assert sp.launch_update_data(h, IMAGE_PA, 0) == SevStatus.INVALID_LEN
    assert sp.launch_update_data(h, IMAGE_PA, 24) == SevStatus.INVALID_LEN
    assert sp.launch_update_data(h, (1 << 47) - 16, 32) == SevStatus.INVALID_ADDRESS  # crosses the C-bit
    assert sp.launch_update_data(h, C_BIT | IMAGE_PA, 16) == SevStatus.INVALID_ADDRESS


def test_launch_measure_short_buffer():
    engine, sp = ready_platform()
    h = start(sp, GuestOwner(0, seed=1))
    result = sp.launch_measure(h, length=47)
    assert (result.status, result.length) == (SevStatus.INVALID_LEN, 48)
    assert sp.guest_status(h).state == GuestState.LUPDATE  # nothing moved
    assert sp.launch_measure(h, length=48).status == OK


# -- LAUNCH_SECRET ---------------------------------------------------------------------------------

def _secret_ready():
    engine, sp, owner, h, m = _measured()
    assert _verify(owner, sp, m, launch_digest(IMAGE))
    return engine, sp, owner, h, owner.wrap_secret(SECRET)


def test_secret_lands_encrypted_in_guest_memory():
    engine, sp, owner, h, pkt = _secret_ready()
    host_write(engine, SECRET_PA, bytes(64))
    assert sp.launch_secret(h, pkt.header, SECRET_PA, len(SECRET), pkt.trans) == OK
    assert sp.launch_finish(h) == OK
    assert guest_read(engine, SECRET_PA, len(SECRET), asid=1) == SECRET
    dump = host_read(engine, SECRET_PA, 64)
    assert SECRET[:9] not in dump and pkt.trans not in dump


def test_secret_checks():
    engine, sp, owner, h, pkt = _secret_ready()
    n = len(SECRET)
    assert sp.launch_secret(h, pkt.header, SECRET_PA + 8, n, pkt.trans) == SevStatus.INVALID_ADDRESS
    assert sp.launch_secret(h, pkt.header[:-1], SECRET_PA, n, pkt.trans) == SevStatus.INVALID_LEN
    assert sp.launch_secret(h, pkt.header, SECRET_PA, n - 16, pkt.trans) == SevStatus.INVALID_LEN
    assert sp.launch_secret(h, pkt.header, SECRET_PA, 0, b"") == SevStatus.INVALID_LEN
    assert sp.launch_secret(h, pkt.header, SECRET_PA, 24, pkt.trans[:24]) == SevStatus.INVALID_LEN
    big = bytes(0x5010)
    assert sp.launch_secret(h, pkt.header, SECRET_PA, len(big), big) == SevStatus.INVALID_LEN
    assert sp.launch_secret(h, pkt.header, (1 << 47) - 16, n, pkt.trans) == SevStatus.INVALID_ADDRESS
    # Tampered payload, header or MAC: BAD_MEASUREMENT.
    bad = bytes([pkt.trans[0] ^ 1]) + pkt.trans[1:]
    assert sp.launch_secret(h, pkt.header, SECRET_PA, n, bad) == SevStatus.BAD_MEASUREMENT
    hdr = PacketHeader.from_bytes(pkt.header)
    forged = PacketHeader(hdr.flags, bytes(16), hdr.mac).to_bytes()
    assert sp.launch_secret(h, forged, SECRET_PA, n, pkt.trans) == SevStatus.BAD_MEASUREMENT
    assert sp.launch_secret(h, pkt.header, SECRET_PA, n, pkt.trans) == OK
    # Nothing above wrote guest memory except the last, good packet.
    assert guest_read(engine, SECRET_PA, n, asid=1) == SECRET


def test_secret_is_bound_to_its_launch():
    # A packet made for launch A does not verify in launch B (the MAC covers MEASURE).
    engine, sp, owner, h, pkt = _secret_ready()
    h2 = start(sp, owner)  # same owner, same TIK, a new measurement
    assert sp.activate(h2, 2) == OK
    assert sp.launch_measure(h2).status == OK
    assert sp.launch_secret(h2, pkt.header, SECRET_PA, len(SECRET), pkt.trans) == SevStatus.BAD_MEASUREMENT


def test_compressed_secret_is_unsupported():
    engine, sp, owner, h, _ = _secret_ready()
    pkt = owner.wrap_secret(SECRET, flags=1)
    assert sp.launch_secret(h, pkt.header, SECRET_PA, len(SECRET), pkt.trans) == SevStatus.UNSUPPORTED


def test_secret_needs_an_active_guest():
    engine, sp = ready_platform()
    owner = GuestOwner(0, seed=1)
    h = start(sp, owner)
    m = sp.launch_measure(h).measurement  # never activated
    assert _verify(owner, sp, m, launch_digest())
    pkt = owner.wrap_secret(SECRET)
    assert sp.launch_secret(h, pkt.header, SECRET_PA, len(SECRET), pkt.trans) == SevStatus.INACTIVE


def test_engine_sees_no_key_for_an_unactivated_asid():
    engine, sp = ready_platform()
    assert engine.read(0x1000 | C_BIT, asid=9).error == ErrorCode.NO_KEY
