"""The platform certificates SEND_START checks, reduced to what the policy rules need.

A real platform exports its PDH with a chain (facts §2.8; firmware ``sev_mcmd.c``
``validate_platform`` / ``validate_domain``): PDH ← PEK ← CEK ← ASK ← ARK (AMD's root) proves
the receiver is a genuine AMD part (policy bit SEV), and PDH ← PEK ← OCA (the owner's
certificate authority) proves who owns it (policy bit DOMAIN: the receiver's OCA must equal
the sender's).

The model keeps the two facts and real signatures, not AMD's certificate formats (model
choice): ECDSA P-384 / SHA-384 over the 97-byte SEC1 points; the PEK is folded into the
signatures over the PDH (the CEK and the OCA sign the PDH directly); ASK and ARK are one
model root key, :func:`amd_root_public`, generated from a fixed seed. Status codes as in the
firmware: a signature that does not verify is BAD_SIGNATURE, a different owner is
POLICY_FAILURE, a receiver older than the policy's API version is POLICY_FAILURE.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from random import Random

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .session import generate_p384_key, load_public, public_bytes
from .status import SevStatus

__all__ = ["PlatformCertificates", "amd_root_public", "sign_platform", "validate_platform",
           "validate_domain"]

_ECDSA = ec.ECDSA(hashes.SHA384())


@functools.cache
def _amd_root() -> ec.EllipticCurvePrivateKey:
    # The model's stand-in for AMD's ARK/ASK: every "genuine" modelled part is signed by it.
    return generate_p384_key(Random(0x414D44))


def amd_root_public() -> bytes:
    """The model AMD root's public key (97 bytes)."""
    return public_bytes(_amd_root())


@dataclass(frozen=True)
class PlatformCertificates:
    """What a receiving platform hands the sender's hypervisor for SEND_START.

    Attributes
    ----------
    pdh : bytes
        The receiver's PDH public key (97 bytes); the transport keys are wrapped for it.
    api_major, api_minor : int
        The receiver's firmware API version (the PEK body's, in the real chain).
    cek, cek_signature : bytes
        The chip endorsement key and the AMD root's signature over it.
    pdh_cek_signature : bytes
        The CEK's signature over ``pdh || api_major || api_minor``.
    oca, pdh_oca_signature : bytes
        The owner's public key and its signature over ``pdh``.
    """

    pdh: bytes
    api_major: int
    api_minor: int
    cek: bytes
    cek_signature: bytes
    pdh_cek_signature: bytes
    oca: bytes
    pdh_oca_signature: bytes


def _versioned(pdh: bytes, major: int, minor: int) -> bytes:
    return pdh + struct.pack("<BB", major, minor)


def sign_platform(pdh: ec.EllipticCurvePrivateKey, cek: ec.EllipticCurvePrivateKey,
                  oca: ec.EllipticCurvePrivateKey, api_major: int, api_minor: int,
                  *, genuine: bool = True) -> PlatformCertificates:
    """The certificates of a platform with these keys; ``genuine=False`` signs the CEK with a
    key that is not the AMD root (a counterfeit or emulated part)."""
    pdh_pub, cek_pub = public_bytes(pdh), public_bytes(cek)
    root = _amd_root() if genuine else generate_p384_key(Random(0xBAD))
    return PlatformCertificates(
        pdh=pdh_pub, api_major=api_major, api_minor=api_minor,
        cek=cek_pub, cek_signature=root.sign(cek_pub, _ECDSA),
        pdh_cek_signature=cek.sign(_versioned(pdh_pub, api_major, api_minor), _ECDSA),
        oca=public_bytes(oca), pdh_oca_signature=oca.sign(pdh_pub, _ECDSA))


def _verifies(public: bytes, signature: bytes, message: bytes) -> bool:
    key = load_public(public)
    if key is None:
        return False
    try:
        key.verify(signature, message, _ECDSA)
    except InvalidSignature:
        return False
    return True


def validate_platform(certs: PlatformCertificates) -> SevStatus:
    """PDH ← CEK ← AMD root: SUCCESS or BAD_SIGNATURE (policy bit SEV)."""
    if not _verifies(amd_root_public(), certs.cek_signature, certs.cek):
        return SevStatus.BAD_SIGNATURE
    signed = _versioned(certs.pdh, certs.api_major, certs.api_minor)
    if not _verifies(certs.cek, certs.pdh_cek_signature, signed):
        return SevStatus.BAD_SIGNATURE
    return SevStatus.SUCCESS


def validate_domain(certs: PlatformCertificates, own_oca: bytes) -> SevStatus:
    """PDH ← OCA, and the OCA is the sender's own: SUCCESS, BAD_SIGNATURE or POLICY_FAILURE."""
    if not _verifies(certs.oca, certs.pdh_oca_signature, certs.pdh):
        return SevStatus.BAD_SIGNATURE
    return SevStatus.SUCCESS if certs.oca == own_oca else SevStatus.POLICY_FAILURE
