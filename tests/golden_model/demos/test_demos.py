import io

import pytest

from golden_model.demos import all_demos, get_demo
from golden_model.demos.bit_flip import garbled_blocks

MINE = ["sme-page", "cold-boot", "bit-flip", "replay", "xe-block-move", "keyid-alias"]


@pytest.mark.parametrize("name", MINE)
def test_demo_shows_its_claim(name):
    out = io.StringIO()
    assert get_demo(name).run(out) is True
    text = out.getvalue()
    assert "before" in text and "after" in text


def test_every_registered_demo_runs():
    for d in all_demos():
        assert d.run(io.StringIO()) is True, d.name


def test_garbled_blocks_helper():
    assert garbled_blocks(bytes(64), bytes(16) + b"x" + bytes(47)) == [1]
