"""Batched functional-coverage sampling (verif/uvm/coverage.py) gives the bins and hit counts
of sampling every call, crosses included, without a simulator."""

import random

from verif.uvm import coverage


def _delta(before, after):
    return {item: {b: after[item][b] - before[item][b] for b in bins if after[item][b] !=
                   before[item][b]} for item, bins in after.items()}


def _samples(n=400, seed=5):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rng.randrange(4)
        if kind == 0:
            out.append(("mee.kp", {"command": rng.randrange(6), "status": rng.randrange(6)}))
        elif kind == 1:
            out.append(("mee.keyid", {"write": rng.random() < 0.5, "mode": "INTEL",
                                      "keyid_class": rng.choice(["keyid0", "max", None])}))
        elif kind == 2:
            out.append(("mee.hazard", {"hazard": rng.choice(["RAW", "WAR", "WAW"]),
                                       "distance": rng.randrange(5)}))
        else:
            out.append(("mee.bp", {"port": rng.choice(coverage.PORTS)}))
    return out


def test_batched_sampling_equals_sampling_every_call():
    samples = _samples()
    base = coverage.bins()
    for group, values in samples:
        coverage.sample_now(group, **values)
    direct = coverage.bins()
    for group, values in samples:
        coverage.sample(group, **values)
    assert coverage.bins() != direct, "flush() must have added the batched samples"
    batched = coverage.bins()
    want = _delta(base, direct)
    assert any(want.values()) and any(len(v) > 1 for v in want.values())
    assert _delta(direct, batched) == want
    summary = coverage.summary()
    assert summary["mee.hazard"][0] > 0


def test_sample_is_pending_until_flushed():
    before = coverage.bins()["mee.bp.port"]["kp_req"]
    coverage.sample("mee.bp", port="kp_req")
    coverage.sample("mee.bp", port="kp_req")
    assert coverage._PENDING, "sample() should only count"
    assert coverage.bins()["mee.bp.port"]["kp_req"] == before + 2
    assert not coverage._PENDING
