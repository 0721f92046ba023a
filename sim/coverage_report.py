"""The coverage closure report: ``build/coverage/index.html`` and the closure curve PNG.

:func:`write_report` writes, into one directory:

- ``index.html``: the verdict against the thresholds; functional coverage per covergroup with
  every empty bin by name and every exclusion with its reason; code coverage per design and
  per Amaranth source file (line, branch, toggle), with the exclusions; the testplan annotated
  with pass/fail per testpoint; every run with its replay command;
- ``src/<file>.html``: each Amaranth source file with per-line coverage and the missed points;
- ``closure.png``: functional coverage against runs (matplotlib);
- ``lcov.info`` over the Amaranth files and, when ``genhtml`` (Debian's lcov) is installed,
  its HTML in ``lcov/``.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

from verif import coverage as fcov
from verif import testplan

from . import codecov

__all__ = ["plot_curve", "write_report"]

_CSS = """body{font-family:sans-serif;margin:1.5em;max-width:75em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;
text-align:left}th{background:#eee}.ok{background:#cfc}.bad{background:#fcc}.part{background:#ffc}
pre{margin:0}.src td{border:none;padding:0 6px;font-family:monospace;white-space:pre}
.miss{color:#a00;font-size:80%}.ex{color:#777}"""


def plot_curve(curve, path, threshold=None):
    """Functional coverage (%) against runs, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if curve:
        ax.plot([c[0] for c in curve], [c[1] for c in curve], marker=".")
    if threshold is not None:
        ax.axhline(threshold, color="grey", linestyle="--", label=f"threshold {threshold:g} %")
        ax.legend(loc="lower right")
    ax.set_xlabel("runs")
    ax.set_ylabel("functional coverage (%)")
    ax.set_ylim(0, 101)
    ax.grid(True, alpha=0.3)
    ax.set_title("Coverage closure")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def _e(text):
    return html.escape(str(text))


def _cls(pct, minimum=None):
    if minimum is not None:
        return "ok" if pct >= minimum else "bad"
    return "ok" if pct >= 100 else ("part" if pct > 0 else "bad")


def _functional(data, excl):
    out = ["<h2 id='functional'>Functional coverage (sampled from the DUT's ports)</h2>"]
    if not data:
        return out + ["<p>No run exported functional coverage.</p>"]
    hit, size, pct = fcov.total(data, excl)
    out.append(f"<p>{hit}/{size} bins hit ({pct:.1f} %).</p>")
    out.append("<table><tr><th>covergroup</th><th>bins hit</th><th>%</th>"
               "<th>empty bins</th></tr>")
    for name, g in fcov.groups(data, excl).items():
        empty = "<br>".join(_e(h) for h in g["empty"]) or "none"
        out.append(f"<tr class='{_cls(g['percent'])}'><td>{_e(name)}</td>"
                   f"<td>{g['hit']}/{g['total']}</td><td>{g['percent']:.1f}</td>"
                   f"<td>{empty}</td></tr>")
    out.append("</table>")
    excluded = [e for g in fcov.groups(data, excl).values() for e in g["excluded"]]
    if excluded:
        out.append("<h3>Excluded bins</h3><table><tr><th>bin</th><th>reason</th></tr>")
        out += [f"<tr><td>{_e(b)}</td><td>{_e(r)}</td></tr>" for b, r in excluded]
        out.append("</table>")
    return out


def _file_rows(pts, excl):
    """Per Amaranth file: ``{kind: [hit, total]}``."""
    rows = {}
    for file, lines in codecov.by_source(pts, excl).items():
        counts = {k: [0, 0] for k in codecov.KINDS}
        for items in lines.values():
            for p, ex in items:
                if ex or p.kind not in counts:
                    continue
                counts[p.kind][1] += 1
                counts[p.kind][0] += p.count > 0
        rows[file] = counts
    return rows


def _source_page(file, lines, root, path):
    src = root / file
    text = src.read_text().splitlines() if src.is_file() else []
    out = [f"<!doctype html><meta charset='utf-8'><title>{_e(file)}</title>"
           f"<style>{_CSS}</style><h1>{_e(file)}</h1><p><a href='../index.html'>report</a>. "
           "Per line: hit/total points (L line, B branch, T toggle); missed points below.</p>"
           "<table class='src'>"]
    for n, code in enumerate(text, 1):
        items = lines.get(n, [])
        kept = [p for p, ex in items if not ex and p.kind in codecov.KINDS]
        summary, cls, missed = "", "", []
        if kept:
            parts = []
            for kind in codecov.KINDS:
                ks = [p for p in kept if p.kind == kind]
                if ks:
                    parts.append(f"{kind[0].upper()} {sum(p.count > 0 for p in ks)}/{len(ks)}")
            summary = " ".join(parts)
            nhit = sum(p.count > 0 for p in kept)
            cls = "ok" if nhit == len(kept) else ("part" if nhit else "bad")
            missed = [p for p in kept if not p.count]
        out.append(f"<tr class='{cls}'><td>{n}</td><td>{_e(summary)}</td><td>{_e(code)}</td></tr>")
        if missed:
            shown = ", ".join(_e(p.describe()) for p in missed[:12])
            more = f" and {len(missed) - 12} more" if len(missed) > 12 else ""
            out.append(f"<tr><td></td><td></td><td class='miss'>missed: {shown}{more}</td></tr>")
    out.append("</table>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out))


def _code(code, out_dir, root, code_excl):
    out = ["<h2 id='code'>Code coverage (Verilator, mapped onto the Amaranth source)</h2>"]
    if not code:
        return out + ["<p>No run wrote coverage.dat (code coverage needs Verilator).</p>"]
    for build, (pts, summary) in code.items():
        out.append(f"<h3>{_e(build)}</h3><table><tr><th>kind</th><th>hit</th><th>%</th>"
                   "<th>excluded</th></tr>")
        for kind in (*codecov.KINDS,):
            s = summary[kind]
            out.append(f"<tr class='{_cls(s['percent'], 90)}'><td>{kind}</td>"
                       f"<td>{s['hit']}/{s['total']}</td><td>{s['percent']:.1f}</td>"
                       f"<td>{s['excluded']}</td></tr>")
        out.append("</table>")
        if summary["excluded_by_reason"]:
            out.append("<p>Exclusions (verif/coverage_exclusions.yaml):</p><table>"
                       "<tr><th>points</th><th>reason</th></tr>")
            out += [f"<tr><td>{n}</td><td>{_e(r)}</td></tr>"
                    for r, n in summary["excluded_by_reason"].items()]
            out.append("</table>")
        unmapped = sum(1 for p in pts if p.src is None)
        out.append(f"<p>Per Amaranth source file ({unmapped} of {len(pts)} points have no "
                   "source line: Yosys-generated nets).</p><table><tr><th>file</th>"
                   + "".join(f"<th>{k}</th>" for k in codecov.KINDS) + "</tr>")
        by_src = codecov.by_source(pts, code_excl)
        for file, counts in sorted(_file_rows(pts, code_excl).items()):
            page = Path("src") / (file.replace("/", "__") + ".html")
            if (root / file).is_file():
                _source_page(file, by_src[file], root, out_dir / page)
                name = f"<a href='{_e(page)}'>{_e(file)}</a>"
            else:
                name = _e(file)
            cells = "".join(
                f"<td class='{_cls(100.0 * h / t if t else 100, 90)}'>{h}/{t}</td>"
                for h, t in counts.values())
            out.append(f"<tr><td>{name}</td>{cells}</tr>")
        out.append("</table>")
    return out


def _plan(rows, plan, fgroups):
    out = ["<h2 id='testplan'>Testplan</h2><table><tr><th>testpoint</th><th>status</th>"
           "<th>runs passed</th><th>covergroups</th><th>not run</th></tr>"]
    plan_groups = {tp["name"]: tp.get("covergroups") or [] for tp in plan["testpoints"]}
    for name, status, ok, n, missing, _ in rows:
        cls = {"PASS": "ok", "FAIL": "bad"}.get(status, "part")
        groups = ", ".join(f"{g} {fgroups[g]['percent']:.0f}%" for g in plan_groups[name]
                           if g in fgroups)
        out.append(f"<tr class='{cls}'><td>{_e(name)}</td><td>{status}</td><td>{ok}/{n}</td>"
                   f"<td>{_e(groups)}</td><td>{_e(', '.join(missing))}</td></tr>")
    out.append("</table>")
    return out


def write_report(out_dir, closure, code, verdicts, *, plan, junit, replay, exclusions,
                 root, functional_min=None):
    """Write the report (see the module docstring); returns the path of ``index.html``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    f_excl = fcov.load_exclusions(exclusions)
    c_excl = codecov.load_exclusions(exclusions)
    png = plot_curve(closure.curve, out_dir / "closure.png", functional_min)
    failed = [r for r in closure.results if not r["passed"]]
    body = [f"<!doctype html><meta charset='utf-8'><title>memcrypt coverage</title>"
            f"<style>{_CSS}</style><h1>Coverage closure report</h1>",
            f"<p>{len(closure.results)} runs, {len(failed)} failed; stopped: "
            f"{_e(closure.stop_reason)}.</p>",
            "<table><tr><th>metric</th><th>measured %</th><th>minimum %</th><th></th></tr>"]
    for what, pct, minimum, ok in verdicts:
        body.append(f"<tr class='{'ok' if ok else 'bad'}'><td>{_e(what)}</td><td>{pct:.1f}</td>"
                    f"<td>{minimum:g}</td><td>{'ok' if ok else 'BELOW'}</td></tr>")
    body.append(f"</table><p><img src='{png.name}' alt='closure curve'></p>")
    body += _functional(closure.functional, f_excl)
    body += _code(code, out_dir, root, c_excl)
    for build, (pts, _) in code.items():
        info = codecov.write_lcov(pts, out_dir / f"{build}.lcov.info", root, c_excl)
        if shutil.which("genhtml"):
            target = out_dir / "lcov" / build
            proc = subprocess.run(["genhtml", "-q", "--branch-coverage", "-o", str(target),
                                   str(info)], capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                body.append(f"<p>lcov/genhtml view of {_e(build)}: "
                            f"<a href='lcov/{_e(build)}/index.html'>lcov/{_e(build)}</a></p>")
            else:
                body.append(f"<p>genhtml failed: {_e(proc.stderr.strip()[-300:])}</p>")
    rows = testplan.join(plan, testplan.load_results([junit]))
    body += _plan(rows, plan, fcov.groups(closure.functional, f_excl) if closure.functional else {})
    body.append("<h2 id='runs'>Runs</h2><table><tr><th>test</th><th>seed</th><th>result</th>"
                "<th>wall s</th><th>log</th><th>replay</th></tr>")
    for r in closure.results:
        body.append(f"<tr class='{'ok' if r['passed'] else 'bad'}'><td>{_e(r['name'])}</td>"
                    f"<td>{r['seed']}</td><td>{'PASS' if r['passed'] else 'FAIL'}"
                    f"{' ' + _e(r['error']) if r['error'] else ''}</td>"
                    f"<td>{r['wall_s']:.1f}</td><td>{_e(r['log'])}</td>"
                    f"<td>{_e(replay(r))}</td></tr>")
    body.append("</table>")
    index = out_dir / "index.html"
    index.write_text("\n".join(body))
    return index
