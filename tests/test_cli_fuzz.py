"""Random argument vectors and random files thrown at both command lines.

Every run must end with status 0 or 2, never an exception (a traceback): status 2 always
comes with exactly one line on stderr. The generator is seeded (``FUZZ_SEED``), so a failure
prints the exact argument vector and replays. The simulation itself is replaced by a stub
(a vector file that happens to be valid would otherwise start a simulator); the benchmark
runs at a tiny size. Both stubs sit behind the input handling under test.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random

import pytest

import golden_model.bench
from golden_model import cli as gm_cli
from sim import kat

FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
RUNS = 250

_HEX = ["00" * 16, "0x" + "11" * 16, "zz", "", "0" * 31, "ff" * 64, "00" * 64, "0x40", "-1", "1" * 200]
_WORDS = ["--help", "-h", "--list", "--lines", "--dump", "--key1", "--key2", "--pa", "--data", "--sim",
          "--seed", "--make-vectors", "icarus", "verilator", "ghdl", "-1", "0", "1", "3", "99999999999999999",
          "1e9", "NaN", "\u00e9\u00e8", "\x00", "--", "-", "=", "demo", "bench", "encrypt-line",
          "decrypt-line"]


def _random_file(rng: random.Random, tmp_path, i: int) -> str:
    path = tmp_path / f"f{i}"
    kind = rng.randrange(7)
    good = kat.make_vectors(1, seed=i)[0].to_json()
    if kind == 0:
        path.write_bytes(rng.randbytes(rng.randrange(0, 300)))
    elif kind == 1:
        depth = rng.choice([10, 5000, 100_000])
        path.write_text("[" * depth + "]" * depth + "\n")
    elif kind == 2:  # a vector with one field damaged
        field = rng.choice(list(good))
        good[field] = rng.choice([None, 5, "zz", "", [1], {"a": 1}, "00" * rng.randrange(70),
                                  "0x" + "f" * 20])
        path.write_text(json.dumps(good) + "\n")
    elif kind == 3:  # valid text, then a stray byte
        path.write_bytes(json.dumps(good).encode() + b"\n" + bytes([rng.randrange(0x80, 0x100)]) + b"\n")
    elif kind == 4:
        path.write_text(json.dumps(good) + "\n")  # valid: reaches the (stubbed) simulation
    elif kind == 5:
        return str(tmp_path / "missing" / "x.jsonl")
    else:
        path.mkdir()  # a directory where a file is expected
    return str(path)


def _argv(rng: random.Random, tmp_path, i: int, demos: list[str]) -> list[str]:
    tokens = []
    for _ in range(rng.randrange(0, 7)):
        r = rng.random()
        if r < 0.35:
            tokens.append(rng.choice(_WORDS))
        elif r < 0.55:
            tokens.append(rng.choice(_HEX))
        elif r < 0.7:
            tokens.append(_random_file(rng, tmp_path, i * 10 + len(tokens)))
        elif r < 0.8:
            tokens.append(rng.choice(demos + ["no-such-demo"]))
        else:
            tokens.append(str(rng.randint(-(2**70), 2**70)))
    return tokens


def _run(main, argv) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's --help exits 0 by design
            code = exc.code
    return code, err.getvalue()


@pytest.fixture
def stubs(monkeypatch):
    real = golden_model.bench.run_bench
    monkeypatch.setattr(golden_model.bench, "run_bench",
                        lambda lines: real(lines=min(lines, 64), single_lines=8, repeats=1))
    monkeypatch.setattr(kat, "run_vectors",
                        lambda vectors, sim="icarus", seed=None: [{"line": v.line, "ok": True, "message": ""}
                                                                  for v in vectors])


# Demos are slow-ish and each is already tested; the fuzz runs the cheap ones for real.
_CHEAP_DEMOS = ["bit-flip", "replay", "xe-block-move", "sme-page"]


@pytest.mark.parametrize("name, main", [("golden_model", gm_cli.main), ("sim.kat", kat.main)])
def test_fuzz_cli_exit_codes(name, main, tmp_path, stubs, monkeypatch):
    monkeypatch.chdir(tmp_path)  # random OUT / --dump tokens are relative paths: keep them in tmp_path
    rng = random.Random(f"{FUZZ_SEED}-{name}")
    prefixes = ([["encrypt-line"], ["decrypt-line"], ["demo"], ["bench"], []] if name == "golden_model"
                else [[], ["--make-vectors"]])
    for i in range(RUNS):
        (tmp_path / f"{i}").mkdir()
        if name == "sim.kat" and rng.random() < 0.5:  # a well-formed command line around a random file
            tail = rng.choice([[], ["--sim", "icarus"], ["--seed", "4"]])
            argv = [_random_file(rng, tmp_path / f"{i}", i), *tail]
        else:
            argv = rng.choice(prefixes) + _argv(rng, tmp_path / f"{i}", i, _CHEAP_DEMOS)
        if "--make-vectors" in argv:  # keep generated files small and inside tmp_path
            argv = [a if not a.lstrip("-").isdigit() or abs(int(a)) < 50 else "3" for a in argv]
        try:
            code, err = _run(main, argv)
        except Exception as exc:  # noqa: BLE001 - any escape is the failure being hunted
            pytest.fail(f"{name} {argv!r} raised {type(exc).__name__}: {exc} (FUZZ_SEED={FUZZ_SEED})")
        assert code in (0, 2), f"{name} {argv!r} -> {code}: {err}"
        if code == 2:
            assert err.count("\n") == 1 and err.startswith("error: "), f"{name} {argv!r}: {err!r}"
