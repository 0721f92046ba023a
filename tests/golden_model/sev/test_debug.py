"""DBG_DECRYPT / DBG_ENCRYPT: plaintext access for a debugger unless the policy says NODBG."""

import pytest

from golden_model.sev import GuestOwner, GuestPolicy, SevCommand, SevStatus

from . import C_BIT, IMAGE_PA, guest_read, host_read, host_write, launch_running, ready_platform, start

DST = 0x20_0000
IMAGE = b"guest firmware image".ljust(64, b".")


def _running(policy=0, asid=1):
    engine, sp = ready_platform()
    owner = GuestOwner(policy, seed=3)
    return engine, sp, launch_running(sp, engine, owner, asid, IMAGE)


def test_dbg_decrypt_gives_the_plaintext():
    engine, sp, h = _running()
    assert host_read(engine, IMAGE_PA, 64) != IMAGE  # the hypervisor alone sees ciphertext
    assert sp.dbg_decrypt(h, IMAGE_PA, DST, 64) == SevStatus.SUCCESS
    assert host_read(engine, DST, 64) == IMAGE
    assert sp.command(SevCommand.DBG_DECRYPT, handle=h, src_paddr=IMAGE_PA + 16, dst_paddr=DST,
                      length=16) == SevStatus.SUCCESS
    assert host_read(engine, DST, 16) == IMAGE[16:32]


def test_dbg_encrypt_writes_under_the_guest_key():
    engine, sp, h = _running()
    host_write(engine, DST, b"patched by gdb!!")
    assert sp.dbg_encrypt(h, DST, IMAGE_PA + 16, 16) == SevStatus.SUCCESS
    assert guest_read(engine, IMAGE_PA, 64, 1) == IMAGE[:16] + b"patched by gdb!!" + IMAGE[32:]
    assert engine.read(IMAGE_PA | C_BIT, 1).data != engine.read(IMAGE_PA).data


def test_nodbg_refuses_both():
    engine, sp, h = _running(GuestPolicy(nodbg=True).to_int())
    assert sp.dbg_decrypt(h, IMAGE_PA, DST, 64) == SevStatus.POLICY_FAILURE
    assert sp.dbg_encrypt(h, DST, IMAGE_PA, 64) == SevStatus.POLICY_FAILURE
    assert host_read(engine, DST, 64) == bytes(64)  # nothing was written


@pytest.mark.parametrize("src, dst, length, status", [
    (IMAGE_PA + 8, DST, 16, SevStatus.INVALID_ADDRESS),
    (IMAGE_PA, DST + 4, 16, SevStatus.INVALID_ADDRESS),
    (IMAGE_PA, DST, 24, SevStatus.INVALID_LEN),
    (IMAGE_PA, DST, 0, SevStatus.INVALID_LEN),
    (IMAGE_PA, DST, 1 << 32, SevStatus.INVALID_LEN),
    (IMAGE_PA, C_BIT, 16, SevStatus.INVALID_ADDRESS),  # at the C-bit: not a system PA
])
def test_parameter_checks(src, dst, length, status):
    engine, sp, h = _running()
    assert sp.dbg_decrypt(h, src, dst, length) == status


def test_check_order_address_before_handle_before_policy():
    engine, sp, h = _running(GuestPolicy(nodbg=True).to_int())
    assert sp.dbg_decrypt(99, IMAGE_PA + 8, DST, 16) == SevStatus.INVALID_ADDRESS
    assert sp.dbg_decrypt(99, IMAGE_PA, DST, 16) == SevStatus.INVALID_GUEST
    assert sp.dbg_decrypt(h, IMAGE_PA, DST, 16) == SevStatus.POLICY_FAILURE


def test_inactive_guest_and_platform_state():
    engine, sp = ready_platform()
    h = start(sp, GuestOwner(0, seed=1))
    assert sp.dbg_decrypt(h, IMAGE_PA, DST, 16) == SevStatus.INACTIVE
    sp.shutdown()
    assert sp.dbg_decrypt(h, IMAGE_PA, DST, 16) == SevStatus.INVALID_PLATFORM_STATE
