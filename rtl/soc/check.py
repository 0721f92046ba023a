"""Check a SoC simulation: its console output and its DRAM dump against the golden model.

``python -m rtl.soc.check BUILD_DIR`` (run by ``make soc-sim`` after the simulation) reads
``console.log``, ``dram_bank*.hex`` and ``dram_geometry.json`` written by :mod:`rtl.soc.sim`:

- the BIOS booted with TME on and its memory test passed (``Memtest OK``);
- the firmware's key-program statuses are the expected ones, its own read-back checks passed
  (``MEE-CHECK``) and it ended with ``MEE-DEMO PASS``;
- in the DRAM image, every line the firmware wrote (``MEE-WROTE``) holds exactly the golden
  model's XTS-AES-128 ciphertext of that line under the KeyID's programmed keys (tweak = the
  DRAM address), or the plaintext for a NO_ENCRYPT KeyID;
- the secret is nowhere in the DRAM image (the ``strings`` test of the SEV memory-dump demo).

Exit status 0 when every check passes, 1 when one fails (each failure one line), 2 on bad input.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from golden_model.xts import LineCipher

__all__ = ["CheckError", "load_dram", "parse_console", "check", "main"]

SECRET = b"My secret is 123"
LINE = 64


class CheckError(Exception):
    """Bad or missing input files (not a failed check)."""


def _read_hex(path, depth, width_bytes):
    words = np.zeros(depth, dtype=np.uint64)
    addr = 0
    for raw in Path(path).read_text().split("\n"):
        line = raw.split("//")[0].strip()
        if not line:
            continue
        for tok in line.split():
            if tok.startswith("@"):
                addr = int(tok[1:], 16)
                continue
            words[addr] = int(tok, 16)
            addr += 1
    if addr > depth:
        raise CheckError(f"{path}: {addr} words, the bank has {depth}")
    return words


def load_dram(build_dir):
    """The SDRAM model's contents as one linear byte image (controller address order)."""
    build_dir = Path(build_dir)
    try:
        geom = json.loads((build_dir / "dram_geometry.json").read_text())
    except (OSError, ValueError) as exc:
        raise CheckError(f"cannot read {build_dir / 'dram_geometry.json'}: {exc}") from exc
    if geom["address_mapping"] != "ROW_BANK_COL" or geom["data_width"] % 8:
        raise CheckError(f"unsupported SDRAM geometry {geom}")
    nbanks, nrows, ncols = geom["nbanks"], geom["nrows"], geom["ncols"]
    wbytes = geom["data_width"] // 8
    banks = []
    for n in range(nbanks):
        path = build_dir / f"dram_bank{n}.hex"
        if not path.exists():
            raise CheckError(f"{path} missing: the simulation did not reach $finish")
        banks.append(_read_hex(path, nrows * ncols, wbytes).reshape(nrows, ncols))
    # ROW_BANK_COL: linear word = (row * nbanks + bank) * ncols + col (LiteDRAM's mapping,
    # the same one SDRAMPHYModel uses to load an init image).
    words = np.stack(banks, axis=1).reshape(-1)
    return words.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :wbytes].reshape(-1).tobytes()


def parse_console(text):
    """The ``MEE-`` records of the console as a list of (kind, {key: value})."""
    records = []
    for m in re.finditer(r"^MEE-([A-Z]+) ?(.*)$", text, re.M):
        fields = dict(re.findall(r"(\w+)=(\S+)", m.group(2)))
        records.append((m.group(1), fields, m.group(2)))
    return records


EXPECTED_KP = [  # (keyid, command, status) in the order the firmware issues them
    ("1", "SET_KEY_DIRECT", "0"), ("2", "SET_KEY_RANDOM", "0"), ("3", "NO_ENCRYPT", "0"),
    (None, "SET_KEY_DIRECT", "3"),  # a KeyID beyond the slots: INVALID_KEYID
    ("1", "CLEAR_KEY", "0"),
]


def check(build_dir, *, bypass=False):
    """Return the list of failed checks (empty = pass)."""
    build_dir = Path(build_dir)
    try:
        console = (build_dir / "console.log").read_text(errors="replace")
    except OSError as exc:
        raise CheckError(f"cannot read console.log: {exc}") from exc
    fails = []
    records = parse_console(console)
    if "Memtest OK" not in console:
        fails.append("BIOS memory test did not pass (no 'Memtest OK')")
    done = [f for k, f, _ in records if k == "DEMO" and "fails" in f]
    if not done:
        fails.append("firmware did not finish (no 'MEE-DEMO PASS/FAIL')")
    elif "MEE-DEMO PASS" not in console:
        fails.append(f"firmware reported failures: {done[-1]}")
    if bypass:
        return fails
    info = [f for k, f, _ in records if k == "INFO"]
    if not info or info[0].get("tme_at_boot") != "1":
        fails.append(f"TME was not activated at boot: {info[:1]}")
    kps = [f for k, f, _ in records if k == "KP"]
    got = [(f.get("keyid"), f.get("cmd"), f.get("status")) for f in kps]
    exp = [(g[0] if e[0] is None else e[0], e[1], e[2]) for e, g in zip(EXPECTED_KP, got, strict=False)]
    if got != exp or len(got) != len(EXPECTED_KP):
        fails.append(f"key-program statuses {got}, expected {EXPECTED_KP}")
    for k, f, _ in records:
        if k == "CHECK":
            bad = [name for name, v in f.items() if v != "1"]
            if bad:
                fails.append(f"firmware check failed: {', '.join(bad)}")
    keys = {f["keyid"]: (bytes.fromhex(f["key1"]), bytes.fromhex(f["key2"]))
            for k, f, _ in records if k == "KEY"}
    wrote = [f for k, f, _ in records if k == "WROTE"]
    if not wrote:
        fails.append("the firmware wrote no lines (no MEE-WROTE)")
    dram = load_dram(build_dir)
    noencrypt = {f.get("keyid") for f in kps if f.get("cmd") == "NO_ENCRYPT" and f.get("status") == "0"}
    for f in wrote:
        keyid, offset, data = f["keyid"], int(f["offset"], 16), bytes.fromhex(f["data"])
        stored = dram[offset:offset + LINE]
        if keyid in noencrypt:
            expected, what = data, "plaintext (NO_ENCRYPT)"
        elif keyid in keys:
            expected, what = LineCipher(*keys[keyid]).encrypt(offset, data), "golden XTS"
        else:
            fails.append(f"line at 0x{offset:x} written through KeyID {keyid} with no known key")
            continue
        if stored != expected:
            fails.append(f"DRAM line 0x{offset:08x} (KeyID {keyid}) is {stored.hex()}, "
                         f"{what} is {expected.hex()}")
    if SECRET in dram:
        fails.append(f"the secret {SECRET!r} is in the DRAM image at 0x{dram.index(SECRET):x}")
    return fails


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rtl.soc.check", description=__doc__.split("\n")[0])
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("--bypass", action="store_true", help="a bypass build: console checks only")
    args = parser.parse_args(argv)
    try:
        fails = check(args.build_dir, bypass=args.bypass)
    except CheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for f in fails:
        print(f"FAIL: {f}")
    if not fails:
        print(f"soc-check: PASS ({args.build_dir})")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
