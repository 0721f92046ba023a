"""The trusted channel between a guest owner and the SEV firmware.

Everything both ends compute, written once so the firmware model and the guest-owner model
cannot drift apart (facts §2.10; firmware ``sev_channel.c``, ``sev_guest.c``; virtee/sev):

1. Key agreement. Each side holds a P-384 ECDH key: the platform's PDH and the guest owner's
   DH key (its "DH certificate"). ``Z`` = x-coordinate of the shared point, 48 bytes.
2. ``master = KDF(Z, "sev-master-secret", NONCE)``, 16 bytes; ``KEK = KDF(master,
   "sev-kek", "")`` and ``KIK = KDF(master, "sev-kik", "")``, 16 bytes each.
3. The guest owner picks the transport keys TEK and TIK (16 bytes each) and sends them in the
   128-byte session blob: ``WRAP_TK = AES-128-CTR(TEK || TIK; KEK, WRAP_IV)``,
   ``WRAP_MAC = HMAC-SHA256(WRAP_TK; KIK)``, ``POLICY_MAC = HMAC-SHA256(u32le(policy); TIK)``.
   The firmware checks WRAP_MAC, unwraps, then checks POLICY_MAC; a MAC mismatch answers
   BAD_MEASUREMENT (the firmware's ``hmac_sha256_verify``).
4. The launch measurement ``HMAC-SHA256(TIK; 0x04 || api_major || api_minor || build ||
   u32le(policy) || LD || MNONCE)`` proves to the guest owner what was loaded.
5. LAUNCH_SECRET packets: header ``{u32 FLAGS, IV[16], MAC[32]}``; ``MAC = HMAC-SHA256(TIK;
   0x01 || u32le(FLAGS) || IV || u32le(guest_len) || u32le(trans_len) || TRANS || MEASURE)``;
   ``TRANS = AES-128-CTR(secret; TEK, IV)``.

Model representations (not AMD formats): a DH "certificate" is the uncompressed SEC1 point
(``0x04 || X || Y``, 97 bytes); the SEV certificate structure and its signatures are not
modelled. ``Z`` is taken in the big-endian order OpenSSL returns; the AMD firmware stores
curve values little-endian and real tools convert, which is not reproduced here (unverified
against a real platform). AES-CTR increments the whole 16-byte IV as a big-endian counter
(OpenSSL's CTR, as virtee uses); the firmware's CCP counter width was not checked.
"""

import hashlib
import hmac
import struct
from dataclasses import dataclass
from random import Random

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .kdf import LABEL_KEK, LABEL_KIK, LABEL_MASTER_SECRET, kdf
from .status import SevStatus

__all__ = [
    "SESSION_BLOB_LEN",
    "PACKET_HEADER_LEN",
    "MEASUREMENT_LEN",
    "DH_PUBLIC_LEN",
    "CTX_SECRET",
    "CTX_DATA",
    "CTX_VMSA",
    "CTX_MEASURE",
    "PACKET_FLAG_COMPRESSED",
    "TransportKeys",
    "SessionBlob",
    "Measurement",
    "PacketHeader",
    "generate_p384_key",
    "public_bytes",
    "load_public",
    "ecdh_z",
    "derive_master_secret",
    "derive_kek",
    "derive_kik",
    "aes128_ctr",
    "policy_mac",
    "wrap_transport_keys",
    "open_session",
    "measurement_mac",
    "secret_mac",
    "transport_mac",
    "create_session",
]

SESSION_BLOB_LEN = 128
PACKET_HEADER_LEN = 52
MEASUREMENT_LEN = 48
DH_PUBLIC_LEN = 97

# Channel contexts, the first byte of every channel HMAC (SEV_CHANNEL_CTX_*).
CTX_SECRET = 0x01
CTX_DATA = 0x02
CTX_VMSA = 0x03
CTX_MEASURE = 0x04

# FLAGS bit 0 marks a compressed packet; the firmware refuses compressed LAUNCH_SECRET
# payloads with UNSUPPORTED. The bit position is inferred from the SEV API's packet header
# (COMPRESSED is its only flag) and was not re-verified.
PACKET_FLAG_COMPRESSED = 1 << 0


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


@dataclass(frozen=True)
class TransportKeys:
    """The guest owner's transport keys: TEK encrypts, TIK authenticates (16 bytes each)."""

    tek: bytes
    tik: bytes

    def __post_init__(self):
        if len(self.tek) != 16 or len(self.tik) != 16:
            raise ValueError("TEK and TIK must be 16 bytes each")


