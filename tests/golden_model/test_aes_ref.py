import random

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from golden_model import aes_ref

FIPS_KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
FIPS_PLAIN = bytes.fromhex("00112233445566778899aabbccddeeff")


def test_fips197_appendix_c1_round_states():
    trace = aes_ref.encrypt_trace(FIPS_KEY, FIPS_PLAIN)
    assert len(trace) == 11
    assert trace[0].hex() == "00102030405060708090a0b0c0d0e0f0"  # round[1].start
    assert trace[1].hex() == "89d810e8855ace682d1843d8cb128fe4"  # round[2].start
    assert trace[10].hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_last_round_key_fips197_appendix_a1():
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    assert aes_ref.last_round_key(key).hex() == "d014f9a8c9ee2589e13f0cc8b6630ca6"


def test_against_cryptography_and_decrypt_trace():
    rng = random.Random(197)
    for _ in range(30):
        key, block = rng.randbytes(16), rng.randbytes(16)
        ct = Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)
        enc = aes_ref.encrypt_trace(key, block)
        assert enc[-1] == ct
        dec = aes_ref.decrypt_trace(key, ct)
        assert dec[-1] == block
        # The inverse cipher passes through the encryption's s_row states in reverse.
        s_row = [aes_ref._shift_rows(bytes(aes_ref.SBOX[b] for b in st)) for st in enc]
        assert [dec[k] for k in range(10)] == [s_row[9 - k] for k in range(10)]


def test_fips197_inverse_cipher_state():
    ct = aes_ref.encrypt_block(FIPS_KEY, FIPS_PLAIN)
    # FIPS-197 C.1 round[2].istart
    assert aes_ref.decrypt_trace(FIPS_KEY, ct)[1].hex() == "54d990a16ba09ab596bbf40ea111702f"


def test_sbox_known_entries():
    assert aes_ref.SBOX[0x00] == 0x63 and aes_ref.SBOX[0x53] == 0xED
    assert all(aes_ref.INV_SBOX[aes_ref.SBOX[x]] == x for x in range(256))
