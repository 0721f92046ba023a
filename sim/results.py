"""``docs/results.md``: one file of measured results, one generated section per producer.

Each producer (FPGA flow, benchmarks) owns a section delimited by HTML comments
``<!-- BEGIN name -->`` / ``<!-- END name -->`` and regenerates only that section, so hand-written
text around the sections survives and producers never overwrite each other.
"""

from pathlib import Path

from .runner import BUILD_ROOT, REPO_ROOT

__all__ = ["RESULTS_MD", "RESULTS_DIR", "update_section"]

RESULTS_MD = REPO_ROOT / "docs" / "results.md"
RESULTS_DIR = BUILD_ROOT / "results"


def update_section(name, markdown, path=RESULTS_MD):
    """Replace (or append) section *name* of *path* with *markdown*."""
    path = Path(path)
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = path.read_text() if path.exists() else "# Results\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
