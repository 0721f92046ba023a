import pytest

from golden_model.dram import Dram


def test_sparse_zero_default_and_dump_roundtrip(tmp_path):
    d = Dram()
    assert d.read(0x40) == bytes(64) and d.reads == 1
    d.write(0x80, bytes(range(64)))
    d.poke(0x1000, b"\xff" * 64)
    d.flip_bit(0x80, 9)
    assert d.peek(0x80)[1] == 1 ^ 2
    path = tmp_path / "dump.txt"
    d.dump(path)
    assert path.read_text().splitlines()[0].startswith("0x000000000080: ")
    again = Dram.load(path)
    assert list(again.lines()) == list(d.lines())
    assert len(d) == 2 and 0x80 in d and 0x40 not in d


def test_contains_bytes_spans_adjacent_lines_only():
    d = Dram()
    d.poke(0, bytes(60) + b"SECR")
    d.poke(64, b"ET" + bytes(62))
    d.poke(256, b"ET" + bytes(62))
    assert d.contains_bytes(b"SECRET")
    d2 = Dram()
    d2.poke(0, bytes(60) + b"SECR")
    d2.poke(256, b"ET" + bytes(62))
    assert not d2.contains_bytes(b"SECRET")


def test_bad_addresses():
    with pytest.raises(ValueError):
        Dram().write(0x20, bytes(64))
    with pytest.raises(ValueError):
        Dram().poke(0, bytes(10))


def test_sized_dram_refuses_beyond_its_end():
    from golden_model.dram import AddressBeyondDram

    d = Dram(size=4096)
    d.write(4096 - 64, b"\x01" * 64)
    for op in (lambda: d.read(4096), lambda: d.write(4096, bytes(64)), lambda: d.peek(1 << 40)):
        with pytest.raises(AddressBeyondDram):
            op()
    with pytest.raises(ValueError):
        Dram(size=100)
    assert Dram().size is None


def test_write_image_puts_each_byte_at_its_address(tmp_path):
    d = Dram()
    d.poke(0x40, b"A" * 64)
    d.poke(0x1000, b"B" * 64)
    path = tmp_path / "img"
    assert d.write_image(path) == 0x1040
    raw = path.read_bytes()
    assert len(raw) == 0x1040 and raw[:0x40] == bytes(0x40)
    assert raw[0x40:0x80] == b"A" * 64 and raw[0x80:0x1000] == bytes(0x1000 - 0x80)
    assert raw[0x1000:] == b"B" * 64
    assert Dram().write_image(tmp_path / "empty") == 0 and (tmp_path / "empty").read_bytes() == b""
