"""The guest owner: the remote party that trusts the AMD Secure Processor, not the hypervisor.

The guest owner (facts §2.10; QEMU/KVM launch flow):

1. takes the platform's PDH public key (in reality from PDH_CERT_EXPORT after validating the
   PEK/OCA/CEK/ARK chain, which the model does not have) and builds the DH certificate and the
   session blob the hypervisor passes to LAUNCH_START (:meth:`GuestOwner.build_session`);
2. receives the 48-byte LAUNCH_MEASURE output through the hypervisor and checks it against
   the launch digest it expects, i.e. SHA-256 of the images it asked the hypervisor to load
   (:meth:`GuestOwner.verify_measurement`);
3. only if that check passes, wraps a secret (a disk key, say) for LAUNCH_SECRET
   (:meth:`GuestOwner.wrap_secret`).

The hypervisor relays every message but can neither read the secret nor forge a measurement,
because both are keyed with TEK/TIK, which only the guest owner and the firmware know.
"""

import hashlib
import hmac
from dataclasses import dataclass
from random import Random

from .policy import GuestPolicy
from .session import (
    Measurement,
    PacketHeader,
    SessionBlob,
    TransportKeys,
    aes128_ctr,
    derive_master_secret,
    ecdh_z,
    generate_p384_key,
    load_public,
    measurement_mac,
    policy_mac,
    public_bytes,
    secret_mac,
    wrap_transport_keys,
)

__all__ = ["LaunchBundle", "SecretPacket", "GuestOwner", "launch_digest"]


def launch_digest(*images: bytes) -> bytes:
    """The launch digest LD the firmware computes: SHA-256 over every LAUNCH_UPDATE_DATA
    payload, in order (so the concatenation of the images, whatever the chunking)."""
    h = hashlib.sha256()
    for image in images:
        h.update(image)
    return h.digest()


@dataclass(frozen=True)
class LaunchBundle:
    """What the guest owner hands the hypervisor for LAUNCH_START.

    Attributes
    ----------
    policy : int
        The 32-bit guest policy.
    dh_cert : bytes
        The guest owner's P-384 public key (model format, see :mod:`.session`).
    session : bytes
        The 128-byte session blob.
    """

    policy: int
    dh_cert: bytes
    session: bytes


@dataclass(frozen=True)
class SecretPacket:
    """A LAUNCH_SECRET packet: the 52-byte header and the encrypted payload."""

    header: bytes
    trans: bytes


class GuestOwner:
    """A guest owner with its own deterministic randomness.

    Parameters
    ----------
    policy : GuestPolicy or int
        The policy the guest must launch with.
    seed : int
        Seed of the owner's random choices (DH key, TEK, TIK, nonce, IVs).
    """

    def __init__(self, policy: GuestPolicy | int = 0, *, seed: int = 0):
        self.policy = policy.to_int() if isinstance(policy, GuestPolicy) else int(policy)
        self._rng = Random(seed)
        self._dh_key = generate_p384_key(self._rng)
        self._keys = TransportKeys(tek=self._rng.randbytes(16), tik=self._rng.randbytes(16))
        self._measure: bytes | None = None

    @property
    def dh_cert(self) -> bytes:
        """The owner's DH public key, as sent to LAUNCH_START."""
        return public_bytes(self._dh_key)

    def build_session(self, pdh_public: bytes) -> LaunchBundle:
        """Derive KEK/KIK with the platform's PDH and wrap TEK/TIK into a session blob.

        Raises
        ------
        ValueError
            If ``pdh_public`` is not a P-384 point (the owner rejects the platform).
        """
        pdh = load_public(pdh_public)
        if pdh is None:
            raise ValueError("the platform's PDH is not a P-384 public key")
        nonce = self._rng.randbytes(16)
        wrap_iv = self._rng.randbytes(16)
        master = derive_master_secret(ecdh_z(self._dh_key, pdh), nonce)
        wrap_tk, wrap_mac = wrap_transport_keys(self._keys, master, wrap_iv)
        blob = SessionBlob(
            nonce=nonce,
            wrap_tk=wrap_tk,
            wrap_iv=wrap_iv,
            wrap_mac=wrap_mac,
            policy_mac=policy_mac(self.policy, self._keys.tik),
        )
        return LaunchBundle(policy=self.policy, dh_cert=self.dh_cert, session=blob.to_bytes())

    def verify_measurement(
        self, measurement: bytes, expected_ld: bytes, *, api_major: int, api_minor: int, build: int
    ) -> bool:
        """Check LAUNCH_MEASURE's output against the launch digest the owner expects.

        ``api_major``/``api_minor``/``build`` are the platform's firmware version (from
        PLATFORM_STATUS). On success the MAC is remembered: :meth:`wrap_secret` binds the
        secret to this launch and refuses to run before a successful verification.
        """
        try:
            m = Measurement.from_bytes(measurement)
        except ValueError:
            return False
        expected = measurement_mac(
            self._keys.tik, api_major, api_minor, build, self.policy, expected_ld, m.mnonce
        )
        if not hmac.compare_digest(expected, m.mac):
            return False
        self._measure = m.mac
        return True

    def wrap_secret(self, secret: bytes, *, flags: int = 0) -> SecretPacket:
        """Encrypt ``secret`` with TEK and authenticate it with TIK for LAUNCH_SECRET.

        Raises
        ------
        RuntimeError
            If no measurement has been verified: an owner never releases a secret to a
            launch it has not attested.
        ValueError
            If the secret's length is not a positive multiple of 16 (the firmware's rule).
        """
        if self._measure is None:
            raise RuntimeError("verify the launch measurement before releasing a secret")
        if not secret or len(secret) % 16:
            raise ValueError("a launch secret must be a positive multiple of 16 bytes")
        iv = self._rng.randbytes(16)
        trans = aes128_ctr(self._keys.tek, iv, secret)
        mac = secret_mac(self._keys.tik, flags, iv, len(secret), trans, self._measure)
        return SecretPacket(header=PacketHeader(flags=flags, iv=iv, mac=mac).to_bytes(), trans=trans)
