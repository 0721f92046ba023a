"""The AMD Secure Processor's SEV firmware and the guest owner it talks to.

Modules, one concept each:

- :mod:`.status`      status codes, command IDs, platform and guest state encodings
- :mod:`.policy`      the 32-bit guest policy and its LAUNCH_START checks
- :mod:`.kdf`         the SP 800-108 HMAC-SHA256 KDF and the VEK derivation
- :mod:`.session`     the guest-owner/firmware channel: ECDH, KEK/KIK, session blob,
                      measurement and packet MACs
- :mod:`.certs`       the certificates SEND_START checks (AMD root chain, owner OCA)
- :mod:`.vmsa`        an SEV-ES vCPU's register state
- :mod:`.guest_owner` the guest owner: build the session, verify the measurement, wrap a secret
- :mod:`.firmware`    :class:`SecureProcessor`, the platform and guest state machines

See ``docs/sev_firmware.md``.
"""

from .certs import PlatformCertificates
from .firmware import (
    FirmwareVersion,
    GuestStatus,
    LaunchMeasureResult,
    LaunchStartResult,
    PdhCertExportResult,
    PlatformStatus,
    SecureProcessor,
    SendStartResult,
    TransportPacket,
)
from .guest_owner import GuestOwner, LaunchBundle, SecretPacket, launch_digest
from .kdf import derive_vek, kdf
from .policy import GuestPolicy
from .session import Measurement, PacketHeader, SessionBlob, TransportKeys
from .status import GuestState, PlatformState, SevCommand, SevStatus
from .vmsa import Vmsa

__all__ = [
    "FirmwareVersion",
    "GuestOwner",
    "GuestPolicy",
    "GuestState",
    "GuestStatus",
    "LaunchBundle",
    "LaunchMeasureResult",
    "LaunchStartResult",
    "Measurement",
    "PacketHeader",
    "PdhCertExportResult",
    "PlatformCertificates",
    "PlatformState",
    "PlatformStatus",
    "SecretPacket",
    "SecureProcessor",
    "SendStartResult",
    "SessionBlob",
    "SevCommand",
    "SevStatus",
    "TransportKeys",
    "TransportPacket",
    "Vmsa",
    "derive_vek",
    "kdf",
    "launch_digest",
]
