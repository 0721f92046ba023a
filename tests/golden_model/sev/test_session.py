"""The guest-owner/firmware channel: session blob, unwrap, measurement, secret packets."""

import hashlib
import hmac
import struct
from random import Random

import pytest

from golden_model.sev.guest_owner import GuestOwner, launch_digest
from golden_model.sev.session import (
    Measurement,
    PacketHeader,
    SessionBlob,
    TransportKeys,
    aes128_ctr,
    derive_master_secret,
    ecdh_z,
    generate_p384_key,
    load_public,
    measurement_mac,
    open_session,
    public_bytes,
    secret_mac,
    wrap_transport_keys,
)
from golden_model.sev.status import SevStatus


def _blob(**overrides):
    fields = dict(nonce=b"\x01" * 16, wrap_tk=b"\x02" * 32, wrap_iv=b"\x03" * 16,
                  wrap_mac=b"\x04" * 32, policy_mac=b"\x05" * 32)
    fields.update(overrides)
    return SessionBlob(**fields)


def test_session_blob_layout():
    raw = _blob().to_bytes()
    assert len(raw) == 128
    # NONCE 16 | WRAP_TK 32 | WRAP_IV 16 | WRAP_MAC 32 | POLICY_MAC 32 (facts §2.10).
    assert raw == b"\x01" * 16 + b"\x02" * 32 + b"\x03" * 16 + b"\x04" * 32 + b"\x05" * 32
    assert SessionBlob.from_bytes(raw) == _blob()
    with pytest.raises(ValueError):
        SessionBlob.from_bytes(raw[:-1])
    with pytest.raises(ValueError):
        _blob(nonce=b"short")


def test_packet_header_and_measurement_layout():
    hdr = PacketHeader(flags=0x0102_0304, iv=b"\x11" * 16, mac=b"\x22" * 32)
    assert hdr.to_bytes() == b"\x04\x03\x02\x01" + b"\x11" * 16 + b"\x22" * 32
    assert PacketHeader.from_bytes(hdr.to_bytes()) == hdr
    m = Measurement(mac=b"\x33" * 32, mnonce=b"\x44" * 16)
    assert m.to_bytes() == b"\x33" * 32 + b"\x44" * 16
    assert Measurement.from_bytes(m.to_bytes()) == m


def test_ecdh_agrees_both_ways_and_rejects_bad_points():
    a, b = generate_p384_key(Random(1)), generate_p384_key(Random(2))
    z = ecdh_z(a, load_public(public_bytes(b)))
    assert len(z) == 48
    assert z == ecdh_z(b, load_public(public_bytes(a)))
    bad = bytearray(public_bytes(a))
    bad[-1] ^= 1  # off the curve
    assert load_public(bytes(bad)) is None
    assert load_public(b"\x04" + bytes(96)) is None
    assert load_public(public_bytes(a)[:-1]) is None


def test_wrap_then_open_recovers_the_transport_keys():
    keys = TransportKeys(tek=b"T" * 16, tik=b"I" * 16)
    z, nonce, iv = b"z" * 48, b"n" * 16, b"v" * 16
    wrap_tk, wrap_mac = wrap_transport_keys(keys, derive_master_secret(z, nonce), iv)
    blob = _blob(nonce=nonce, wrap_tk=wrap_tk, wrap_iv=iv, wrap_mac=wrap_mac)
    assert open_session(z, blob) == (SevStatus.SUCCESS, keys)
    # A different shared secret (wrong PDH) or a flipped bit fails the KIK MAC.
    assert open_session(b"y" * 48, blob) == (SevStatus.BAD_MEASUREMENT, None)
    flipped = bytes([wrap_tk[0] ^ 1]) + wrap_tk[1:]
    assert open_session(z, _blob(nonce=nonce, wrap_tk=flipped, wrap_iv=iv, wrap_mac=wrap_mac))[0] == (
        SevStatus.BAD_MEASUREMENT
    )


def test_measurement_mac_layout():
    tik, ld, mnonce = b"k" * 16, b"d" * 32, b"m" * 16
    msg = b"\x04\x01\x37\x15" + struct.pack("<I", 0x33) + ld + mnonce
    expected = hmac.new(tik, msg, hashlib.sha256).digest()
    assert measurement_mac(tik, 1, 0x37, 0x15, 0x33, ld, mnonce) == expected


def test_secret_mac_layout():
    tik, iv, trans, measure = b"k" * 16, b"i" * 16, b"t" * 32, b"m" * 32
    msg = b"\x01" + struct.pack("<I", 0) + iv + struct.pack("<II", 32, 32) + trans + measure
    assert secret_mac(tik, 0, iv, 32, trans, measure) == hmac.new(tik, msg, hashlib.sha256).digest()


def test_aes_ctr_is_an_involution():
    data = bytes(range(48))
    assert aes128_ctr(b"k" * 16, b"i" * 16, aes128_ctr(b"k" * 16, b"i" * 16, data)) == data


def test_guest_owner_refuses_secret_before_attestation():
    owner = GuestOwner(0, seed=3)
    with pytest.raises(RuntimeError):
        owner.wrap_secret(bytes(16))


def test_guest_owner_rejects_a_bad_pdh():
    with pytest.raises(ValueError):
        GuestOwner(0, seed=3).build_session(b"\x04" + bytes(96))


def test_launch_digest_is_sha256_of_the_concatenation():
    assert launch_digest(b"ab", b"cd") == hashlib.sha256(b"abcd").digest()
