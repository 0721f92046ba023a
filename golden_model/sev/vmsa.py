"""An SEV-ES guest's register state: the VM save area (VMSA), one 4 KiB page.

Under SEV-ES the register state of a vCPU lives in a VMSA page encrypted with the guest's key
(facts §2.2), so a hypervisor that reads it sees ciphertext. LAUNCH_UPDATE_VMSA measures the
initial VMSA and encrypts it in place; SEND/RECEIVE_UPDATE_VMSA migrate it.

The model stores a handful of registers at the offsets of Linux's ``struct vmcb_save_area``
(RFLAGS 0x170, RIP 0x178, RSP 0x1D8, RAX 0x1F8). Those offsets are not in the reference digest
(unverified); the rest of the page is zero.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VMSA_BYTES", "Vmsa"]

VMSA_BYTES = 4096
_OFFSETS = {"rflags": 0x170, "rip": 0x178, "rsp": 0x1D8, "rax": 0x1F8}


@dataclass(frozen=True)
class Vmsa:
    """The registers of one vCPU the model keeps (64-bit each)."""

    rip: int = 0
    rsp: int = 0
    rax: int = 0
    rflags: int = 0x2  # bit 1 is always set

    def to_bytes(self) -> bytes:
        """The 4 KiB page."""
        page = bytearray(VMSA_BYTES)
        for name, offset in _OFFSETS.items():
            page[offset:offset + 8] = getattr(self, name).to_bytes(8, "little")
        return bytes(page)

    @classmethod
    def from_bytes(cls, page: bytes) -> Vmsa:
        """Parse a 4 KiB page."""
        if len(page) != VMSA_BYTES:
            raise ValueError(f"a VMSA is {VMSA_BYTES} bytes, not {len(page)}")
        return cls(**{name: int.from_bytes(page[off:off + 8], "little") for name, off in _OFFSETS.items()})
