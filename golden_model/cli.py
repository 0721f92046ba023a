"""Command line: ``python -m golden_model {encrypt-line,decrypt-line,demo,bench}``.

Bad input (wrong key or data length, bad hex, misaligned PA, unknown demo) prints one line on
stderr naming the problem and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main", "UsageError"]


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
    return 0 if d.run(sys.stdout) else 1


def _bench(args: argparse.Namespace) -> int:
    from .bench import format_bench, run_bench

    if args.lines < 1:
        raise UsageError("--lines must be positive")
    print(format_bench(run_bench(lines=args.lines)))
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
