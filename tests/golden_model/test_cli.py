import subprocess
import sys

import pytest

from golden_model.cli import main

Z = "00" * 16
VECTOR1 = "917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e"


def test_encrypt_line_vector1(capsys):
    assert main(["encrypt-line", "--key1", Z, "--key2", Z, "--pa", "0x0", "--data", "00" * 64]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out) == 128 and out.startswith(VECTOR1)
    assert main(["decrypt-line", "--key1", Z, "--key2", Z, "--pa", "0", "--data", out]) == 0
    assert capsys.readouterr().out.strip() == "00" * 64


@pytest.mark.parametrize("argv,needle", [
    (["encrypt-line", "--key1", "00", "--key2", Z, "--pa", "0", "--data", "00" * 64], "--key1"),
    (["encrypt-line", "--key1", Z, "--key2", "zz" * 16, "--pa", "0", "--data", "00" * 64], "--key2"),
    (["encrypt-line", "--key1", Z, "--key2", Z, "--pa", "0x20", "--data", "00" * 64], "aligned"),
    (["encrypt-line", "--key1", Z, "--key2", Z, "--pa", "xyz", "--data", "00" * 64], "--pa"),
    (["encrypt-line", "--key1", Z, "--key2", Z, "--pa", "0", "--data", "00" * 63], "--data"),
    (["demo", "no-such-demo"], "no-such-demo"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_one_line_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_demo_list(capsys):
    assert main(["demo", "--list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"sme-page", "cold-boot", "bit-flip", "replay", "xe-block-move", "keyid-alias"} <= set(names)


def test_module_entry_point_and_help():
    for argv in ([], ["encrypt-line"], ["decrypt-line"], ["demo"], ["bench"]):
        cmd = [sys.executable, "-m", "golden_model", *argv, "--help"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0 and "usage" in r.stdout
    cmd = [sys.executable, "-m", "golden_model", "demo", "nope"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
