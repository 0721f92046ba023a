"""ASID lifecycle: ACTIVATE, DEACTIVATE, DECOMMISSION, WBINVD and DF_FLUSH (facts §2.9), and
what each does to the engine's key slots."""

from golden_model.config import ConfigReg, ConfigStatus
from golden_model.engine import ErrorCode
from golden_model.sev import GuestOwner, GuestPolicy, SevStatus

from . import C_BIT, launch_running, make_platform, ready_platform, start

OK = SevStatus.SUCCESS
LINE = b"guest line".ljust(64, b"\0")


def test_init_leaves_every_asid_dirty():
    engine, sp = make_platform()  # 2 CCXs x 2 cores
    assert sp.init() == OK
    h = start(sp, GuestOwner(0, seed=1))
    assert sp.activate(h, 1) == SevStatus.DFFLUSH_REQUIRED
    assert sp.df_flush() == SevStatus.WBINVD_REQUIRED  # no core has run WBINVD
    sp.wbinvd(0)
    sp.wbinvd(1)  # CCX 0 complete: its dirty ASIDs become clean, but CCX 1 is still dirty
    assert sp.df_flush() == SevStatus.WBINVD_REQUIRED
    assert sp.activate(h, 1) == SevStatus.DFFLUSH_REQUIRED
    sp.wbinvd(2)
    sp.wbinvd(3)
    assert sp.df_flush() == OK
    assert sp.activate(h, 1) == OK


def test_df_flush_needs_no_platform_state():
    _, sp = make_platform()
    assert sp.df_flush() == SevStatus.WBINVD_REQUIRED
    sp.wbinvd()
    assert sp.df_flush() == OK


def test_activate_asid_range():
    engine, sp = ready_platform()
    h = start(sp, GuestOwner(0, seed=1))
    assert sp.activate(h, 0) == SevStatus.INVALID_ASID
    assert sp.activate(h, sp.max_asid + 1) == SevStatus.INVALID_ASID  # 63 is the host slot
    assert sp.activate(h, -1) == SevStatus.INVALID_ASID
    assert sp.activate(h, sp.max_asid) == OK


def test_activate_es_asid_split():
    # ASIDs below min_sev_asid are for SEV-ES guests only, the rest for plain SEV guests.
    _, sp = make_platform(min_sev_asid=5)
    assert sp.init(flags=1) == OK
    sp.wbinvd()
    assert sp.df_flush() == OK
    es = start(sp, GuestOwner(GuestPolicy(es=True), seed=1))
    plain = start(sp, GuestOwner(0, seed=2))
    assert sp.activate(es, 5) == SevStatus.INVALID_ASID
    assert sp.activate(plain, 4) == SevStatus.INVALID_ASID
    assert sp.activate(es, 4) == OK
    assert sp.activate(plain, 5) == OK


def test_activate_owned_and_active():
    engine, sp = ready_platform()
    a, b = start(sp, GuestOwner(0, seed=1)), start(sp, GuestOwner(0, seed=2))
    assert sp.activate(a, 1) == OK
    assert sp.activate(b, 1) == SevStatus.ASID_OWNED  # allocated (pending) to a
    assert sp.activate(a, 1) == SevStatus.ASID_OWNED  # the ownership check comes first
    assert sp.activate(a, 2) == SevStatus.ACTIVE  # a already has an ASID
    assert sp.deactivate(b) == SevStatus.INACTIVE
    assert sp.decommission(a) == SevStatus.ACTIVE  # deactivate first


def test_running_guest_asid_is_owned():
    engine, sp = ready_platform()
    launch_running(sp, engine, GuestOwner(0, seed=1), asid=3)
    b = start(sp, GuestOwner(0, seed=2))
    assert sp.activate(b, 3) == SevStatus.ASID_OWNED  # in use


def test_pending_asid_is_clean_again_after_deactivate():
    # A guest that never ran left no lines in any cache: its ASID is reusable at once.
    engine, sp = ready_platform()
    a = start(sp, GuestOwner(0, seed=1))
    assert sp.activate(a, 1) == OK
    assert not sp.asid_runnable(1)  # pending until LAUNCH_FINISH
    assert sp.deactivate(a) == OK
    b = start(sp, GuestOwner(0, seed=2))
    assert sp.activate(b, 1) == OK


