"""The engine-versus-bypass table from two SoC simulations' ``MEE-BENCH`` console lines.

``python -m rtl.soc.bench ENGINE_DIR BYPASS_DIR`` (``make soc-bench``) prints the Markdown rows
that docs/results.md carries: sequential write and read bandwidth of the firmware's 64 KiB loop
(32-bit accesses, through L1 and the L2 cache, counted in CPU cycles) and the pointer-chase
latency (one dependent load per DRAM line), with the slowdown of the engine build.
"""

import argparse
import sys
from pathlib import Path

from .check import CheckError, parse_console

__all__ = ["read_bench", "table", "main"]


def read_bench(build_dir):
    """The fields of the last ``MEE-BENCH`` line of *build_dir*/console.log, as integers."""
    path = Path(build_dir) / "console.log"
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise CheckError(f"cannot read {path}: {exc}") from exc
    rows = [f for k, f, _ in parse_console(text) if k == "BENCH"]
    if not rows:
        raise CheckError(f"{path}: no MEE-BENCH line (did the firmware finish?)")
    return {k: int(v, 16) if k in ("sum", "end") else int(v) for k, v in rows[-1].items()}


def table(engine, bypass):
    """Markdown rows: metric | bypass | engine | engine vs bypass."""
    def bw(r, key):
        return r["bytes"] / r[key]  # bytes per CPU cycle

    rows = [
        ("sequential write, bytes/cycle", bw(bypass, "write_cycles"), bw(engine, "write_cycles"), True),
        ("sequential read, bytes/cycle", bw(bypass, "read_cycles"), bw(engine, "read_cycles"), True),
        ("pointer chase, cycles per dependent DRAM read",
         bypass["chase_cycles"] / bypass["chase_hops"], engine["chase_cycles"] / engine["chase_hops"], False),
    ]
    out = ["| metric (CPU cycles, VexRiscv in Verilator) | bypass | engine | engine vs bypass |",
           "|---|---:|---:|---:|"]
    for name, b, e, higher_better in rows:
        slow = (b / e - 1) if higher_better else (e / b - 1)
        out.append(f"| {name} | {b:.3f} | {e:.3f} | {slow * 100:+.1f} % slower |")
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rtl.soc.bench", description=__doc__.split("\n")[0])
    parser.add_argument("engine_dir", type=Path)
    parser.add_argument("bypass_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        print(table(read_bench(args.engine_dir), read_bench(args.bypass_dir)))
    except CheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
