"""rtl.soc.check: the console and DRAM-dump checker passes a correct run and catches each fault."""

import json

import numpy as np
import pytest

from golden_model.xts import LineCipher
from rtl.soc import check

GEOM = {"nbanks": 4, "nrows": 32, "ncols": 16, "data_width": 16, "address_mapping": "ROW_BANK_COL"}
KEY1 = bytes(range(16))
KEY2 = bytes(range(16, 32))
SECRET_LINE = b"My secret is 123" + bytes(range(0x50, 0x80))
PUBLIC_LINE = bytes(range(64))
SECRET_AT, PUBLIC_AT = 0x140, 0x400


def _write_dram(path, image):
    """Write *image* (linear bytes) as the four bank files rtl.soc.sim produces."""
    nb, nr, nc, wb = GEOM["nbanks"], GEOM["nrows"], GEOM["ncols"], GEOM["data_width"] // 8
    words = np.frombuffer(image, dtype="<u2").reshape(nr, nb, nc)
    for b in range(nb):
        lines = "\n".join(f"{w:0{2 * wb}x}" for w in words[:, b, :].reshape(-1))
        (path / f"dram_bank{b}.hex").write_text("// $writememh\n" + lines + "\n")
    (path / "dram_geometry.json").write_text(json.dumps(GEOM))


def _console(extra=""):
    return f"""
Memtest OK
MEE-DEMO start
MEE-INFO bypass=0 tme_at_boot=1 boot_status=0 keyid_bits=4
MEE-KP keyid=1 cmd=SET_KEY_DIRECT status=0 PROG_SUCCESS
MEE-KP keyid=2 cmd=SET_KEY_RANDOM status=0 PROG_SUCCESS
MEE-KP keyid=3 cmd=NO_ENCRYPT status=0 PROG_SUCCESS
MEE-KP keyid=16 cmd=SET_KEY_DIRECT status=3 INVALID_KEYID
MEE-KEY keyid=1 key1={KEY1.hex()} key2={KEY2.hex()}
MEE-WROTE keyid=1 offset=0x{SECRET_AT:08x} data={SECRET_LINE.hex()}
MEE-WROTE keyid=3 offset=0x{PUBLIC_AT:08x} data={PUBLIC_LINE.hex()}
MEE-CHECK keyid1_plaintext=1 keyid2_garbage=1 noencrypt_ciphertext=1
MEE-KP keyid=1 cmd=CLEAR_KEY status=0 PROG_SUCCESS
MEE-CHECK cleared_garbage=1
{extra}MEE-DEMO PASS fails=0
"""


def _good_image():
    size = GEOM["nbanks"] * GEOM["nrows"] * GEOM["ncols"] * 2
    image = bytearray(np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes())
    image[SECRET_AT:SECRET_AT + 64] = LineCipher(KEY1, KEY2).encrypt(SECRET_AT, SECRET_LINE)
    image[PUBLIC_AT:PUBLIC_AT + 64] = PUBLIC_LINE
    return image


@pytest.fixture
def run_dir(tmp_path):
    (tmp_path / "console.log").write_text(_console())
    _write_dram(tmp_path, bytes(_good_image()))
    return tmp_path


def test_load_dram_reassembles_row_bank_col(tmp_path):
    image = bytes(range(256)) * (GEOM["nbanks"] * GEOM["nrows"] * GEOM["ncols"] * 2 // 256)
    image = bytes(np.random.default_rng(2).permutation(np.frombuffer(image, np.uint8)))
    _write_dram(tmp_path, image)
    assert check.load_dram(tmp_path) == image


def test_a_correct_run_passes(run_dir):
    assert check.check(run_dir) == []
    assert check.main([str(run_dir)]) == 0


def test_one_flipped_ciphertext_bit_fails(run_dir):
    image = _good_image()
    image[SECRET_AT + 5] ^= 0x01
    _write_dram(run_dir, bytes(image))
    fails = check.check(run_dir)
    assert len(fails) == 1
    assert f"DRAM line 0x{SECRET_AT:08x} (KeyID 1)" in fails[0] and "golden XTS" in fails[0]


def test_a_line_stored_under_the_wrong_tweak_fails(run_dir):
    image = _good_image()
    image[SECRET_AT:SECRET_AT + 64] = LineCipher(KEY1, KEY2).encrypt(SECRET_AT + 64, SECRET_LINE)
    _write_dram(run_dir, bytes(image))
    assert any("golden XTS" in f for f in check.check(run_dir))


def test_a_changed_noencrypt_line_fails(run_dir):
    image = _good_image()
    image[PUBLIC_AT] ^= 0xFF
    _write_dram(run_dir, bytes(image))
    fails = check.check(run_dir)
    assert len(fails) == 1 and "plaintext (NO_ENCRYPT)" in fails[0]


def test_the_secret_in_the_dump_fails(run_dir):
    image = _good_image()
    image[0x600:0x610] = check.SECRET
    _write_dram(run_dir, bytes(image))
    fails = check.check(run_dir)
    assert len(fails) == 1 and "the secret" in fails[0] and "0x600" in fails[0]


@pytest.mark.parametrize("edit, reason", [
    (lambda c: c.replace("Memtest OK", "Memtest KO"), "memory test did not pass"),
    (lambda c: c.replace("MEE-DEMO PASS fails=0", ""), "did not finish"),
    (lambda c: c.replace("MEE-DEMO PASS fails=0", "MEE-DEMO FAIL fails=1"), "reported failures"),
    (lambda c: c.replace("tme_at_boot=1", "tme_at_boot=0"), "TME was not activated"),
    (lambda c: c.replace("keyid=16 cmd=SET_KEY_DIRECT status=3", "keyid=16 cmd=SET_KEY_DIRECT status=0"),
     "key-program statuses"),
    (lambda c: c.replace("keyid2_garbage=1", "keyid2_garbage=0"), "keyid2_garbage"),
])
def test_console_faults_fail_for_their_reason(run_dir, edit, reason):
    path = run_dir / "console.log"
    path.write_text(edit(path.read_text()))
    fails = check.check(run_dir)
    assert fails and any(reason in f for f in fails), fails


def test_missing_dump_is_a_clear_error(run_dir, capsys):
    (run_dir / "dram_bank2.hex").unlink()
    assert check.main([str(run_dir)]) == 2
    assert "dram_bank2.hex missing" in capsys.readouterr().err
