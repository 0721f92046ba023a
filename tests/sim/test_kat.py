"""Tests of ``python -m sim.kat``: input validation (no simulator), vector generation, real runs."""

import importlib.util
import json
from pathlib import Path

import pytest

from sim import kat

DATA = Path(__file__).resolve().parent.parent / "data" / "kat_xts128.jsonl"
GOOD = kat.make_vectors(1, seed=5)[0].to_json()
ENGINE_MISSING = importlib.util.find_spec("rtl.engine.top") is None


def _write(tmp_path, lines):
    path = tmp_path / "v.jsonl"
    path.write_text("".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines))
    return path


@pytest.mark.parametrize("bad, message", [
    ("{not json", "line 2: not valid JSON"),
    ("[1, 2]", "line 2: expected a JSON object"),
    ({k: v for k, v in GOOD.items() if k != "key2"}, "line 2: missing field(s) key2"),
    ({**GOOD, "iv": "00"}, "line 2: unknown field(s) iv"),
    ({**GOOD, "key1": "00" * 15}, "line 2: key1 must be 16 bytes"),
    ({**GOOD, "plaintext": "zz" * 64}, "line 2: plaintext is not valid hex"),
    ({**GOOD, "ciphertext": 5}, "line 2: ciphertext must be a hex string"),
    ({**GOOD, "pa": "0x1001"}, "line 2: pa 0x1001 is not 64-byte aligned"),
    ({**GOOD, "pa": "0x" + "f" * 12 + "c0"}, "does not fit in PA width"),
    ({**GOOD, "pa": 64}, "line 2: pa must be a hex string"),
])
def test_malformed_file_exits_2_naming_the_line(tmp_path, capsys, bad, message):
    path = _write(tmp_path, [GOOD, bad, GOOD])
    assert kat.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err


def test_empty_and_missing_files(tmp_path, capsys):
    assert kat.main([str(_write(tmp_path, [""]))]) == 2
    assert "no vectors" in capsys.readouterr().err
    assert kat.main([str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_make_vectors_round_trip_and_agree_with_golden_model(tmp_path):
    from golden_model.xts import xts_encrypt_line

    out = tmp_path / "gen.jsonl"
    assert kat.main(["--make-vectors", "8", str(out), "--seed", "3"]) == 0
    vectors = kat.load_vectors(out)
    assert len(vectors) == 8 and len({v.pa for v in vectors}) == 8
    for v in vectors:
        assert v.key1 != v.key2
        assert xts_encrypt_line(v.key1, v.key2, v.pa, v.plaintext) == v.ciphertext
    assert kat.make_vectors(3, seed=3) == kat.make_vectors(3, seed=3)


def test_ci_file_holds_ieee1619_vector1():
    vectors = kat.load_vectors(DATA)
    ieee = [v for v in vectors if v.key1 == v.key2 == bytes(16)]
    assert len(vectors) >= 16 and len(ieee) == 1
    assert ieee[0].ciphertext[:32].hex() == (
        "917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e")
    assert kat.choose_keyid_bits(vectors) == kat.KEYID_BITS_MAX


@pytest.mark.sim
@pytest.mark.skipif(ENGINE_MISSING, reason="rtl/engine/top.py not written yet")
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_kat_file_passes(sim, capsys):
    assert kat.main([str(DATA), "--sim", sim]) == 0
    assert capsys.readouterr().out.strip().endswith(f"{len(kat.load_vectors(DATA))} passed, 0 failed")


@pytest.mark.sim
@pytest.mark.skipif(ENGINE_MISSING, reason="rtl/engine/top.py not written yet")
def test_wrong_ciphertext_is_reported(tmp_path, capsys):
    wrong = dict(GOOD, ciphertext=("ff" + GOOD["ciphertext"][2:]))
    path = _write(tmp_path, [GOOD, wrong, GOOD])
    assert kat.main([str(path), "--sim", "icarus"]) == 1
    out = capsys.readouterr().out
    assert f"{path}:2: FAIL: DRAM ciphertext" in out
    assert out.strip().endswith("2 passed, 1 failed")
