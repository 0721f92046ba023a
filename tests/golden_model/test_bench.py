from golden_model.bench import format_bench, run_bench


def test_bench_runs_and_batch_beats_single_line():
    r = run_bench(lines=2048, single_lines=500, repeats=2)
    assert r.batch > r.single > 0 and r.raw_ecb > 0
    assert "batch / raw" in format_bench(r)