def test_asid_reuse_needs_wbinvd_then_df_flush():
    engine, sp = ready_platform()
    a = launch_running(sp, engine, GuestOwner(0, seed=1), asid=1)
    assert sp.asid_runnable(1)
    assert sp.deactivate(a) == OK
    assert not sp.asid_runnable(1)
    assert sp.decommission(a) == OK
    b = start(sp, GuestOwner(0, seed=2))
    assert sp.activate(b, 1) == SevStatus.DFFLUSH_REQUIRED  # dirty
    assert sp.df_flush() == SevStatus.WBINVD_REQUIRED  # DEACTIVATE cleared WBINVD_DONE
    assert sp.activate(b, 1) == SevStatus.DFFLUSH_REQUIRED  # still dirty
    sp.wbinvd()
    assert sp.df_flush() == OK
    assert sp.activate(b, 1) == OK


def test_deactivate_keeps_the_key_until_df_flush():
    engine, sp = ready_platform()
    a = launch_running(sp, engine, GuestOwner(0, seed=1), asid=1)
    keep = launch_running(sp, engine, GuestOwner(0, seed=2), asid=2)
    assert engine.write(0x4000 | C_BIT, LINE, asid=1).error == ErrorCode.OK
    assert engine.write(0x5000 | C_BIT, LINE, asid=2).error == ErrorCode.OK
    assert sp.deactivate(a) == OK
    # Dirty lines of the departed guest can still be written back under its key.
    assert engine.read(0x4000 | C_BIT, asid=1).data == LINE
    sp.wbinvd()
    assert sp.df_flush() == OK
    assert engine.read(0x4000 | C_BIT, asid=1).error == ErrorCode.NO_KEY
    assert engine.read(0x5000 | C_BIT, asid=2).data == LINE  # the running guest keeps its key
    assert sp.guest_status(keep).asid == 2


def test_reactivating_a_running_guest_enables_it_at_once():
    engine, sp = ready_platform()
    a = launch_running(sp, engine, GuestOwner(0, seed=1), asid=1)
    assert engine.write(0x4000 | C_BIT, LINE, asid=1).error == ErrorCode.OK
    assert sp.deactivate(a) == OK
    sp.wbinvd()
    assert sp.df_flush() == OK
    assert sp.activate(a, 7) == OK
    assert sp.asid_runnable(7) and sp.guest_status(a).asid == 7
    # The key derives from the guest's VEK seed, not from the ASID: its memory survives the move.
    assert engine.read(0x4000 | C_BIT, asid=7).data == LINE


def test_activate_reports_a_key_table_failure():
    engine, sp = ready_platform()
    h = start(sp, GuestOwner(0, seed=1))
    engine.config_write(ConfigReg.KT_LOCK, 1)  # key-program port answers DEVICE_BUSY
    assert sp.activate(h, 1) == SevStatus.HWERROR_PLATFORM
    assert sp.guest_status(h).asid == 0
    # The lock is sticky until reset (DESIGN §10): the platform stays unable to activate.
    assert engine.config_write(ConfigReg.KT_LOCK, 0) == ConfigStatus.LOCKED
    assert sp.activate(h, 1) == SevStatus.HWERROR_PLATFORM


def test_shutdown_then_init_needs_a_fresh_flush():
    engine, sp = ready_platform()
    launch_running(sp, engine, GuestOwner(0, seed=1), asid=1)
    assert sp.shutdown() == OK
    assert not sp.asid_runnable(1)
    assert sp.init() == OK
    h = start(sp, GuestOwner(0, seed=2))
    assert sp.activate(h, 2) == SevStatus.DFFLUSH_REQUIRED
    sp.wbinvd()
    assert sp.df_flush() == OK
    assert sp.activate(h, 1) == OK


def test_wbinvd_rejects_a_core_that_does_not_exist():
    import pytest

    _, sp = make_platform(ccx_count=1, cores_per_ccx=2)
    with pytest.raises(ValueError):
        sp.wbinvd(2)
