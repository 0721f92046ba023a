"""Platform commands and the platform state machine (facts §2.5, §2.11)."""

from golden_model.config import ConfigReg
from golden_model.sev import GuestOwner, PlatformState, SevCommand, SevStatus

from . import launch_running, make_platform, ready_platform, start

OK = SevStatus.SUCCESS


def test_status_code_values():
    # facts §2.7; a typo here would silently change the ABI.
    expected = {
        "SUCCESS": 0x00, "INVALID_PLATFORM_STATE": 0x01, "INVALID_GUEST_STATE": 0x02,
        "INVALID_CONFIG": 0x03, "INVALID_LEN": 0x04, "ALREADY_OWNED": 0x05,
        "INVALID_CERTIFICATE": 0x06, "POLICY_FAILURE": 0x07, "INACTIVE": 0x08,
        "INVALID_ADDRESS": 0x09, "BAD_SIGNATURE": 0x0A, "BAD_MEASUREMENT": 0x0B,
        "ASID_OWNED": 0x0C, "INVALID_ASID": 0x0D, "WBINVD_REQUIRED": 0x0E,
        "DFFLUSH_REQUIRED": 0x0F, "INVALID_GUEST": 0x10, "INVALID_COMMAND": 0x11, "ACTIVE": 0x12,
        "HWERROR_PLATFORM": 0x13, "HWERROR_UNSAFE": 0x14, "UNSUPPORTED": 0x15,
        "INVALID_PARAM": 0x16, "RESOURCE_LIMIT": 0x17, "SECURE_DATA_INVALID": 0x18,
    }
    assert {s.name: s.value for s in SevStatus} == expected


def test_command_ids():
    assert (SevCommand.INIT, SevCommand.SHUTDOWN, SevCommand.PLATFORM_STATUS, SevCommand.DF_FLUSH) == (
        1, 2, 4, 0xA)
    assert (SevCommand.DECOMMISSION, SevCommand.ACTIVATE, SevCommand.DEACTIVATE,
            SevCommand.GUEST_STATUS) == (0x20, 0x21, 0x22, 0x23)
    assert (SevCommand.LAUNCH_START, SevCommand.LAUNCH_UPDATE_DATA, SevCommand.LAUNCH_MEASURE,
            SevCommand.LAUNCH_UPDATE_SECRET, SevCommand.LAUNCH_FINISH) == (0x30, 0x31, 0x33, 0x34, 0x35)


def test_boot_programs_the_host_key():
    engine, sp = make_platform()
    assert engine.config_read(ConfigReg.MODE) == 1
    assert engine.config_read(ConfigReg.SYSCFG) == 1 << 23
    # C = 1 from the host uses slot SLOTS-1: it holds a key, so no NO_KEY and DRAM holds ciphertext.
    line = b"host secret".ljust(64, b"\0")
    assert engine.write(0x2000 | 1 << 47, line).error == 0
    assert engine.read(0x2000 | 1 << 47).data == line
    assert engine.read(0x2000).data != line
    assert sp.max_asid == 62


def test_platform_walk_uninit_init_working_init_uninit():
    engine, sp = ready_platform()
    assert sp.state == PlatformState.INIT
    owner = GuestOwner(0, seed=1)
    h = launch_running(sp, engine, owner, asid=1)
    assert sp.state == PlatformState.WORKING
    assert sp.platform_status().guest_count == 1
    assert sp.deactivate(h) == OK
    assert sp.decommission(h) == OK
    assert sp.state == PlatformState.INIT  # the last guest gone
    assert sp.shutdown() == OK
    assert sp.state == PlatformState.UNINIT


def test_shutdown_from_every_state():
    _, sp = make_platform()
    assert sp.shutdown() == OK and sp.state == PlatformState.UNINIT  # UNINIT -> UNINIT
    assert sp.init() == OK
    assert sp.shutdown() == OK and sp.state == PlatformState.UNINIT  # INIT -> UNINIT
    engine, sp = ready_platform()
    h = launch_running(sp, engine, GuestOwner(0, seed=1), asid=3)
    assert sp.shutdown() == OK and sp.state == PlatformState.UNINIT  # WORKING -> UNINIT
    assert sp.init() == OK
    assert sp.guest_status(h).state == 0  # the guest is gone
    assert sp.platform_status().guest_count == 0


