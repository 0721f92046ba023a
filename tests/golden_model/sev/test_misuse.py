"""Model-level misuse answers the platform's status, and statuses print their names."""

import pytest

from golden_model.config import ConfigStatus
from golden_model.engine import ErrorCode
from golden_model.keytable import KeyProgramStatus
from golden_model.platform import AmdPlatform
from golden_model.sev import GuestOwner, GuestState, PlatformState, SevStatus

from . import IMAGE_PA, ready_platform, start


@pytest.mark.parametrize("length", [1 << 32, (1 << 40) + 16])
def test_launch_update_data_length_beyond_the_u32_field(length):
    engine, sp = ready_platform()
    h = start(sp, GuestOwner(0, seed=1))
    sp.activate(h, 1)
    before = engine.dram.reads
    assert sp.launch_update_data(h, IMAGE_PA, length) == SevStatus.INVALID_LEN
    assert engine.dram.reads == before  # refused before touching memory


def test_launch_update_data_beyond_dram():
    plat = AmdPlatform()
    sp = plat.sp
    assert sp.init() == SevStatus.SUCCESS
    sp.wbinvd()
    sp.df_flush()
    h = start(sp, GuestOwner(0, seed=1))
    sp.activate(h, 1)
    size = plat.dram.size
    assert sp.launch_update_data(h, size - 64, 128) == SevStatus.INVALID_ADDRESS
    assert sp.launch_update_data(h, 1 << 64, 16) == SevStatus.INVALID_ADDRESS
    assert sp.launch_update_data(h, size - 64, 64) == SevStatus.SUCCESS


def test_launch_update_data_in_chunks_matches_one_piece():
    # 0x5000-byte chunks (the firmware's scratch buffer): same digest as the whole image.
    from golden_model.sev import launch_digest

    from . import host_write

    engine, sp = ready_platform()
    owner = GuestOwner(0, seed=1)
    h = start(sp, owner)
    sp.activate(h, 1)
    image = bytes(range(256)) * 0xA0  # 40 KiB: two full chunks
    host_write(engine, IMAGE_PA, image)
    assert sp.launch_update_data(h, IMAGE_PA, len(image)) == SevStatus.SUCCESS
    st = sp.platform_status()
    assert owner.verify_measurement(sp.launch_measure(h).measurement, launch_digest(image),
                                    api_major=st.api_major, api_minor=st.api_minor, build=st.build)


def test_statuses_and_states_print_their_names():
    assert str(SevStatus.POLICY_FAILURE) == "POLICY_FAILURE" and f"{SevStatus.SUCCESS}" == "SUCCESS"
    assert str(GuestState.RUNNING) == "RUNNING" and str(PlatformState.WORKING) == "WORKING"
    assert str(KeyProgramStatus.DEVICE_BUSY) == "DEVICE_BUSY"
    assert str(ConfigStatus.LOCKED) == "LOCKED" and str(ErrorCode.NO_KEY) == "NO_KEY"
    # ... and stay integers everywhere else.
    assert SevStatus.ASID_OWNED == 0x0C and f"{SevStatus.ASID_OWNED:#x}" == "0xc"
    assert int(ErrorCode.NO_KEY) == 3
    assert "status=<SevStatus.SUCCESS: 0>" in repr(ready_platform()[1].platform_status())
