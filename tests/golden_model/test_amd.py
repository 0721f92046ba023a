"""CPUID Fn8000_001F / Fn8000_0008, SYSCFG and SEV_STATUS, sme_me_mask (golden_model.amd)."""

import pytest

from golden_model import amd
from golden_model.amd import (
    CPUID_ADDRESS_SIZES,
    CPUID_MEM_ENCRYPTION,
    MSR_SEV_STATUS,
    MSR_SYSCFG,
    AmdPlatformParams,
    cpuid,
)
from golden_model.config import SYSCFG_MEM_ENCRYPTION_MOD_EN, ConfigReg
from golden_model.cpu import Cpu
from golden_model.engine import Engine, EngineParams
from golden_model.mktme import GeneralProtectionFault


def test_cpuid_fields_come_from_the_parameters():
    p = AmdPlatformParams(engine=EngineParams(slots=128, pa_width=52, c_bit_pos=51), phys_addr_reduction=6,
                          min_sev_asid=9)
    leaf = cpuid(p, CPUID_MEM_ENCRYPTION)
    assert leaf.eax == 0b1011  # SME, SEV, SEV-ES (bit 2 VM_PAGE_FLUSH not modelled)
    assert leaf.ebx & 0x3F == 51 and (leaf.ebx >> 6) & 0x3F == 6
    assert leaf.ecx == 126  # ASIDs 1..126; slot 127 is the host key
    assert leaf.edx == 9
    assert cpuid(p, CPUID_ADDRESS_SIZES).eax == 52
    assert amd.usable_phys_addr_bits(p) == 46
    assert cpuid(p, 0x1234) == (0, 0, 0, 0)


def test_cpuid_feature_bits_follow_the_flags():
    p = AmdPlatformParams(sme=True, sev=False, sev_es=False)
    leaf = cpuid(p, CPUID_MEM_ENCRYPTION)
    assert leaf.eax == 1 and leaf.ecx == 0 and leaf.edx == 0
    # Without SME the reduction does not apply.
    assert amd.usable_phys_addr_bits(AmdPlatformParams(sme=False)) == 48


@pytest.mark.parametrize("kwargs", [
    {"phys_addr_reduction": 64},
    {"phys_addr_reduction": 40},  # leaves 8 bits
    {"min_sev_asid": 0},
    {"min_sev_asid": 64},
    {"dram_bytes": 1 << 44},  # above the 43 usable bits
    {"dram_bytes": 1000},
])
def test_params_refuse_impossible_platforms(kwargs):
    with pytest.raises(ValueError):
        AmdPlatformParams(**kwargs)


def test_syscfg_round_trips_through_the_engine_register():
    eng = Engine()
    assert amd.rdmsr(eng, MSR_SYSCFG) == 0
    amd.wrmsr(eng, MSR_SYSCFG, SYSCFG_MEM_ENCRYPTION_MOD_EN)
    assert amd.rdmsr(eng, MSR_SYSCFG) == 1 << 23 == eng.config_read(ConfigReg.SYSCFG)
    amd.wrmsr(eng, MSR_SYSCFG, 0)
    assert eng.config_read(ConfigReg.SYSCFG) == 0


@pytest.mark.parametrize("msr, value", [(MSR_SYSCFG, 1 << 22), (MSR_SYSCFG, 1 << 64), (MSR_SEV_STATUS, 0),
                                        (0xC001_0015, 1)])
def test_wrmsr_faults(msr, value):
    eng = Engine()
    with pytest.raises(GeneralProtectionFault):
        amd.wrmsr(eng, msr, value)
    assert eng.config_read(ConfigReg.SYSCFG) == 0


def test_rdmsr_on_the_host():
    eng = Engine()
    assert amd.rdmsr(eng, MSR_SEV_STATUS) == 0  # the host is not an SEV guest
    with pytest.raises(GeneralProtectionFault):
        amd.rdmsr(eng, 0x10)


def test_guest_sev_status():
    eng = Engine()
    cpu = Cpu(eng)
    assert cpu.new_guest(1).rdmsr(MSR_SEV_STATUS) == 0b01
    assert cpu.new_guest(2, es=True).rdmsr(MSR_SEV_STATUS) == 0b11
    with pytest.raises(GeneralProtectionFault):
        cpu.new_guest(3).rdmsr(MSR_SYSCFG)


def test_sme_me_mask_as_linux_computes_it():
    p = AmdPlatformParams()
    eng = Engine(p.engine)
    assert amd.sme_me_mask(p, eng) == 0  # SYSCFG[23] clear
    amd.wrmsr(eng, MSR_SYSCFG, SYSCFG_MEM_ENCRYPTION_MOD_EN)
    assert amd.sme_me_mask(p, eng) == 1 << 47
    assert amd.sme_me_mask(p, eng, mem_encrypt=False) == 0
    assert amd.sme_me_mask(AmdPlatformParams(sme=False), eng) == 0
    amd.wrmsr(eng, MSR_SYSCFG, 0)
    assert amd.sme_me_mask(p, eng, sev_status=amd.SEV_STATUS_SEV) == 1 << 47  # a guest always uses it