def test_init_checks():
    engine, sp = make_platform()
    assert sp.init(flags=2) == SevStatus.INVALID_CONFIG
    assert sp.state == PlatformState.UNINIT
    assert sp.init() == OK
    assert sp.init() == SevStatus.INVALID_PLATFORM_STATE
    # Memory encryption off (SYSCFG[23] = 0) or an Intel-mode engine: HWERROR_PLATFORM.
    engine, sp = make_platform()
    engine.config_write(ConfigReg.SYSCFG, 0)
    assert sp.init() == SevStatus.HWERROR_PLATFORM
    engine, sp = make_platform()
    engine.config_write(ConfigReg.MODE, 0)
    assert sp.init() == SevStatus.HWERROR_PLATFORM
    assert sp.state == PlatformState.UNINIT


def test_platform_status_fields():
    _, sp = make_platform()
    st = sp.platform_status()
    assert (st.status, st.state, st.flags, st.guest_count) == (OK, PlatformState.UNINIT, 0, 0)
    assert (st.api_major, st.api_minor, st.build) == (1, 55, 21)
    assert sp.init(flags=1) == OK
    assert sp.platform_status().flags == 0x100  # CONFIG_ES
    assert sp.shutdown() == OK
    assert sp.platform_status().flags == 0  # reads 0 in UNINIT


def test_pdh_cert_export():
    _, sp = make_platform()
    assert sp.pdh_cert_export().status == SevStatus.INVALID_PLATFORM_STATE
    assert sp.init() == OK
    result = sp.pdh_cert_export()
    assert result.status == OK and result.pdh == sp.pdh_public and len(result.pdh) == 97


def test_guest_commands_need_working():
    _, sp = make_platform()
    assert sp.launch_start(0).status == SevStatus.INVALID_PLATFORM_STATE  # UNINIT
    assert sp.guest_status(1).status == SevStatus.INVALID_PLATFORM_STATE  # UNINIT
    assert sp.init() == OK
    # In INIT (no guest yet) every command that needs WORKING refuses.
    assert sp.activate(1, 1) == SevStatus.INVALID_PLATFORM_STATE
    assert sp.deactivate(1) == SevStatus.INVALID_PLATFORM_STATE
    assert sp.decommission(1) == SevStatus.INVALID_PLATFORM_STATE
    assert sp.launch_update_data(1, 0, 16) == SevStatus.INVALID_PLATFORM_STATE
    assert sp.launch_measure(1).status == SevStatus.INVALID_PLATFORM_STATE
    assert sp.launch_secret(1, bytes(52), 0, 16, bytes(16)) == SevStatus.INVALID_PLATFORM_STATE
    assert sp.launch_finish(1) == SevStatus.INVALID_PLATFORM_STATE
    assert sp.guest_status(1).status == OK


def test_mailbox_dispatch():
    _, sp = make_platform()
    assert sp.command(SevCommand.INIT) == OK
    assert sp.command(SevCommand.PLATFORM_STATUS).state == PlatformState.INIT
    assert sp.command(SevCommand.PEK_GEN) == SevStatus.INVALID_COMMAND  # not modelled
    assert sp.command(0xEE) == SevStatus.INVALID_COMMAND  # unknown ID
    owner = GuestOwner(0, seed=2)
    bundle = owner.build_session(sp.pdh_public)
    result = sp.command(SevCommand.LAUNCH_START, policy=0, dh_cert=bundle.dh_cert, session=bundle.session)
    assert result.status == OK
    assert sp.command(SevCommand.GUEST_STATUS, handle=result.handle).state == 1


def test_resource_limit():
    _, sp = ready_platform(max_guests=2)
    start(sp, GuestOwner(0, seed=1))
    start(sp, GuestOwner(0, seed=2))
    bundle = GuestOwner(0, seed=3).build_session(sp.pdh_public)
    assert sp.launch_start(0, bundle.dh_cert, bundle.session).status == SevStatus.RESOURCE_LIMIT
    assert sp.platform_status().guest_count == 2