@dataclass(frozen=True)
class SessionBlob:
    """The 128-byte LAUNCH_START session blob.

    Attributes
    ----------
    nonce : bytes
        16 bytes, the KDF context for the master secret.
    wrap_tk : bytes
        32 bytes, TEK || TIK encrypted with KEK.
    wrap_iv : bytes
        16 bytes, the CTR IV of ``wrap_tk``.
    wrap_mac : bytes
        32 bytes, HMAC of ``wrap_tk`` under KIK.
    policy_mac : bytes
        32 bytes, HMAC of the policy under TIK.
    """

    nonce: bytes
    wrap_tk: bytes
    wrap_iv: bytes
    wrap_mac: bytes
    policy_mac: bytes

    _LAYOUT = (("nonce", 16), ("wrap_tk", 32), ("wrap_iv", 16), ("wrap_mac", 32), ("policy_mac", 32))

    def __post_init__(self):
        for name, size in self._LAYOUT:
            if len(getattr(self, name)) != size:
                raise ValueError(f"{name} must be {size} bytes")

    def to_bytes(self) -> bytes:
        return b"".join(getattr(self, name) for name, _ in self._LAYOUT)

    @classmethod
    def from_bytes(cls, blob: bytes) -> "SessionBlob":
        if len(blob) != SESSION_BLOB_LEN:
            raise ValueError(f"a session blob is {SESSION_BLOB_LEN} bytes, not {len(blob)}")
        fields, offset = {}, 0
        for name, size in cls._LAYOUT:
            fields[name] = bytes(blob[offset : offset + size])
            offset += size
        return cls(**fields)


@dataclass(frozen=True)
class Measurement:
    """LAUNCH_MEASURE's 48-byte output: the 32-byte HMAC then the 16-byte MNONCE."""

    mac: bytes
    mnonce: bytes

    def __post_init__(self):
        if len(self.mac) != 32 or len(self.mnonce) != 16:
            raise ValueError("a measurement is a 32-byte MAC and a 16-byte MNONCE")

    def to_bytes(self) -> bytes:
        return self.mac + self.mnonce

    @classmethod
    def from_bytes(cls, data: bytes) -> "Measurement":
        if len(data) != MEASUREMENT_LEN:
            raise ValueError(f"a measurement is {MEASUREMENT_LEN} bytes, not {len(data)}")
        return cls(mac=bytes(data[:32]), mnonce=bytes(data[32:]))


@dataclass(frozen=True)
class PacketHeader:
    """The 52-byte header of a LAUNCH_SECRET packet: u32 FLAGS, 16-byte IV, 32-byte MAC."""

    flags: int
    iv: bytes
    mac: bytes

    def __post_init__(self):
        if not 0 <= self.flags < 1 << 32 or len(self.iv) != 16 or len(self.mac) != 32:
            raise ValueError("a packet header is a u32 FLAGS, a 16-byte IV and a 32-byte MAC")

    def to_bytes(self) -> bytes:
        return struct.pack("<I", self.flags) + self.iv + self.mac

    @classmethod
    def from_bytes(cls, data: bytes) -> "PacketHeader":
        if len(data) != PACKET_HEADER_LEN:
            raise ValueError(f"a packet header is {PACKET_HEADER_LEN} bytes, not {len(data)}")
        return cls(flags=struct.unpack_from("<I", data)[0], iv=bytes(data[4:20]), mac=bytes(data[20:52]))


def generate_p384_key(rng: Random) -> ec.EllipticCurvePrivateKey:
    """A P-384 private key drawn from ``rng`` (deterministic, so model runs reproduce)."""
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
    scalar = int.from_bytes(rng.randbytes(48), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP384R1())


def public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The model's DH certificate: the uncompressed public point, 97 bytes."""
    numbers = key.public_key().public_numbers()
    return b"\x04" + numbers.x.to_bytes(48, "big") + numbers.y.to_bytes(48, "big")


def load_public(data: bytes) -> ec.EllipticCurvePublicKey | None:
    """Parse a DH certificate; ``None`` if it is not a point on P-384."""
    if len(data) != DH_PUBLIC_LEN or data[0] != 0x04:
        return None
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), bytes(data))
    except ValueError:
        return None


def ecdh_z(private: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey) -> bytes:
    """The ECDH shared secret Z: x-coordinate of private * peer, 48 bytes."""
    return private.exchange(ec.ECDH(), peer)


def derive_master_secret(z: bytes, nonce: bytes) -> bytes:
    return kdf(z, LABEL_MASTER_SECRET, nonce, 16)


def derive_kek(master: bytes) -> bytes:
    return kdf(master, LABEL_KEK, b"", 16)


def derive_kik(master: bytes) -> bytes:
    return kdf(master, LABEL_KIK, b"", 16)


