import os
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


def _one_line_exit_2(proc):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr


def test_closed_stdout_pipe_is_one_line_exit_2():
    # `python -m golden_model demo --list | true`: the reader is gone before the first write.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "golden_model", "demo", "--list"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    _one_line_exit_2(proc)
    assert "pipe closed" in proc.stderr


def test_shell_pipe_into_true_never_shows_a_traceback():
    proc = subprocess.run(f"{sys.executable} -m golden_model demo --list | true", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") <= 1


@pytest.mark.parametrize("lines, needle", [("1000000000000000", "GiB"), ("0", "positive"), ("-3", "positive"),
                                           ("many", "invalid int")])
def test_bench_lines_beyond_memory_or_invalid(capsys, lines, needle):
    assert main(["bench", "--lines", lines]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


def test_bench_memory_estimate_scales_with_lines():
    from golden_model.cli import bench_bytes_needed

    assert bench_bytes_needed(2) == 2 * bench_bytes_needed(1) > 64


def test_demo_list_has_the_new_demos(capsys):
    assert main(["demo", "--list"]) == 0
    names = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert {"sev-migrate", "sev-es-vmsa", "sev-guest-dump", "asid-reuse"} <= names


def test_dump_writes_raw_images_strings_can_search(tmp_path, capsys):
    from golden_model.demos.cold_boot import SECRET, strings

    assert main(["demo", "cold-boot", "--dump", str(tmp_path / "cb")]) == 0
    images = {p.name: p.read_bytes() for p in (tmp_path / "cb").iterdir()}
    assert set(images) == {"sme-tsme.img", "tme.img", "tme-bypass.img", "keyid3-no-encrypt.img"}
    found = {name for name, raw in images.items() if any(SECRET in s for s in strings(raw))}
    assert found == {"tme-bypass.img", "keyid3-no-encrypt.img"}
    assert main(["demo", "sev-guest-dump", "--dump", str(tmp_path / "sev")]) == 0
    sev, plain = ((tmp_path / "sev" / n).read_bytes() for n in ("sev.img", "no-sev.img"))
    assert b"TOP-SECRET" in plain and b"TOP-SECRET" not in sev
    assert b"virtio: hello hypervisor" in sev  # the shared buffer is plaintext on purpose
    assert str(tmp_path / "sev" / "sev.img") in capsys.readouterr().out


def test_dump_misuse(tmp_path, capsys):
    assert main(["demo", "replay", "--dump", str(tmp_path)]) == 2
    assert "does not take --dump" in capsys.readouterr().err
    afile = tmp_path / "file"
    afile.write_text("x")
    assert main(["demo", "cold-boot", "--dump", str(afile)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot create directory" in err
