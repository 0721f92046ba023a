from golden_model.entropy import EntropySource


def test_deterministic_and_failures_consume_nothing():
    a, b = EntropySource(seed=4), EntropySource(seed=4)
    first = a.draw()
    assert first == b.draw() and 0 < first < 1 << 256
    assert EntropySource(seed=5).draw() != first
    a.fail_next(2)
    expected = a.peek()
    assert a.draw() is None and a.draw() is None
    assert a.draw() == expected == b.draw()
    a.available = False
    assert a.draw() is None
    assert a.words_drawn == 2
