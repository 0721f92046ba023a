"""NIST SP 800-108 counter-mode KDF with HMAC-SHA256, as the SEV firmware uses it.

One PRF call per 32-byte output block i = 1, 2, ...::

    K(i) = HMAC-SHA256(key, u32le(i) || label || 0x00 || context || u32le(L))

where L is the output length in bits; the output is K(1) || K(2) || ... truncated to L bits
(facts §2.10; AMD firmware ``nist_kdf.c``). Counter and length are little-endian because the
firmware hashes its native ``uint32_t`` values.

The same KDF derives the per-guest memory-encryption key (VEK) from the guest's random
32-byte VEK seed when ACTIVATE installs it in the memory controller (facts §1.8; firmware
``umc.c``); :func:`derive_vek` models that.
"""

import hashlib
import hmac
import struct

__all__ = [
    "LABEL_MASTER_SECRET",
    "LABEL_KEK",
    "LABEL_KIK",
    "LABEL_VEK",
    "kdf",
    "derive_vek",
]

LABEL_MASTER_SECRET = b"sev-master-secret"
LABEL_KEK = b"sev-kek"
LABEL_KIK = b"sev-kik"
# The firmware passes sizeof(UMC_KEY_LABEL), so the label's C terminator is hashed too; the KDF
# then appends its own 0x00 separator (umc.c). The channel labels use sizeof()-1 (no NUL).
LABEL_VEK = b"sev-vm-encryption-key-0\x00"

_PRF_BYTES = hashlib.sha256().digest_size


def kdf(key: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """Derive ``length`` bytes from ``key`` (SP 800-108 counter mode, PRF = HMAC-SHA256).

    Parameters
    ----------
    key : bytes
        The key-derivation key (any length; HMAC hashes long keys).
    label : bytes
        Purpose label, hashed exactly as given (no terminator is added beyond the 0x00
        separator of SP 800-108).
    context : bytes
        Context (may be empty).
    length : int
        Number of output bytes, 1 or more.
    """
    if length <= 0:
        raise ValueError(f"KDF output length must be positive, not {length}")
    length_bits = struct.pack("<I", length * 8)
    out = bytearray()
    counter = 1
    while len(out) < length:
        msg = struct.pack("<I", counter) + label + b"\x00" + context + length_bits
        out += hmac.new(key, msg, hashlib.sha256).digest()
        counter += 1
    return bytes(out[:length])


def derive_vek(seed: bytes, channel: int = 0) -> tuple[bytes, bytes]:
    """Derive the memory-encryption key pair a guest's VEK seed gives one memory channel.

    The firmware writes ``KDF(seed, "sev-vm-encryption-key-0", u32le(die*UMCS + umc))``, 32
    bytes, into each memory controller's slot (so a guest has a different key per channel).
    The model has one engine, i.e. one channel, ``channel = 0``.

    How the UMC splits its 256-bit slot is not public (facts §6). The model's engine is
    XTS-AES-128 with a data key and a tweak key, so bytes 0-15 of the derived value are the
    data key K1 and bytes 16-31 the tweak key K2 (the order in which the firmware writes the
    slot, key[127:0] first). This split is a model choice, not an AMD fact.

    Returns
    -------
    (key1, key2) : tuple of bytes
        Data key and tweak key, 16 bytes each.
    """
    if len(seed) != 32:
        raise ValueError(f"VEK seed must be 32 bytes, not {len(seed)}")
    material = kdf(seed, LABEL_VEK, struct.pack("<I", channel), 32)
    return material[:16], material[16:]
