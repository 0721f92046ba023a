import io
import re

import pytest

from golden_model.demos import all_demos, get_demo
from golden_model.demos._dump import hexdump, side_by_side
from golden_model.demos.bit_flip import garbled_blocks

MINE = ["sme-page", "cold-boot", "bit-flip", "replay", "xe-block-move", "keyid-alias"]
# A dump row: address, 8 or 16 hex bytes.
ROW = re.compile(r"^\s+[0-9a-f]{10,}: ([0-9a-f]{2} ){7}[0-9a-f]{2}", re.M)


@pytest.mark.parametrize("name", MINE)
def test_demo_shows_its_claim(name):
    out = io.StringIO()
    assert get_demo(name).run(out) is True
    text = out.getvalue()
    assert "before" in text and "after" in text


def test_every_registered_demo_runs_and_shows_bytes():
    for d in all_demos():
        out = io.StringIO()
        assert d.run(out) is True, d.name
        assert ROW.search(out.getvalue()), f"{d.name} shows no hex dump row"


@pytest.mark.parametrize("name", ["sme-page", "cold-boot", "sev-guest-dump", "replay", "sev-migrate",
                                  "sev-es-vmsa"])
def test_dump_demos_show_the_bytes(name):
    out = io.StringIO()
    assert get_demo(name).run(out) is True
    assert len(ROW.findall(out.getvalue())) >= 3, out.getvalue()


def test_sme_page_shows_plaintext_and_ciphertext_side_by_side():
    out = io.StringIO()
    get_demo("sme-page").run(out)
    text = out.getvalue()
    assert "read with C=0 = DRAM" in text and "SME prot" in text and "written " in text
    assert "written with C=0" not in text.split("read through C=1")[0]  # part 2 follows part 1


def test_replay_names_the_recorded_and_the_read_value():
    out = io.StringIO()
    get_demo("replay").run(out)
    text = out.getvalue()
    assert "recorded value b'balance=0000100 EUR'; the program now reads b'balance=0000100 EUR'" in text


def test_hexdump_helpers():
    assert hexdump(b"AB\x00", 0x10) == "  0000000010: 41 42 00" + " " * 39 + "  AB."
    table = side_by_side([("x", b"\x01" * 8), ("y", b"abcdefgh")])
    assert table.splitlines()[1].endswith("61 62 63 64 65 66 67 68  abcdefgh")


def test_garbled_blocks_helper():
    assert garbled_blocks(bytes(64), bytes(16) + b"x" + bytes(47)) == [1]
