"""AMD SME/SEV as software sees it: CPUID Fn8000_001F, the SYSCFG and SEV_STATUS MSRs.

The platform's AMD facts are set in one place, :class:`AmdPlatformParams`; software never
reads them from there, it reads them back through the interfaces a real CPU offers
(facts §1.1-§1.3):

* :func:`cpuid` leaf Fn8000_001F: EAX feature bits (0 SME, 1 SEV, 3 SEV-ES), EBX[5:0] C-bit
  position, EBX[11:6] physical-address bit reduction, ECX number of encrypted guests (the
  largest SEV ASID), EDX the minimum ASID of a guest with SEV on and SEV-ES off. Leaf
  Fn8000_0008 EAX[7:0] gives the physical-address width the reduction applies to.
* :func:`rdmsr` / :func:`wrmsr` of SYSCFG (0xC001_0010; bit 23 MemEncryptionModEn, held by
  the engine's SYSCFG register) and SEV_STATUS (0xC001_0131; read-only, 0 on the host; a
  guest reads it with :meth:`golden_model.cpu.Guest.rdmsr`).
* :func:`sme_me_mask`: Linux ``sme_enable()``'s computation of the encryption mask from them.

Model choices (not AMD facts): SYSCFG models bit 23 only, so a write of any other bit is #GP;
an unmodelled MSR is #GP; Fn8000_0008 reports the unreduced width (whether real parts report
the reduced one there was not checked: unverified); the VMPL count in EBX is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .config import SYSCFG_MEM_ENCRYPTION_MOD_EN, ConfigReg, ConfigStatus
from .engine import Engine, EngineParams
from .mktme import GeneralProtectionFault

__all__ = [
    "CPUID_ADDRESS_SIZES",
    "CPUID_MEM_ENCRYPTION",
    "CPUID_EAX_SME",
    "CPUID_EAX_SEV",
    "CPUID_EAX_SEV_ES",
    "MSR_SYSCFG",
    "MSR_SEV_STATUS",
    "SEV_STATUS_SEV",
    "SEV_STATUS_SEV_ES",
    "AmdPlatformParams",
    "CpuidResult",
    "cpuid",
    "rdmsr",
    "wrmsr",
    "sme_me_mask",
    "usable_phys_addr_bits",
]

CPUID_ADDRESS_SIZES = 0x8000_0008
CPUID_MEM_ENCRYPTION = 0x8000_001F
CPUID_EAX_SME = 1 << 0
CPUID_EAX_SEV = 1 << 1
CPUID_EAX_SEV_ES = 1 << 3
MSR_SYSCFG = 0xC001_0010
MSR_SEV_STATUS = 0xC001_0131
SEV_STATUS_SEV = 1 << 0
SEV_STATUS_SEV_ES = 1 << 1


def _default_engine() -> EngineParams:
    # 64 slots: ASIDs 1..62 for guests, slot 63 the host key; C-bit 47 as on first-generation
    # EPYC (facts §1.1).
    return EngineParams(slots=64, pa_width=48, c_bit_pos=47)


@dataclass(frozen=True)
class AmdPlatformParams:
    """The AMD platform's fixed parameters: the one place they are set.

    Parameters
    ----------
    engine : EngineParams
        The memory-encryption engine (C-bit position, PA width, key slots).
    phys_addr_reduction : int
        CPUID EBX[11:6]: how many bits the system physical-address width shrinks when memory
        encryption is on (the APM example: 48 → 43, i.e. 5).
    sme, sev, sev_es : bool
        CPUID EAX bits 0, 1 and 3.
    min_sev_asid : int
        CPUID EDX: ASIDs below it run SEV-ES guests only.
    dram_bytes : int
        Installed DRAM; it must lie below the reduced physical-address width.
    """

    engine: EngineParams = field(default_factory=_default_engine)
    phys_addr_reduction: int = 5
    sme: bool = True
    sev: bool = True
    sev_es: bool = True
    min_sev_asid: int = 1
    dram_bytes: int = 64 << 20

    def __post_init__(self) -> None:
        if not 0 <= self.phys_addr_reduction < 64:
            raise ValueError("phys_addr_reduction is a 6-bit field")
        if self.usable_phys_addr_bits <= 12:
            raise ValueError(f"a reduction of {self.phys_addr_reduction} leaves no physical address space")
        if self.engine.c_bit_pos >= 64:
            raise ValueError("the C-bit position is a 6-bit field")
        if not 1 <= self.min_sev_asid <= self.max_asid + 1:
            raise ValueError(f"min_sev_asid must be in 1..{self.max_asid + 1}, not {self.min_sev_asid}")
        if not 0 < self.dram_bytes <= 1 << self.usable_phys_addr_bits or self.dram_bytes % 4096:
            raise ValueError(f"dram_bytes must be a whole number of 4 KiB pages within "
                             f"2**{self.usable_phys_addr_bits} bytes")

    @property
    def max_asid(self) -> int:
        """Largest guest ASID: the last slot holds the host key, slot 0 means plaintext."""
        return self.engine.slots - 2

    @property
    def usable_phys_addr_bits(self) -> int:
        """System physical-address bits left when memory encryption is on."""
        return self.engine.pa_width - self.phys_addr_reduction


class CpuidResult(NamedTuple):
    """The four registers CPUID returns."""

    eax: int
    ebx: int
    ecx: int
    edx: int


def cpuid(params: AmdPlatformParams, leaf: int, subleaf: int = 0) -> CpuidResult:
    """CPUID of the AMD leaves the model knows; every other leaf reads as zeros (model choice)."""
    del subleaf  # neither leaf has sub-leaves
    if leaf == CPUID_MEM_ENCRYPTION:
        eax = ((CPUID_EAX_SME if params.sme else 0) | (CPUID_EAX_SEV if params.sev else 0)
               | (CPUID_EAX_SEV_ES if params.sev_es else 0))
        ebx = params.engine.c_bit_pos | params.phys_addr_reduction << 6
        ecx = params.max_asid if params.sev else 0
        edx = params.min_sev_asid if params.sev else 0
        return CpuidResult(eax, ebx, ecx, edx)
    if leaf == CPUID_ADDRESS_SIZES:
        return CpuidResult(params.engine.pa_width, 0, 0, 0)
    return CpuidResult(0, 0, 0, 0)


def usable_phys_addr_bits(params: AmdPlatformParams) -> int:
    """The system physical-address width as software computes it: Fn8000_0008 EAX[7:0] minus
    Fn8000_001F EBX[11:6] (the reduction applies only when SME is supported)."""
    width = cpuid(params, CPUID_ADDRESS_SIZES).eax & 0xFF
    leaf = cpuid(params, CPUID_MEM_ENCRYPTION)
    return width - ((leaf.ebx >> 6) & 0x3F) if leaf.eax & CPUID_EAX_SME else width


def rdmsr(engine: Engine, msr: int) -> int:
    """RDMSR on the host: SYSCFG (the engine's register) or SEV_STATUS (0: not a guest)."""
    if msr == MSR_SYSCFG:
        return engine.config_read(ConfigReg.SYSCFG)
    if msr == MSR_SEV_STATUS:
        return 0
    raise GeneralProtectionFault(f"MSR {msr:#x} is not modelled")


def wrmsr(engine: Engine, msr: int, value: int) -> None:
    """WRMSR on the host: SYSCFG bit 23 only; SEV_STATUS is read-only; others are #GP."""
    if msr == MSR_SEV_STATUS:
        raise GeneralProtectionFault("SEV_STATUS is read-only")
    if msr != MSR_SYSCFG:
        raise GeneralProtectionFault(f"WRMSR to {msr:#x}")
    if not 0 <= value < 1 << 64 or value & ~SYSCFG_MEM_ENCRYPTION_MOD_EN:
        raise GeneralProtectionFault(f"SYSCFG: only bit 23 (MemEncryptionModEn) is modelled, not {value:#x}")
    status = engine.config_write(ConfigReg.SYSCFG, value)
    if status != ConfigStatus.OK:
        raise GeneralProtectionFault(f"WRMSR SYSCFG: {status.name}")


def sme_me_mask(params: AmdPlatformParams, engine: Engine, *, mem_encrypt: bool = True,
                sev_status: int = 0) -> int:
    """The encryption mask Linux ``sme_enable()`` computes (facts §1.3), 0 when SME stays off.

    ``sev_status`` is what the kernel read from SEV_STATUS (an SEV guest always uses the
    mask); on the host SME needs CPUID SME, SYSCFG[23] and ``mem_encrypt=on``.
    """
    leaf = cpuid(params, CPUID_MEM_ENCRYPTION)
    mask = 1 << (leaf.ebx & 0x3F)
    if sev_status & SEV_STATUS_SEV:
        return mask
    if not leaf.eax & CPUID_EAX_SME or not mem_encrypt:
        return 0
    return mask if rdmsr(engine, MSR_SYSCFG) & SYSCFG_MEM_ENCRYPTION_MOD_EN else 0
