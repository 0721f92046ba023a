"""The SoC in LiteX's Verilator simulator: boot, memory test through the engine, demo, dump check.

This is the shortest honest variant of ``make soc-sim`` that CI runs inside ``make test``: the
same SoC, BIOS, firmware and checks, with the BIOS memory test shortened to 8 KiB (LiteX's
default is 2 MiB) and the firmware's measurement loops to 1 KiB / 16 hops. ``make soc-sim``
runs the full memory test. The build is cached under ``build/soc-sim-ci`` (the C++ model is
only recompiled when its Verilog changes).
"""

from pathlib import Path

import pytest

from rtl.soc import check, sim

pytestmark = pytest.mark.sim

BUILD = Path(__file__).resolve().parents[3] / "build" / "soc-sim-ci"


def test_soc_boots_through_the_engine_and_the_dump_matches_the_golden_model():
    sim.check_tools()  # a missing tool fails here with one line naming the package
    times = sim.build_and_run(BUILD, memtest_size=8192, bench_bytes=1024, chase_hops=16,
                              timeout=3000)
    fails = check.check(BUILD)
    assert fails == [], "\n".join(fails) + f"\n(console: {BUILD / 'console.log'}, times {times})"
    console = (BUILD / "console.log").read_text(errors="replace")
    assert "Memtest at 0x40000000 (8.0KiB)" in console
    assert "MEE-BENCH bytes=1024" in console
