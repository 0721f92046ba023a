"""Guest policy encoding and the LAUNCH_START policy checks."""

import pytest

from golden_model.sev.policy import (
    POLICY_ES,
    POLICY_NODBG,
    POLICY_NOKS,
    POLICY_RESERVED_MASK,
    GuestPolicy,
    api_version_supported,
    check_policy_fields,
)
from golden_model.sev.status import SevStatus


def test_policy_bit_positions():
    assert GuestPolicy(nodbg=True).to_int() == POLICY_NODBG == 1
    assert GuestPolicy(noks=True).to_int() == POLICY_NOKS == 2
    assert GuestPolicy(es=True).to_int() == POLICY_ES == 4
    assert GuestPolicy(nosend=True).to_int() == 8
    assert GuestPolicy(domain=True).to_int() == 0x10
    assert GuestPolicy(sev=True).to_int() == 0x20
    assert GuestPolicy(api_major=0x12, api_minor=0x34).to_int() == 0x3412_0000
    assert POLICY_RESERVED_MASK == 0xFFC0


@pytest.mark.parametrize("word", [0, 0x3F, 0x0118_0003, 0xFFFF_FFFF])
def test_policy_round_trip(word):
    assert GuestPolicy.from_int(word).to_int() == word


def test_policy_rejects_bad_fields():
    with pytest.raises(ValueError):
        GuestPolicy(api_major=256)
    with pytest.raises(ValueError):
        GuestPolicy(reserved=1)
    with pytest.raises(ValueError):
        GuestPolicy.from_int(1 << 32)


def test_api_version_check():
    policy = GuestPolicy(api_major=1, api_minor=55).to_int()
    assert api_version_supported(policy, 1, 55)
    assert api_version_supported(policy, 2, 0)
    assert not api_version_supported(policy, 1, 54)
    assert not api_version_supported(policy, 0, 99)


def test_policy_field_checks():
    assert check_policy_fields(0, 1, 0) == SevStatus.SUCCESS
    assert check_policy_fields(GuestPolicy(api_major=2).to_int(), 1, 55) == SevStatus.POLICY_FAILURE
    assert check_policy_fields(1 << 6, 1, 55) == SevStatus.POLICY_FAILURE
    assert check_policy_fields(1 << 15, 1, 55) == SevStatus.POLICY_FAILURE
    assert check_policy_fields(0x3F, 1, 55) == SevStatus.SUCCESS
