"""`make help` prints the verbs and the knobs (not a Makefile line)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_help_lists_every_verb_and_knob():
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    phony = re.search(r"^\.PHONY:(.*?)(?<!\\)$", (ROOT / "Makefile").read_text(), re.M | re.S).group(1)
    verbs = set(phony.replace("\\", " ").split()) - {"all", "help", "icarus", "fst-deps", "check-sim"}
    for verb in verbs:
        assert f"make {verb} " in out, verb
    for knob in ("SIM=", "SEED=", "TESTS=", "WAVES=", "JOBS=", "RESEED="):
        assert knob in out, knob
    assert "SHELL" not in out and not any(line.startswith("#") for line in out.splitlines())
