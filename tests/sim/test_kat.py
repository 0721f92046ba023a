"""Tests of ``python -m sim.kat``: input validation (no simulator), vector generation, real runs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim import kat

DATA = Path(__file__).resolve().parent.parent / "data" / "kat_xts128.jsonl"
GOOD = kat.make_vectors(1, seed=5)[0].to_json()


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


def _one_line(capsys, needle):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and needle in err, err


def test_non_utf8_file_names_the_line(tmp_path, capsys):
    path = tmp_path / "v.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n{\"key1\": \"\xff\xfe\"}\n")
    assert kat.main([str(path)]) == 2
    _one_line(capsys, "line 2: not UTF-8 text (byte 0xff at column 11)")


def test_deeply_nested_json_names_the_line(tmp_path, capsys):
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + "[" * 200_000 + "]" * 200_000 + "\n")
    assert kat.main([str(path)]) == 2
    _one_line(capsys, "line 2: JSON nested too deeply")


@pytest.mark.parametrize("n, needle", [("-1", "between 1 and"), ("0", "between 1 and"),
                                       ("10000001", "between 1 and"), ("ten", "must be an integer")])
def test_make_vectors_bad_count(tmp_path, capsys, n, needle):
    out = tmp_path / "v.jsonl"
    assert kat.main(["--make-vectors", n, str(out)]) == 2
    _one_line(capsys, needle)
    assert not out.exists()


def test_make_vectors_into_a_missing_directory(tmp_path, capsys):
    assert kat.main(["--make-vectors", "2", str(tmp_path / "nope" / "v.jsonl")]) == 2
    _one_line(capsys, "cannot write")


@pytest.mark.parametrize("argv, needle", [([], "a vector FILE"), (["--sim", "ghdl", "x"], "invalid choice"),
                                          (["--seed", "x", "f"], "invalid int"),
                                          (["a", "b"], "unrecognized")])
def test_argument_errors_are_one_line(capsys, argv, needle):
    assert kat.main(argv) == 2
    _one_line(capsys, needle)


BLOCK_SIM_EXTRA = (
    "import runpy, sys\n"
    "for m in ('cocotb', 'pyuvm', 'cocotb_coverage', 'filelock'):\n"
    "    sys.modules[m] = None  # as if the sim extra were not installed\n"
    "mod = sys.argv[1]\n"
    "sys.argv = [mod] + sys.argv[2:]\n"
    "runpy.run_module(mod, run_name='__main__', alter_sys=True)\n"
)


@pytest.mark.parametrize("module, args", [("sim.kat", ["VECTORS"]), ("sim.regress", ["--list"])])
def test_without_the_sim_extra_names_it(tmp_path, module, args):
    vectors = tmp_path / "v.jsonl"
    vectors.write_text(json.dumps(GOOD) + "\n")
    argv = [str(vectors) if a == "VECTORS" else a for a in args]
    proc = subprocess.run([sys.executable, "-c", BLOCK_SIM_EXTRA, module, *argv], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "the 'sim' extra" in proc.stderr and "pip install" in proc.stderr


def test_closed_stdout_pipe(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "sim.kat", "--make-vectors", "1", str(tmp_path / "v")],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "pipe closed" in proc.stderr


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
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_kat_file_passes(sim, capsys):
    assert kat.main([str(DATA), "--sim", sim]) == 0
    assert capsys.readouterr().out.strip().endswith(f"{len(kat.load_vectors(DATA))} passed, 0 failed")


@pytest.mark.sim
def test_wrong_ciphertext_is_reported(tmp_path, capsys):
    wrong = dict(GOOD, ciphertext=("ff" + GOOD["ciphertext"][2:]))
    path = _write(tmp_path, [GOOD, wrong, GOOD])
    assert kat.main([str(path), "--sim", "icarus"]) == 1
    out = capsys.readouterr().out
    assert f"{path}:2: FAIL: DRAM ciphertext" in out
    assert out.strip().endswith("2 passed, 1 failed")
