"""An assembled AMD platform: DRAM, engine, CPU and Secure Processor from one set of parameters.

:class:`AmdPlatform` is the one place an AMD platform's facts are set (an
:class:`~golden_model.amd.AmdPlatformParams`). Everything else reads them back as software
does: the CPU's usable physical-address width comes from CPUID Fn8000_0008 and Fn8000_001F
EBX[11:6], the SEV firmware's minimum SEV ASID from Fn8000_001F EDX, and
:meth:`AmdPlatform.sme_me_mask` from CPUID and SYSCFG as Linux's ``sme_enable()`` computes it.
"""

from __future__ import annotations

from . import amd
from .cpu import Cpu, Guest
from .dram import Dram
from .engine import Engine
from .entropy import EntropySource

__all__ = ["AmdPlatform"]


class AmdPlatform:
    """DRAM, engine, CPU and SEV firmware of one AMD machine.

    Parameters
    ----------
    params : AmdPlatformParams
        The platform's parameters (the only place they are set).
    seed : int
        Seed of the engine's entropy source (host key).
    firmware_seed : int
        Seed of the Secure Processor's TRNG (PDH key, VEK seeds, nonces).
    name : str
        A label for demos and error messages.
    owner_seed : int or None
        The platform owner's (OCA) key seed: platforms with the same seed have one owner.
    genuine : bool
        Whether its chip endorsement key is signed by the (model) AMD root.

    Attributes
    ----------
    dram : Dram
    engine : Engine
    cpu : Cpu
    sp : golden_model.sev.SecureProcessor
        Booted (AMD decode, SYSCFG.MemEncryptionModEn, host key) but not INIT'ed.
    """

    def __init__(self, params: amd.AmdPlatformParams | None = None, *, seed: int = 1,
                 firmware_seed: int = 0, name: str = "platform", owner_seed: int | None = None,
                 genuine: bool = True) -> None:
        from .sev import SecureProcessor

        self.params = params if params is not None else amd.AmdPlatformParams()
        self.name = name
        self.dram = Dram(self.params.dram_bytes)
        self.engine = Engine(self.params.engine, EntropySource(seed=seed), self.dram)
        self.cpu = Cpu(self.engine, phys_addr_bits=amd.usable_phys_addr_bits(self.params))
        leaf = self.cpuid(amd.CPUID_MEM_ENCRYPTION)
        self.sp = SecureProcessor(self.engine, cpu=self.cpu, seed=firmware_seed, min_sev_asid=leaf.edx,
                                  owner_seed=owner_seed, genuine=genuine)

    def __repr__(self) -> str:
        return f"<AmdPlatform {self.name!r} {self.sp!r}>"

    def cpuid(self, leaf: int, subleaf: int = 0) -> amd.CpuidResult:
        """CPUID on this platform's CPU."""
        return amd.cpuid(self.params, leaf, subleaf)

    def rdmsr(self, msr: int) -> int:
        """Host RDMSR (SYSCFG, SEV_STATUS)."""
        return amd.rdmsr(self.engine, msr)

    def wrmsr(self, msr: int, value: int) -> None:
        """Host WRMSR (SYSCFG bit 23)."""
        amd.wrmsr(self.engine, msr, value)

    def sme_me_mask(self, *, mem_encrypt: bool = True) -> int:
        """The host kernel's encryption mask (Linux ``sme_enable()``), 0 if SME stays off."""
        return amd.sme_me_mask(self.params, self.engine, mem_encrypt=mem_encrypt)

    def new_guest(self, asid: int, *, es: bool = False) -> Guest:
        """A guest on this platform's CPU (the firmware must have ACTIVATEd ``asid``)."""
        return self.cpu.new_guest(asid, es=es)

    def host_dump(self, frames) -> bytes:
        """What the hypervisor reads from ``frames`` (4 KiB host frames) after WBINVD: C = 0, ASID 0."""
        self.sp.wbinvd()
        return b"".join(self.cpu.read_phys(frame, 4096) for frame in frames)
