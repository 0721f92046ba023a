"""The SP 800-108 KDF and the channel HMAC against the published vectors (facts §2.12)."""

import hashlib
import hmac
import struct

import pytest

from golden_model.sev.kdf import LABEL_MASTER_SECRET, LABEL_VEK, derive_vek, kdf
from golden_model.sev.session import policy_mac


def test_kdf_master_secret_vector():
    # facts §2.12, also virtee/sev's unit test.
    assert kdf(bytes(16), LABEL_MASTER_SECRET, bytes(16), 16).hex() == "ab4d269fcc62bedb4511d56c386ce706"


def test_policy_mac_is_the_hmac_vector():
    # HMAC-SHA256(key = 00x16, msg = 00x4): POLICY_MAC of policy 0 under TIK = 0.
    expected = "aa7855e13839dd767cd5da7c1ff5036540c9264b7a803029315e55375287b4af"
    assert policy_mac(0, bytes(16)).hex() == expected


def test_kdf_length_is_bound_into_every_block():
    # L (in bits) is part of each PRF input, so a shorter key is not a prefix of a longer one.
    short = kdf(b"k", b"label", b"ctx", 16)
    long = kdf(b"k", b"label", b"ctx", 48)
    assert len(long) == 48
    assert long[:16] != short


def test_kdf_second_block_uses_counter_two():
    # Written out independently of the implementation: block i = HMAC(key, u32le(i) || label
    # || 0x00 || context || u32le(L)).
    key, label, ctx = b"\x01" * 32, b"sev-kek", b""
    blocks = [
        hmac.new(key, struct.pack("<I", i) + label + b"\x00" + ctx + struct.pack("<I", 40 * 8),
                 hashlib.sha256).digest()
        for i in (1, 2)
    ]
    assert kdf(key, label, ctx, 40) == (blocks[0] + blocks[1])[:40]


def test_kdf_rejects_empty_output():
    with pytest.raises(ValueError):
        kdf(b"k", b"l", b"", 0)


def test_vek_label_carries_its_terminator():
    # umc.c passes sizeof(label): the C string's NUL is hashed before the KDF's own separator.
    seed = bytes(range(32))
    msg = (struct.pack("<I", 1) + b"sev-vm-encryption-key-0\x00" + b"\x00"
           + struct.pack("<I", 0) + struct.pack("<I", 256))
    expected = hmac.new(seed, msg, hashlib.sha256).digest()
    assert LABEL_VEK.endswith(b"\x00")
    assert derive_vek(seed) == (expected[:16], expected[16:])


def test_vek_differs_per_channel_and_seed():
    seed = bytes(32)
    assert derive_vek(seed, 0) != derive_vek(seed, 1)
    assert derive_vek(seed) != derive_vek(b"\x01" * 32)
    with pytest.raises(ValueError):
        derive_vek(bytes(16))
