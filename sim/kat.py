"""Known-answer tests of XTS-AES-128 through the engine RTL, from a JSON-lines file.

Usage::

    python -m sim.kat FILE.jsonl [--sim icarus|verilator] [--seed S]
    python -m sim.kat --make-vectors N OUT.jsonl [--seed S]

Each line of ``FILE.jsonl`` is one JSON object with hex strings ``key1``, ``key2`` (16 bytes
each: data key, tweak key), ``pa`` (the line's DRAM address, which is the XTS tweak;
64-byte aligned), ``plaintext`` and ``ciphertext`` (64 bytes each, byte 0 first). Blank lines
are ignored. The whole file is validated before any simulation; a malformed line is reported
with its line number and the exit status is 2.

For every vector the engine (Intel mode, TME enabled with ``KEYID_BITS`` = the largest that
leaves room for every vector's PA, at most KEYID_BITS_MAX) gets a KeyID (1, 2, ... in turn)
programmed with SET_KEY_DIRECT(key1, key2); the plaintext is written at
``(keyid << (PA_WIDTH - KEYID_BITS)) | pa``; the line that reaches DRAM must be the ciphertext
at address ``pa``; reading the line back must give the plaintext. Each failure is printed with
its line number, then ``N passed, M failed``; the exit status is 1 if any vector failed.

``--make-vectors`` writes N vectors with random keys (K1 != K2), random aligned addresses and
random plaintexts, encrypted with OpenSSL's XTS through ``cryptography`` (independent of the
golden model).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from golden_model.cli import run_entry_point
from sim.extras import require_extra

__all__ = ["Vector", "KatFormatError", "load_vectors", "make_vectors", "openssl_xts_encrypt",
           "choose_keyid_bits", "run_vectors", "main", "ENGINE_DESIGN", "PA_WIDTH",
           "KEYID_BITS_MAX", "MAX_MAKE_VECTORS"]

ENGINE_DESIGN = "rtl.engine.top:MEEngineTop"
PA_WIDTH = 48
KEYID_BITS_MAX = 6
# --make-vectors builds the whole file in memory; a million vectors is about 400 MB of JSON.
MAX_MAKE_VECTORS = 1_000_000
_FIELDS = {"key1": 16, "key2": 16, "plaintext": 64, "ciphertext": 64}


class KatFormatError(ValueError):
    """A vector file is malformed; the message names the line."""


@dataclass(frozen=True)
class Vector:
    """One known-answer vector and the line of the file it came from."""

    line: int
    key1: bytes
    key2: bytes
    pa: int
    plaintext: bytes
    ciphertext: bytes

    def to_json(self) -> dict:
        """The vector as a JSON-lines object (hex strings)."""
        return {"key1": self.key1.hex(), "key2": self.key2.hex(), "pa": f"{self.pa:#x}",
                "plaintext": self.plaintext.hex(), "ciphertext": self.ciphertext.hex()}


def _hex_bytes(lineno: int, name: str, value, size: int) -> bytes:
    if not isinstance(value, str):
        raise KatFormatError(f"line {lineno}: {name} must be a hex string, not {value!r}")
    text = value[2:] if value.lower().startswith("0x") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise KatFormatError(f"line {lineno}: {name} is not valid hex: {value!r}") from None
    if len(raw) != size:
        raise KatFormatError(f"line {lineno}: {name} must be {size} bytes, not {len(raw)}")
    return raw


def _read_lines(path: str | Path) -> list[str]:
    """The file's lines as text; a byte that is not UTF-8 is a format error naming its line."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise KatFormatError(f"cannot read {path}: {exc.strerror}") from None
    lines = []
    for lineno, chunk in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append(chunk.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise KatFormatError(f"line {lineno}: not UTF-8 text (byte {chunk[exc.start]:#04x} "
                                 f"at column {exc.start + 1})") from None
    return lines


def load_vectors(path: str | Path, pa_width: int = PA_WIDTH) -> list[Vector]:
    """Parse and validate every line of *path*; raise :class:`KatFormatError` on the first bad one."""
    vectors = []
    text_lines = _read_lines(path)
    for lineno, line in enumerate(text_lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KatFormatError(f"line {lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:  # the decoder recurses once per nesting level
            raise KatFormatError(f"line {lineno}: JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise KatFormatError(f"line {lineno}: expected a JSON object")
        missing = [k for k in (*_FIELDS, "pa") if k not in obj]
        if missing:
            raise KatFormatError(f"line {lineno}: missing field(s) {', '.join(missing)}")
        unknown = sorted(set(obj) - {*_FIELDS, "pa"})
        if unknown:
            raise KatFormatError(f"line {lineno}: unknown field(s) {', '.join(unknown)}")
        fields = {k: _hex_bytes(lineno, k, obj[k], n) for k, n in _FIELDS.items()}
        pa_text = obj["pa"]
        if not isinstance(pa_text, str):
            raise KatFormatError(f"line {lineno}: pa must be a hex string, not {pa_text!r}")
        try:
            pa = int(pa_text, 16)
        except ValueError:
            raise KatFormatError(f"line {lineno}: pa is not valid hex: {pa_text!r}") from None
        if pa < 0 or pa & 0x3F:
            raise KatFormatError(f"line {lineno}: pa {pa_text} is not 64-byte aligned")
        if pa >> (pa_width - 1):
            raise KatFormatError(f"line {lineno}: pa {pa_text} does not fit in PA width "
                                 f"{pa_width} with at least one KeyID bit")
        vectors.append(Vector(lineno, pa=pa, **fields))
    if not vectors:
        raise KatFormatError(f"{path}: no vectors")
    return vectors


def choose_keyid_bits(vectors: list[Vector], pa_width: int = PA_WIDTH,
                      keyid_bits_max: int = KEYID_BITS_MAX) -> int:
    """The largest KEYID_BITS (≤ *keyid_bits_max*) that leaves every vector's PA intact."""
    top = max(v.pa for v in vectors).bit_length()
    return max(1, min(keyid_bits_max, pa_width - top))


def openssl_xts_encrypt(key1: bytes, key2: bytes, tweak: int, plaintext: bytes) -> bytes:
    """XTS-AES-128 with OpenSSL through ``cryptography`` (refuses K1 == K2)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = Cipher(algorithms.AES(key1 + key2), modes.XTS(tweak.to_bytes(16, "little"))).encryptor()
    return enc.update(plaintext) + enc.finalize()


def make_vectors(n: int, seed: int = 0, pa_bits: int = PA_WIDTH - KEYID_BITS_MAX) -> list[Vector]:
    """*n* random vectors (keys differ, PAs below ``2**pa_bits``) encrypted by OpenSSL."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        key1 = rng.randbytes(16)
        key2 = rng.randbytes(16)
        while key2 == key1:
            key2 = rng.randbytes(16)
        pa = rng.getrandbits(pa_bits) & ~0x3F
        pt = rng.randbytes(64)
        out.append(Vector(i + 1, key1, key2, pa, pt, openssl_xts_encrypt(key1, key2, pa, pt)))
    return out


def run_vectors(vectors: list[Vector], sim: str = "icarus", seed: int | None = None) -> list[dict]:
    """Simulate *vectors* through the engine; one result dict per vector (``line``, ``ok``, ``message``)."""
    from sim.runner import run

    with tempfile.TemporaryDirectory(prefix="kat-") as tmp:
        vec_path = Path(tmp) / "vectors.json"
        res_path = Path(tmp) / "results.json"
        vec_path.write_text(json.dumps({
            "keyid_bits": choose_keyid_bits(vectors),
            "vectors": [{"line": v.line, **v.to_json()} for v in vectors]}))
        result = run(ENGINE_DESIGN, "sim.cocotb_kat", sim=sim, name="mee_engine", seed=seed,
                     extra_env={"KAT_VECTORS": vec_path, "KAT_RESULTS": res_path}, check=False)
        if not res_path.exists():
            raise RuntimeError(f"the KAT simulation ended without results; log: "
                               f"{result.test_dir / 'sim.log'}")
        return json.loads(res_path.read_text())


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr, no usage block
        raise KatFormatError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sim.kat", description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", help="vector file (JSON lines)")
    parser.add_argument("--sim", choices=("icarus", "verilator"),
                        default=os.environ.get("SIM", "icarus"))
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--make-vectors", nargs=2, metavar=("N", "OUT"),
                        help=f"write N (1 to {MAX_MAKE_VECTORS}) random vectors to OUT instead of running")
    return parser


def _make_vectors(n_text: str, out: str, seed: int) -> int:
    try:
        n = int(n_text)
    except ValueError:
        raise KatFormatError(f"--make-vectors: N must be an integer, not {n_text!r}") from None
    if not 1 <= n <= MAX_MAKE_VECTORS:
        raise KatFormatError(f"--make-vectors: N must be between 1 and {MAX_MAKE_VECTORS}, not {n}")
    vectors = make_vectors(n, seed=seed)
    try:
        Path(out).write_text("".join(json.dumps(v.to_json()) + "\n" for v in vectors))
    except OSError as exc:
        raise KatFormatError(f"--make-vectors: cannot write {out}: {exc.strerror}") from None
    print(f"wrote {n} vectors to {out}")
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        vectors = load_vectors(args.file)
    except KatFormatError as exc:
        raise KatFormatError(f"{args.file}: {exc}") from None
    require_extra("sim", "python -m sim.kat")
    from sim.runner import ToolMissing

    try:
        results = run_vectors(vectors, sim=args.sim, seed=args.seed)
    except (RuntimeError, ToolMissing) as exc:
        raise KatFormatError(str(exc).splitlines()[0]) from None
    failed = [r for r in results if not r["ok"]]
    for r in failed:
        print(f"{args.file}:{r['line']}: FAIL: {r['message']}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or len(results) != len(vectors) else 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 pass, 1 failures, 2 bad input).

    Every problem with the input (arguments, the vector file, a missing extra or simulator)
    is one line on stderr and status 2.
    """
    try:
        args = _parser().parse_args(argv)
        if args.make_vectors:
            return _make_vectors(*args.make_vectors, seed=args.seed or 0)
        if not args.file:
            raise KatFormatError("a vector FILE (or --make-vectors N OUT) is required")
        return _run(args)
    except KatFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
