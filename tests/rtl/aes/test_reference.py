"""The pure-Python reference (rtl.aes.reference) against FIPS-197 and ``cryptography``."""

import random

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from rtl.aes import reference as ref

FIPS = [  # (key, plaintext, ciphertext), FIPS-197 Appendix B and C.1, as hex byte strings
    ("2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734",
     "3925841d02dc09fbdc118597196a0b32"),
    ("000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff",
     "69c4e0d86a7b0430d8cdb78070b4c55a"),
]


def _le(h):
    return int.from_bytes(bytes.fromhex(h), "little")


def _ecb(key, block, decrypt=False):
    c = Cipher(algorithms.AES(key.to_bytes(16, "little")), modes.ECB())
    ctx = c.decryptor() if decrypt else c.encryptor()
    return int.from_bytes(ctx.update(block.to_bytes(16, "little")) + ctx.finalize(), "little")


@pytest.mark.parametrize("key,pt,ct", FIPS)
def test_fips197(key, pt, ct):
    assert ref.encrypt_block(_le(pt), _le(key)) == _le(ct)
    assert ref.decrypt_block(_le(ct), _le(key)) == _le(pt)


def test_fips197_appendix_a1_key_expansion():
    # FIPS-197 A.1: w[40..43], i.e. round key 10.
    assert ref.last_round_key(_le(FIPS[0][0])) == _le("d014f9a8c9ee2589e13f0cc8b6630ca6")
    assert ref.expand_key(_le(FIPS[0][0]))[1] == _le("a0fafe1788542cb123a339392a6c7605")


def test_sbox_known_values():
    assert ref.SBOX[0x00] == 0x63 and ref.SBOX[0x53] == 0xED and ref.INV_SBOX[0xED] == 0x53
    assert sorted(ref.SBOX) == list(range(256))


def test_against_cryptography():
    rng = random.Random(197)
    for _ in range(200):
        key, block = rng.getrandbits(128), rng.getrandbits(128)
        assert ref.encrypt_block(block, key) == _ecb(key, block)
        assert ref.decrypt_block(block, key) == _ecb(key, block, decrypt=True)


def test_inverses_and_backward_key_schedule():
    rng = random.Random(2)
    for _ in range(100):
        s = rng.getrandbits(128)
        assert ref.inv_sub_bytes(ref.sub_bytes(s)) == s
        assert ref.inv_shift_rows(ref.shift_rows(s)) == s
        assert ref.inv_mix_columns(ref.mix_columns(s)) == s
        keys = ref.expand_key(s)
        for r in range(1, 11):
            assert ref.inv_key_expansion_step(keys[r], ref.RCON[r]) == keys[r - 1]
