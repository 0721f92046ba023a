import pytest

from golden_model.cpu import PAGE_SIZE, Cpu, PageFault
from golden_model.demos._platform import amd_sme_platform, intel_tme_platform
from golden_model.engine import ErrorCode
from golden_model.keytable import Command, KeyProgramCommand

DATA = b"x" * 40 + b"y" * 40  # crosses a line boundary when stored at offset 30


def test_page_tables_translate_and_faults():
    eng, cpu = amd_sme_platform()
    pt = cpu.new_page_tables(tag=cpu.c_bit)
    frame = cpu.alloc_frame()
    pt.map(0x7000_0000, frame | cpu.c_bit, writable=False, nx=True)
    assert pt.translate(0x7000_0123) == frame | cpu.c_bit | 0x123
    with pytest.raises(PageFault):
        pt.translate(0x7000_0000, write=True)
    with pytest.raises(PageFault):
        pt.translate(0x7000_0000, fetch=True)
    with pytest.raises(PageFault):
        pt.translate(0x7000_1000)
    with pytest.raises(PageFault):
        pt.translate(1 << 47)  # non-canonical
    pt.unmap(0x7000_0000)
    assert pt.pte(0x7000_0000) is None


def test_tables_live_in_encrypted_memory():
    eng, cpu = amd_sme_platform()
    pt = cpu.new_page_tables(tag=cpu.c_bit)
    frame = cpu.alloc_frame()
    pt.map(0x1000, frame)
    cpu.wbinvd()
    root = pt.root & ~cpu.c_bit
    entry0 = int.from_bytes(cpu.read_phys(pt.root, 8), "little")
    assert entry0 & 1  # present through C=1
    assert eng.dram.peek(root)[:8] != entry0.to_bytes(8, "little")  # ciphertext in DRAM


def test_aliases_are_not_coherent_until_flushed():
    eng, cpu = amd_sme_platform()
    pa = 0x20_0000
    cpu.write_phys(pa | cpu.c_bit + 30, DATA)
    assert cpu.read_phys(pa + 30, len(DATA)) == bytes(len(DATA))  # C=0 alias misses to DRAM (zero)
    cpu.clflush(pa + 30)  # flushing the C=0 alias does not write back the C=1 line
    assert eng.dram.peek(pa) == bytes(64)
    cpu.clflush(pa | cpu.c_bit)
    cpu.clflush(pa | cpu.c_bit + 64)
    assert eng.dram.peek(pa) != bytes(64)
    cpu.clflush(pa)
    assert cpu.read_phys(pa | cpu.c_bit + 30, len(DATA)) == DATA


def test_set_memory_decrypted_flushes_then_flips():
    eng, cpu = amd_sme_platform()
    pt = cpu.new_page_tables(tag=cpu.c_bit)
    frame = cpu.alloc_frame()
    pt.map(0x40_0000, frame | cpu.c_bit)
    cpu.write(pt, 0x40_0000, b"secret")
    cpu.set_memory_decrypted(pt, 0x40_0000)
    assert not cpu.cache.contains(frame | cpu.c_bit)  # flushed
    assert pt.translate(0x40_0000) == frame
    assert cpu.read(pt, 0x40_0000, 6) != b"secret"  # contents are not converted
    cpu.write(pt, 0x40_0000, b"shared")
    cpu.set_memory_encrypted(pt, 0x40_0000)
    assert pt.translate(0x40_0000) == frame | cpu.c_bit
    assert eng.dram.peek(frame)[:6] == b"shared"


def test_write_back_error_is_recorded():
    eng, cpu = amd_sme_platform()
    cpu.write_phys(1 << 47 | 0x1000, b"a")  # fill OK (host key present)
    eng.key_program(KeyProgramCommand(63, Command.CLEAR_KEY))
    cpu.wbinvd()
    assert cpu.cache.errors == [(1 << 47 | 0x1000, 0, ErrorCode.NO_KEY)]


