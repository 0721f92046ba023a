"""AmdPlatform: one set of parameters, read back through CPUID; reduced PA width and DRAM size
enforced on every access."""

import pytest

from golden_model.amd import CPUID_MEM_ENCRYPTION, AmdPlatformParams
from golden_model.cpu import PageFault, PhysicalAddressFault
from golden_model.dram import AddressBeyondDram
from golden_model.engine import EngineParams, Request
from golden_model.platform import AmdPlatform


def test_parameters_reach_software_through_cpuid():
    p = AmdPlatformParams(engine=EngineParams(slots=32, pa_width=48, c_bit_pos=47), phys_addr_reduction=4,
                          min_sev_asid=3, dram_bytes=1 << 24)
    plat = AmdPlatform(p)
    assert plat.sp.min_sev_asid == plat.cpuid(CPUID_MEM_ENCRYPTION).edx == 3
    assert plat.sp.max_asid == plat.cpuid(CPUID_MEM_ENCRYPTION).ecx == 30
    assert plat.cpu.reserved_pa_mask == ((1 << 47) - 1) & ~((1 << 44) - 1)  # bits 44..46
    assert plat.dram.size == 1 << 24
    assert plat.sme_me_mask() == 1 << 47 and plat.rdmsr(0xC001_0010) == 1 << 23


def test_reduced_pa_bits_fault_on_physical_access():
    plat = AmdPlatform()  # 48-bit PA, reduction 5: bits 43..46 reserved, 47 is the C-bit
    cpu = plat.cpu
    with pytest.raises(PhysicalAddressFault, match="reserved"):
        cpu.read_phys(1 << 43, 8)
    with pytest.raises(PhysicalAddressFault, match="reserved"):
        cpu.write_phys((1 << 46) | 0x1000, b"x")
    cpu.write_phys(cpu.c_bit | 0x1000, b"ok")  # the C-bit itself is not reserved
    assert cpu.read_phys(cpu.c_bit | 0x1000, 2) == b"ok"


def test_reduced_pa_bits_fault_in_a_page_walk():
    plat = AmdPlatform()
    cpu = plat.cpu
    pt = cpu.new_page_tables()
    pt.map(0x40_0000, 1 << 44 | 0x1000)
    with pytest.raises(PageFault, match="reserved bit"):
        cpu.read(pt, 0x40_0000, 8)


def test_beyond_dram_is_an_error_not_zeros():
    plat = AmdPlatform(AmdPlatformParams(dram_bytes=1 << 22))
    with pytest.raises(PhysicalAddressFault, match="beyond the end of DRAM"):
        plat.cpu.read_phys(1 << 22, 64)
    with pytest.raises(PhysicalAddressFault, match="beyond the end of DRAM"):
        plat.cpu.read_phys((1 << 22) - 8, 16)  # straddles the end
    assert plat.cpu.read_phys((1 << 22) - 64, 64) == bytes(64)  # the last line exists
    with pytest.raises(AddressBeyondDram):  # the engine's own DRAM refuses too
        plat.engine.request(Request(1 << 22))
    with pytest.raises(PhysicalAddressFault, match="out of memory"):
        for _ in range(2000):
            plat.cpu.alloc_frame()


def test_guest_pages_beyond_dram_fault():
    plat = AmdPlatform(AmdPlatformParams(dram_bytes=1 << 22))
    guest = plat.cpu.new_guest(1)
    guest.map_gpa(0x5000, 1 << 30)  # the hypervisor maps a GPA to a frame that does not exist
    with pytest.raises(PhysicalAddressFault):
        guest.read_gpa(0x5000, 8, private=False)