def aes128_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CTR; encryption and decryption are the same operation."""
    ctx = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return ctx.update(data) + ctx.finalize()


def policy_mac(policy: int, tik: bytes) -> bytes:
    """POLICY_MAC = HMAC-SHA256(u32le(policy); TIK). (Older virtee used KIK; the firmware uses TIK.)"""
    return _hmac(tik, struct.pack("<I", policy))


def wrap_transport_keys(keys: TransportKeys, master: bytes, wrap_iv: bytes) -> tuple[bytes, bytes]:
    """Guest-owner side of step 3: ``(WRAP_TK, WRAP_MAC)``."""
    wrap_tk = aes128_ctr(derive_kek(master), wrap_iv, keys.tek + keys.tik)
    return wrap_tk, _hmac(derive_kik(master), wrap_tk)


def open_session(z: bytes, blob: SessionBlob) -> tuple[SevStatus, TransportKeys | None]:
    """Firmware side of step 3, without the policy check (``establish_channel``).

    Returns BAD_MEASUREMENT and no keys if WRAP_MAC does not verify under KIK.
    """
    master = derive_master_secret(z, blob.nonce)
    if not hmac.compare_digest(_hmac(derive_kik(master), blob.wrap_tk), blob.wrap_mac):
        return SevStatus.BAD_MEASUREMENT, None
    plain = aes128_ctr(derive_kek(master), blob.wrap_iv, blob.wrap_tk)
    return SevStatus.SUCCESS, TransportKeys(tek=plain[:16], tik=plain[16:])


def measurement_mac(
    tik: bytes, api_major: int, api_minor: int, build: int, policy: int, ld: bytes, mnonce: bytes
) -> bytes:
    """The 32-byte launch measurement HMAC (``sev_guest_measure``)."""
    msg = bytes([CTX_MEASURE, api_major, api_minor, build]) + struct.pack("<I", policy) + ld + mnonce
    return _hmac(tik, msg)


def transport_mac(ctx: int, tik: bytes, flags: int, iv: bytes, guest_len: int, trans: bytes,
                  measure: bytes = b"") -> bytes:
    """A channel packet's MAC (``sev_channel_hmac``): ``HMAC-SHA256(TIK; ctx || u32le(FLAGS) ||
    IV || u32le(guest_len) || u32le(len(trans)) || TRANS [|| MEASURE])``.

    ``ctx`` is CTX_SECRET (LAUNCH_SECRET, which also hashes the launch MEASURE), CTX_DATA
    (SEND/RECEIVE_UPDATE_DATA) or CTX_VMSA. The Genoa firmware computes the migration MAC with
    ``aesctr_hmac256_encrypt`` over an AAD structure holding the same fields; its exact byte
    layout was not re-verified, so the model uses this one order for every context
    (unverified for CTX_DATA / CTX_VMSA).
    """
    msg = (
        bytes([ctx])
        + struct.pack("<I", flags)
        + iv
        + struct.pack("<II", guest_len, len(trans))
        + trans
        + measure
    )
    return _hmac(tik, msg)


def secret_mac(tik: bytes, flags: int, iv: bytes, guest_len: int, trans: bytes, measure: bytes) -> bytes:
    """The LAUNCH_SECRET packet MAC (``sev_channel_hmac`` with context SECRET).

    ``guest_len`` is the length the secret has in guest memory (the firmware's
    "uncompressed size"), hashed before ``len(trans)``; ``measure`` is the 32-byte MAC part of
    the launch measurement, so a secret is bound to one launch.
    """
    return transport_mac(CTX_SECRET, tik, flags, iv, guest_len, trans, measure)


def create_session(rng: Random, own: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey,
                   policy: int) -> tuple[SessionBlob, TransportKeys]:
    """The client side of a channel (``sev_channel_open_client``, used by SEND_START and by the
    guest owner): fresh random TEK, TIK and nonce, wrapped for ``peer`` with KEK/KIK derived
    from ECDH(own, peer); POLICY_MAC under the new TIK."""
    keys = TransportKeys(tek=rng.randbytes(16), tik=rng.randbytes(16))
    nonce, wrap_iv = rng.randbytes(16), rng.randbytes(16)
    master = derive_master_secret(ecdh_z(own, peer), nonce)
    wrap_tk, wrap_mac = wrap_transport_keys(keys, master, wrap_iv)
    blob = SessionBlob(nonce=nonce, wrap_tk=wrap_tk, wrap_iv=wrap_iv, wrap_mac=wrap_mac,
                       policy_mac=policy_mac(policy, keys.tik))
    return blob, keys
