import os
import random

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from golden_model import aes_ref
from golden_model.xts import (
    alpha_mul,
    decrypt_lines_batch,
    encrypt_lines_batch,
    key_bytes,
    line_tweaks,
    xts_decrypt_line,
    xts_encrypt_line,
)

# IEEE 1619 XTS-AES-128 vectors 1 and 2 (facts §2.12): first 32 bytes of the line.
IEEE_VECTORS = [
    (bytes(16), bytes(16), 0, bytes(32),
     "917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e"),
    (b"\x11" * 16, b"\x22" * 16, 0x3333333333, b"\x44" * 32,
     "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0"),
]


@pytest.mark.parametrize("k1,k2,i,p,c", IEEE_VECTORS)
def test_ieee1619_vectors(k1, k2, i, p, c):
    line = p + bytes(32)
    ct = xts_encrypt_line(k1, k2, i, line)
    assert ct[:32].hex() == c
    assert xts_decrypt_line(k1, k2, i, ct) == line


def _independent_xts(k1: bytes, k2: bytes, i: int, data: bytes) -> bytes:
    # Built only from the pure-Python AES and the IEEE 1619 definition, no shared code.
    t = int.from_bytes(aes_ref.encrypt_block(k2, i.to_bytes(16, "little")), "little")
    out = b""
    for j in range(4):
        tj = t.to_bytes(16, "little")
        x = bytes(a ^ b for a, b in zip(data[16 * j:16 * j + 16], tj, strict=True))
        out += bytes(a ^ b for a, b in zip(aes_ref.encrypt_block(k1, x), tj, strict=True))
        t = ((t << 1) ^ (0x87 if t >> 127 else 0)) & ((1 << 128) - 1)
    return out


def test_random_lines_against_independent_xts():
    rng = random.Random(1619)
    for _ in range(20):
        k1, k2, data = rng.randbytes(16), rng.randbytes(16), rng.randbytes(64)
        i = rng.getrandbits(48) & ~63
        assert xts_encrypt_line(k1, k2, i, data) == _independent_xts(k1, k2, i, data)


def test_random_lines_against_cryptography_xts():
    rng = random.Random(7)
    for _ in range(200):
        k1, k2, data = rng.randbytes(16), rng.randbytes(16), rng.randbytes(64)
        i = rng.getrandbits(48) & ~63
        ref = Cipher(algorithms.AES(k1 + k2), modes.XTS(i.to_bytes(16, "little"))).encryptor().update(data)
        assert xts_encrypt_line(k1, k2, i, data) == ref
        assert xts_decrypt_line(k1, k2, i, ref) == data


def test_equal_keys_are_accepted():
    # OpenSSL refuses K1 == K2; the hardware (and so the model) must not.
    k = b"\x5a" * 16
    data = bytes(range(64))
    assert xts_encrypt_line(k, k, 0x1000, data) == _independent_xts(k, k, 0x1000, data)


def test_int_and_bytes_keys_agree():
    k1, k2 = bytes(range(16)), bytes(range(16, 32))
    data = os.urandom(64)
    a = xts_encrypt_line(k1, k2, 64, data)
    assert a == xts_encrypt_line(int.from_bytes(k1, "little"), int.from_bytes(k2, "little"), 64, data)


def test_alpha_mul_reduces_with_0x87():
    assert alpha_mul(1) == 2
    assert alpha_mul(1 << 127) == 0x87
    assert line_tweaks(1 << 127)[1:] == [0x87, 0x10E, 0x21C]


@pytest.mark.parametrize("tweaks", ["range", "list", "wide"])
def test_batch_equals_single_lines(tweaks):
    rng = random.Random(3)
    k1, k2 = rng.randbytes(16), rng.randbytes(16)
    n = 5000  # more than one internal chunk
    data = rng.randbytes(64 * n)
    tw = {"range": range(0x1000, 0x1000 + 64 * n, 64),
          "list": [rng.getrandbits(47) & ~63 for _ in range(n)],
          "wide": [(1 << 100) + 64 * k for k in range(n)]}[tweaks]
    ct = encrypt_lines_batch(k1, k2, tw, data)
    expect = b"".join(xts_encrypt_line(k1, k2, t, data[64 * k:64 * k + 64]) for k, t in enumerate(tw))
    assert ct == expect
    assert decrypt_lines_batch(k1, k2, tw, ct) == data


def test_bad_arguments():
    with pytest.raises(ValueError):
        key_bytes(b"short")
    with pytest.raises(ValueError):
        xts_encrypt_line(bytes(16), bytes(16), 0, bytes(63))
    with pytest.raises(ValueError):
        encrypt_lines_batch(bytes(16), bytes(16), [0], bytes(128))
