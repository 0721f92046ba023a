"""rtl.soc.sim's bad-input paths: a missing tool or a bad argument is one line and an exit status."""

import shutil

import pytest

from rtl.soc import sim


def test_missing_riscv_gcc_names_the_debian_package(monkeypatch, capsys):
    real = shutil.which
    monkeypatch.setattr(sim.shutil, "which",
                        lambda name: None if name == "riscv64-unknown-elf-gcc" else real(name))
    assert sim.main(["--out", "/nonexistent/never-created"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: riscv64-unknown-elf-gcc not found: install it with "
                   "'apt-get install -y gcc-riscv64-unknown-elf'"]


@pytest.mark.parametrize("args, message", [
    (["--memtest-size", "100"], "--memtest-size must be a positive multiple of 64"),
    (["--bench-bytes", "0"], "--bench-bytes must be a positive multiple of 64"),
    (["--chase-hops", "48"], "--chase-hops must be a power of two"),
])
def test_bad_sizes_are_refused(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        sim.main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