def test_sev_guest_routing():
    eng, cpu = amd_sme_platform()
    assert eng.key_program(KeyProgramCommand(7, Command.SET_KEY_RANDOM)) == 0
    g = cpu.new_guest(7)
    private, shared, shared_enc = g.alloc_gpa_frame(), 0x80_0000, 0x90_0000
    g.map_gpa(shared, cpu.alloc_frame(), c=False)
    g.map_gpa(shared_enc, cpu.alloc_frame(), c=True)
    g.map(0x1000, private, c=True)
    g.map(0x2000, shared, c=False)
    g.map(0x3000, shared_enc, c=False)
    assert g.route(private, private=True) == (g.hpa(private) | cpu.c_bit, 7)
    assert g.route(shared, private=False) == (g.hpa(shared), 0)
    assert g.route(shared_enc, private=False) == (g.hpa(shared_enc) | cpu.c_bit, 0)
    g.write(0x1000, b"private!")
    g.write(0x2000, b"shared!!")
    g.write(0x3000, b"hostkey!")
    cpu.wbinvd()
    assert cpu.read_phys(g.hpa(shared), 8) == b"shared!!"  # hypervisor sees shared pages
    assert cpu.read_phys(g.hpa(private), 8) != b"private!"  # and only ciphertext of private ones
    assert cpu.read_phys(g.hpa(shared_enc), 8) != b"hostkey!"
    assert cpu.read_phys(g.hpa(shared_enc) | cpu.c_bit, 8) == b"hostkey!"  # host key
    assert g.read(0x1000, 8) == b"private!"
    # Instruction fetch from a page mapped shared is still private: decrypts the plaintext to garbage.
    assert g.read(0x2000, 8, fetch=True) != b"shared!!"
    assert g.read_gpa(private, 8) == b"private!"


def test_guest_page_tables_are_private_memory():
    eng, cpu = amd_sme_platform()
    eng.key_program(KeyProgramCommand(3, Command.SET_KEY_RANDOM))
    g = cpu.new_guest(3)
    gpa = g.alloc_gpa_frame()
    g.map(0x5000, gpa)
    cpu.wbinvd()
    root_hpa = g.hpa(g.gpt.root & ~cpu.c_bit)
    raw = cpu.read_phys(root_hpa, 8)  # host view of the guest's PML4
    assert int.from_bytes(g.read_gpa(g.gpt.root & ~cpu.c_bit, 8), "little") & 1
    assert raw != g.read_gpa(g.gpt.root & ~cpu.c_bit, 8)


def test_intel_keyid_tags():
    eng, cpu = intel_tme_platform(keyid_bits=6)
    assert cpu.keyid_tag(3) == 3 << 42
    assert cpu.tag_mask == 63 << 42
    with pytest.raises(ValueError):
        cpu.keyid_tag(64)


def test_virtual_access_across_pages():
    eng, cpu = intel_tme_platform()
    pt = cpu.new_page_tables()
    f1, f2 = cpu.alloc_frame(), cpu.alloc_frame()
    pt.map(0x1000, f1)
    pt.map(0x2000, f2)
    cpu.write(pt, 0x2000 - 3, b"abcdef")
    assert cpu.read_phys(f1 + PAGE_SIZE - 3, 3) == b"abc"
    assert cpu.read_phys(f2, 3) == b"def"
    assert cpu.read(pt, 0x1FFD, 6) == b"abcdef"


def test_cpu_repr():
    assert "Cache" in repr(Cpu(intel_tme_platform()[0]))


def test_guest_without_a_key_faults_on_its_first_private_access():
    # Before, the store sat in the cache and its write-back failed silently (NO_KEY).
    from golden_model.cpu import GuestFault

    eng, cpu = amd_sme_platform()
    guest = cpu.new_guest(5)  # ASID 5 was never given a key
    guest.map_gpa(0x1000, cpu.alloc_frame())
    with pytest.raises(GuestFault, match="ASID 5.*NO_KEY"):
        guest.write_gpa(0x1000, b"lost?", private=True)
    assert not cpu.cache.contains(0x1000, asid=5) and cpu.cache.errors == []
    guest.write_gpa(0x1000, b"shared is fine", private=False)  # C=0, ASID 0
    assert guest.read_gpa(0x1000, 14, private=False) == b"shared is fine"
    eng.key_program(KeyProgramCommand(5, Command.SET_KEY_RANDOM))
    guest.write_gpa(0x1000, b"now keyed", private=True)
    assert guest.read_gpa(0x1000, 9) == b"now keyed"
