from golden_model.xe import XeCipher


def test_roundtrip_and_linearity():
    xe = XeCipher(bytes(range(16)))
    p = bytes(range(48))
    assert xe.decrypt(0x1230, xe.encrypt(0x1230, p)) == p
    assert xe.tweak(0x30) == xe.tweak(0x10) ^ xe.tweak(0x20)
    assert xe.tweak(0xF) == 0  # bits below 4 are the offset inside the block
    moved = xe.decrypt(0x2000, xe.encrypt(0x1000, p[:16]))
    delta = (xe.tweak(0x1000) ^ xe.tweak(0x2000)).to_bytes(16, "little")
    assert moved == bytes(a ^ b for a, b in zip(p[:16], delta, strict=True))
