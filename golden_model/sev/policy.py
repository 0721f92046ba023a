"""The 32-bit SEV/SEV-ES guest policy and the checks LAUNCH_START applies to it.

Layout (facts §2.8; firmware ``sev_guest.h``)::

    bit 0   NODBG    DBG_DECRYPT/DBG_ENCRYPT refused (POLICY_FAILURE)
    bit 1   NOKS     no key sharing: no other guest may launch with this guest's VEK seed
    bit 2   ES       SEV-ES required (platform must be INIT'ed with the ES flag: UNSUPPORTED)
    bit 3   NOSEND   SEND_START refused
    bit 4   DOMAIN   may be sent only to a platform with the same owner
    bit 5   SEV      may be sent only to a platform with a valid AMD certificate chain
    15:6    reserved must be 0 (POLICY_FAILURE)
    23:16   API_MAJOR  minimum firmware API version
    31:24   API_MINOR

The guest owner binds the policy to its session with POLICY_MAC (see :mod:`.session`), so the
hypervisor cannot weaken it. The checks are done in :func:`check_policy_fields` after the MAC
check, in the firmware's order (``sev_guest_verify_policy``): API version, then reserved bits.
"""

from dataclasses import dataclass

from .status import SevStatus

__all__ = [
    "POLICY_NODBG",
    "POLICY_NOKS",
    "POLICY_ES",
    "POLICY_NOSEND",
    "POLICY_DOMAIN",
    "POLICY_SEV",
    "POLICY_RESERVED_MASK",
    "GuestPolicy",
    "api_version_supported",
    "check_policy_fields",
]

POLICY_NODBG = 1 << 0
POLICY_NOKS = 1 << 1
POLICY_ES = 1 << 2
POLICY_NOSEND = 1 << 3
POLICY_DOMAIN = 1 << 4
POLICY_SEV = 1 << 5
POLICY_RESERVED_MASK = 0x0000_FFC0  # bits 15:6


@dataclass(frozen=True)
class GuestPolicy:
    """A guest policy word, decoded.

    Parameters
    ----------
    nodbg, noks, es, nosend, domain, sev : bool
        The flag bits 0-5.
    api_major, api_minor : int
        Minimum firmware API version (8 bits each).
    reserved : int
        Bits 15:6 as they appear in the word (already shifted), kept so that a policy with
        reserved bits set round-trips and can be used to test the POLICY_FAILURE path.
    """

    nodbg: bool = False
    noks: bool = False
    es: bool = False
    nosend: bool = False
    domain: bool = False
    sev: bool = False
    api_major: int = 0
    api_minor: int = 0
    reserved: int = 0

    def __post_init__(self):
        for name in ("api_major", "api_minor"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must fit in 8 bits, not {value}")
        if self.reserved & ~POLICY_RESERVED_MASK:
            raise ValueError(f"reserved must lie in bits 15:6, not {self.reserved:#x}")

    def to_int(self) -> int:
        """The 32-bit policy word."""
        return (
            (POLICY_NODBG if self.nodbg else 0)
            | (POLICY_NOKS if self.noks else 0)
            | (POLICY_ES if self.es else 0)
            | (POLICY_NOSEND if self.nosend else 0)
            | (POLICY_DOMAIN if self.domain else 0)
            | (POLICY_SEV if self.sev else 0)
            | self.reserved
            | (self.api_major << 16)
            | (self.api_minor << 24)
        )

    @classmethod
    def from_int(cls, word: int) -> "GuestPolicy":
        """Decode a 32-bit policy word."""
        if not 0 <= word < 1 << 32:
            raise ValueError(f"policy must be a 32-bit value, not {word:#x}")
        return cls(
            nodbg=bool(word & POLICY_NODBG),
            noks=bool(word & POLICY_NOKS),
            es=bool(word & POLICY_ES),
            nosend=bool(word & POLICY_NOSEND),
            domain=bool(word & POLICY_DOMAIN),
            sev=bool(word & POLICY_SEV),
            api_major=(word >> 16) & 0xFF,
            api_minor=(word >> 24) & 0xFF,
            reserved=word & POLICY_RESERVED_MASK,
        )


def api_version_supported(policy: int, fw_major: int, fw_minor: int) -> bool:
    """True if the firmware's API version is at least the policy's minimum."""
    major = (policy >> 16) & 0xFF
    minor = (policy >> 24) & 0xFF
    return (fw_major, fw_minor) >= (major, minor)


def check_policy_fields(policy: int, fw_major: int, fw_minor: int) -> SevStatus:
    """The policy checks LAUNCH_START makes after POLICY_MAC verified.

    Returns POLICY_FAILURE if the firmware is older than the policy's minimum API version,
    then POLICY_FAILURE if a reserved bit is set, else SUCCESS.
    """
    if not api_version_supported(policy, fw_major, fw_minor):
        return SevStatus.POLICY_FAILURE
    if policy & POLICY_RESERVED_MASK:
        return SevStatus.POLICY_FAILURE
    return SevStatus.SUCCESS
