"""The fast formal jobs (``python -m sim.formal --fast``) and every seeded bug of them.

Each job must pass on the real design (every assertion holds to its depth, every cover is
reached); each seeded bug must make exactly its declared property fail, with a counterexample
trace on disk, so no property passes vacuously and no failure is for another reason.
"""

from pathlib import Path

import pytest

from sim.formal import check_cells, main, run_job
from verif.formal.jobs import FORMAL_JOBS

FAST = [job for job in FORMAL_JOBS if job.fast]
BUGS = [(job, bug, prop) for job in FAST for bug, prop in job.mutations.items()]


@pytest.mark.parametrize("job", FAST, ids=lambda job: job.name)
def test_job_passes_with_every_cover_reached(job, tmp_path):
    result = run_job(job, out_root=tmp_path)
    assert result.status == "pass", (result.failed, result.unreached, result.message)


@pytest.mark.parametrize("job,bug,prop", BUGS, ids=lambda v: getattr(v, "name", v))
def test_seeded_bug_fails_its_property(job, bug, prop, tmp_path):
    result = run_job(job, mutation=bug, out_root=tmp_path)
    assert result.status == "fail", result.message
    assert [cell.name for cell, _ in result.failed] == [prop]
    cell, trace = result.failed[0]
    assert cell.kind == "assert" and cell.src.split(":")[0].endswith(".py")
    assert trace and Path(trace).exists()


def test_every_job_has_a_seeded_bug_for_each_of_its_assertions():
    """A property without a seeded bug is a property nobody has seen fail."""
    from amaranth.back import rtlil

    for job in FAST:
        harness = job.build()
        cells = check_cells(rtlil.convert(harness, name="top", ports=harness.ports()))
        asserted = {c.name for c in cells.values() if c.kind == "assert"}
        caught = set(job.mutations.values())
        assert asserted <= caught, f"{job.name}: no seeded bug for {sorted(asserted - caught)}"


def test_cli_rejects_unknown_job_and_bug(capsys):
    assert main(["no_such_job"]) == 2
    assert "unknown formal job" in capsys.readouterr().err
    assert main(["--mutation", "no_such_bug", FAST[0].name]) == 2
    assert "no seeded bug" in capsys.readouterr().err
