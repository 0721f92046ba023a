"""Command line: ``python -m golden_model {encrypt-line,decrypt-line,demo,bench}``.

Bad input (wrong key or data length, bad hex, misaligned PA, unknown demo, a batch larger than
memory, an unwritable dump path, stdout closed early) prints one line on stderr naming the
problem and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["main", "UsageError", "run_entry_point", "bench_bytes_needed"]

# The batch benchmark holds about this many copies of the batch at once (input, output, the
# tweak masks and numpy temporaries); --lines is refused when they would not fit in memory.
_BENCH_COPIES = 6


class UsageError(Exception):
    """Bad command-line input: reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise UsageError(message)


def _hex(name: str, text: str, length: int | None = None) -> bytes:
    digits = text[2:] if text.lower().startswith("0x") else text
    try:
        value = bytes.fromhex(digits)
    except ValueError:
        raise UsageError(f"{name}: not a hex string: {text!r}") from None
    if length is not None and len(value) != length:
        raise UsageError(f"{name}: need {length} bytes ({2 * length} hex digits), got {len(value)}")
    return value


def _pa(text: str) -> int:
    try:
        pa = int(text, 16)
    except ValueError:
        raise UsageError(f"--pa: not a hex address: {text!r}") from None
    if pa < 0 or pa % 64:
        raise UsageError(f"--pa: {text} is not a 64-byte-aligned address")
    if pa >> 64:
        raise UsageError(f"--pa: {text} is wider than 64 bits")
    return pa


def _line(args: argparse.Namespace, decrypt: bool) -> int:
    from .xts import xts_decrypt_line, xts_encrypt_line

    key1, key2 = _hex("--key1", args.key1, 16), _hex("--key2", args.key2, 16)
    pa, data = _pa(args.pa), _hex("--data", args.data, 64)
    fn = xts_decrypt_line if decrypt else xts_encrypt_line
    print(fn(key1, key2, pa, data).hex())
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demos import all_demos, get_demo

    if args.list or args.name is None:
        for d in all_demos():
            print(f"{d.name:16s} {d.help}")
        return 0
    d = get_demo(args.name)
    if d is None:
        raise UsageError(f"unknown demo {args.name!r} (see 'demo --list')")
    if args.dump is None:
        return 0 if d.run(sys.stdout) else 1
    if not d.dumps:
        takers = ", ".join(x.name for x in all_demos() if x.dumps)
        raise UsageError(f"demo {d.name!r} does not take --dump (these do: {takers})")
    dump_dir = Path(args.dump)
    try:
        dump_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--dump: cannot create directory {args.dump}: {e.strerror}") from None
    try:
        return 0 if d.run(sys.stdout, dump_dir=dump_dir) else 1
    except OSError as e:
        raise UsageError(f"--dump: cannot write into {args.dump}: {e.strerror}") from None


def bench_bytes_needed(lines: int) -> int:
    """Memory the batch benchmark needs for ``lines`` lines (bytes, an upper estimate)."""
    return _BENCH_COPIES * 64 * lines


def _available_memory() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not a POSIX system with these names
        return None


def _bench(args: argparse.Namespace) -> int:
    from .bench import format_bench, run_bench

    if args.lines < 1:
        raise UsageError("--lines must be positive")
    need, have = bench_bytes_needed(args.lines), _available_memory()
    if have is not None and need > have:
        raise UsageError(f"--lines {args.lines} needs about {need / 2**30:.1f} GiB; "
                         f"{have / 2**30:.1f} GiB of memory is available")
    try:
        print(format_bench(run_bench(lines=args.lines)))
    except MemoryError:
        raise UsageError(f"--lines {args.lines}: out of memory") from None
    return 0


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m golden_model",
                description="Golden model of the inline memory-encryption engine (SME/TSME/SEV, TME/TME-MK).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, decrypt in (("encrypt-line", False), ("decrypt-line", True)):
        verb = "decrypt" if decrypt else "encrypt"
        s = sub.add_parser(name, help=f"XTS-AES-128 {verb} one 64-byte line (tweak = PA)",
                           description=f"XTS-AES-128 {verb} one 64-byte line; prints 128 hex digits.")
        s.add_argument("--key1", required=True, help="data key K1, 32 hex digits (FIPS byte order)")
        s.add_argument("--key2", required=True, help="tweak key K2, 32 hex digits (K1 == K2 allowed)")
        s.add_argument("--pa", required=True, help="line address (tag bits removed), hex, 64-byte aligned")
        s.add_argument("--data", required=True, help="64-byte line, 128 hex digits")
        s.set_defaults(fn=lambda a, d=decrypt: _line(a, d))
    s = sub.add_parser("demo", help="run a demo (demo --list shows them)",
                       description="Run a demo; it prints a before/after, exit 0 if it shows its claim.")
    s.add_argument("name", nargs="?", help="demo name")
    s.add_argument("--list", action="store_true", help="list the demos")
    s.add_argument("--dump", metavar="DIR",
                   help="cold-boot, sev-guest-dump: write each scenario's raw DRAM image into DIR "
                        "(file offset = DRAM address), e.g. for strings(1)")
    s.set_defaults(fn=_demo)
    s = sub.add_parser("bench", help="single-line and batch XTS throughput next to raw AES-ECB",
                       description="Measure XTS line throughput against raw AES-ECB in the same process.")
    s.add_argument("--lines", type=int, default=65536, help="lines per batch (default 65536)")
    s.set_defaults(fn=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        return args.fn(args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def run_entry_point(entry: Callable[[], int]) -> int:
    """Run ``entry()`` for ``python -m ...`` and make a closed stdout one line on stderr, status 2.

    A reader that exits early (``... | head -1``, ``... | true``) closes the pipe; Python then
    raises BrokenPipeError from a print or from the final flush. stdout is pointed at
    /dev/null so the interpreter's own flush at exit cannot raise again.
    """
    try:
        status = entry()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print("error: output pipe closed before all output was written", file=sys.stderr)
        return 2
    return status
