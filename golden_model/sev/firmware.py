"""The AMD Secure Processor running the SEV firmware: platform and guest state machines.

This is a behavioural model of the SEV and SEV-ES (not SNP) firmware API as AMD's published
firmware implements it (facts §2.4-2.11; ``amd/AMD-ASPFW`` ``sev_mcmd.c``, ``sev_guest.c``,
``sev_channel.c``, ``sev_plat.c``). Each command is a method that returns the firmware's
status code (or a small result object carrying it): a command issued in the wrong state, with
a bad handle or a bad buffer answers the status the firmware would write to CMDRESP, never a
Python exception. Checks run in the firmware's order (platform state, then handle, then guest
state, then parameters), so the first failing check decides the status.

The Secure Processor is the only client of the engine's key-program port in AMD mode:

* :meth:`SecureProcessor.boot` (power-on, done by the constructor) selects the AMD decode,
  sets SYSCFG.MemEncryptionModEn (the BIOS's job on a real part) and loads a random host
  SME/TSME key into slot ``SLOTS-1``;
* ACTIVATE loads the guest's VEK into slot = ASID (``SET_KEY_DIRECT``, keys from
  :func:`.kdf.derive_vek`);
* a successful DF_FLUSH clears (``CLEAR_KEY``) the slot of every ASID that is clean and no
  longer bound to a guest. The real firmware never erases a UMC key ("We do not clear umc key
  here anymore", ``sev_guest_deactivate``); it is simply overwritten by the next ACTIVATE. The
  model clears it at the first point where no line encrypted under it can still be in flight
  (after WBINVD and the data-fabric flush), so a stale ASID answers NO_KEY in the engine
  instead of silently decrypting. DEACTIVATE must not clear it: the cache write-backs that
  WBINVD later performs for the departed guest still need its key.

ASID bookkeeping mirrors the firmware's per-CCX bitmasks: each ASID is *clean*, *allocated*
(bound to a guest that has not run), *in use* or *dirty* (may still have lines in some core's
cache) on each CCX, and each core has a WBINVD_DONE flag. INIT marks every ASID dirty and
clears every WBINVD_DONE flag, so even the first ACTIVATE after INIT needs WBINVD + DF_FLUSH
(the Linux driver does exactly that right after INIT). The hypervisor's WBINVD is
:meth:`SecureProcessor.wbinvd`; if a :class:`golden_model.cpu.Cpu` is attached, it also writes
back and invalidates that CPU's cache, so the flag and the cache agree.

Migration (SEND_* on the source, RECEIVE_* on the target) follows ``sev_mcmd.c``: SEND_START
opens a channel as the client (fresh TEK/TIK wrapped for the target's PDH, :mod:`.session`),
refused under NOSEND, and under the SEV / DOMAIN policy bits unless the target's certificates
(:mod:`.certs`) prove a genuine part / the same owner; SEND_UPDATE_DATA decrypts guest memory
with the guest's key and re-encrypts it with TEK (AES-128-CTR, MAC under TIK); the target's
RECEIVE_UPDATE_DATA checks the MAC, decrypts, and writes the data under the target guest's own
key. DBG_DECRYPT / DBG_ENCRYPT give the hypervisor plaintext access unless the policy has
NODBG. SEV-ES: LAUNCH_UPDATE_VMSA measures the initial register state (:mod:`.vmsa`) and
encrypts it in place; SEND/RECEIVE_UPDATE_VMSA migrate it.

Model-level misuse answers the firmware's status: a length that does not fit the command
buffer's 32-bit field is INVALID_LEN, an address beyond DRAM or the C-bit INVALID_ADDRESS.

Not modelled: the TMR of an ES INIT, the GHCB protocol, the VMSA validity checks, PEK_CSR /
PEK_CERT_IMPORT / PDH_GEN (the certificate chain is reduced to :mod:`.certs`), ACTIVATE_EX,
persistent storage, multiple dies, and the TRNG failing. Where the reference digest says
nothing, a check is marked "unverified" in its docstring.
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from random import Random

from golden_model.config import SYSCFG_MEM_ENCRYPTION_MOD_EN, ConfigReg, ConfigStatus, Mode
from golden_model.engine import Engine, ErrorCode, Request
from golden_model.keytable import ENC_ALG_XTS_128, Command, KeyProgramCommand, KeyProgramStatus

from .certs import PlatformCertificates, sign_platform, validate_domain, validate_platform
from .kdf import derive_vek
from .policy import (
    POLICY_DOMAIN,
    POLICY_ES,
    POLICY_NODBG,
    POLICY_NOKS,
    POLICY_NOSEND,
    POLICY_SEV,
    api_version_supported,
    check_policy_fields,
)
from .session import (
    CTX_DATA,
    CTX_VMSA,
    MEASUREMENT_LEN,
    PACKET_FLAG_COMPRESSED,
    PACKET_HEADER_LEN,
    SESSION_BLOB_LEN,
    Measurement,
    PacketHeader,
    SessionBlob,
    TransportKeys,
    aes128_ctr,
    create_session,
    ecdh_z,
    generate_p384_key,
    load_public,
    measurement_mac,
    open_session,
    policy_mac,
    public_bytes,
    secret_mac,
    transport_mac,
)
from .status import GuestState, PlatformState, SevCommand, SevStatus
from .vmsa import VMSA_BYTES

__all__ = [
    "FirmwareVersion",
    "PlatformStatus",
    "GuestStatus",
    "LaunchStartResult",
    "LaunchMeasureResult",
    "PdhCertExportResult",
    "SendStartResult",
    "TransportPacket",
    "SecureProcessor",
    "INIT_FLAG_ES",
    "SCRATCH_BUF_LEN",
    "GUEST_COUNT_MAX",
]

# INIT flags bit 0: initialise the platform for SEV-ES. Every other bit must be zero.
INIT_FLAG_ES = 1 << 0
# PLATFORM_STATUS config flag for ES in the user-visible u32 flags word (psp-sev.h).
_STATUS_FLAG_CONFIG_ES = 0x100
# SEV_SCRATCH_BUF_LEN: LAUNCH_SECRET's largest payload (and LAUNCH_UPDATE_DATA's chunk size).
SCRATCH_BUF_LEN = 0x5000
# SEV_GUEST_COUNT_MAX: handles 1..1024.
GUEST_COUNT_MAX = 1024
_LINE = 64
# Command-buffer length fields are u32 and address fields u64 (psp-sev.h layouts, facts §2.4).
_U32_LIMIT = 1 << 32
_U64_LIMIT = 1 << 64


def _aligned16(paddr: int) -> bool:
    """A u64 address on a 16-byte boundary (the firmware's IS_ALIGNED_TO_16_BYTES)."""
    return 0 <= paddr < _U64_LIMIT and paddr % 16 == 0


@dataclass(frozen=True)
class FirmwareVersion:
    """The firmware's API version and build, reported by PLATFORM_STATUS and hashed into every
    launch measurement. The defaults are a model choice, not a particular AMD release."""

    api_major: int = 1
    api_minor: int = 55
    build: int = 21


@dataclass(frozen=True)
class PlatformStatus:
    """PLATFORM_STATUS output (user view). In UNINIT the flags and guest count read as 0."""

    status: SevStatus
    api_major: int
    api_minor: int
    state: PlatformState
    flags: int
    build: int
    guest_count: int


@dataclass(frozen=True)
class GuestStatus:
    """GUEST_STATUS output. An unknown handle answers SUCCESS with state UNINIT (0)."""

    status: SevStatus
    policy: int = 0
    asid: int = 0
    state: GuestState = GuestState.UNINIT


@dataclass(frozen=True)
class LaunchStartResult:
    """LAUNCH_START output: the new guest's handle (0 when the command failed)."""

    status: SevStatus
    handle: int = 0


@dataclass(frozen=True)
class LaunchMeasureResult:
    """LAUNCH_MEASURE output: the 48-byte measurement (MAC || MNONCE) and the length field,
    which the firmware sets to 48 even when it answers INVALID_LEN for a short buffer."""

    status: SevStatus
    measurement: bytes = b""
    length: int = MEASUREMENT_LEN


@dataclass(frozen=True)
class PdhCertExportResult:
    """PDH_CERT_EXPORT output: the platform's PDH public key (model format: SEC1 point) and
    the certificates a sender's SEND_START checks (:mod:`.certs`)."""

    status: SevStatus
    pdh: bytes = b""
    certificates: PlatformCertificates | None = None


@dataclass(frozen=True)
class SendStartResult:
    """SEND_START output: the guest's policy, the sender's PDH (the target's RECEIVE_START
    ``dh_cert``) and the 128-byte session blob wrapping the new transport keys for the target."""

    status: SevStatus
    policy: int = 0
    pdh: bytes = b""
    session: bytes = b""


@dataclass(frozen=True)
class TransportPacket:
    """SEND_UPDATE_DATA / SEND_UPDATE_VMSA output: the 52-byte header (FLAGS, IV, MAC) and the
    data encrypted with TEK: all the hypervisor gets to carry to the target."""

    status: SevStatus
    header: bytes = b""
    trans: bytes = b""


@dataclass
class _Guest:
    """The firmware's guest context (GCTX)."""

    handle: int
    policy: int
    vek_seed: bytes
    channel: TransportKeys
    state: GuestState = GuestState.UNINIT
    ld: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    measure: bytes = b""  # the 32-byte MAC of LAUNCH_MEASURE, bound into LAUNCH_SECRET
    asid: int = 0
    ccxs: int = 0
    vmsa_paddr: int | None = None  # SEV-ES: where LAUNCH/RECEIVE_UPDATE_VMSA put the VMSA
    pending: bool = False  # ACTIVATE'd but not yet RUNNING: the ASID is not yet valid for VMRUN
    active: bool = False  # ASID enabled on its CCXs

    @property
    def inactive(self) -> bool:
        return not (self.pending or self.active)


class SecureProcessor:
    """The AMD Secure Processor with the SEV firmware, driving one memory-encryption engine.

    Parameters
    ----------
    engine : Engine
        The engine whose key table the firmware owns. Its ``SLOTS`` parameter fixes the ASID
        range: guests use ASIDs ``1 .. SLOTS-2``, slot ``SLOTS-1`` is the host key.
    cpu : golden_model.cpu.Cpu, optional
        The CPU whose cache :meth:`wbinvd` flushes, and whose lines the firmware writes back
        and invalidates before it touches guest memory (the firmware's read-sized
        write-back-invalidate). Without it, the model assumes no CPU cache.
    seed : int
        Seed of the firmware's TRNG (PDH key, VEK seeds, MNONCEs, host key draw is the
        engine's own entropy source).
    version : FirmwareVersion
        API version and build.
    ccx_count, cores_per_ccx : int
        Core complexes and cores per complex, for the ASID and WBINVD_DONE bookkeeping.
    min_sev_asid : int
        CPUID Fn8000_001F EDX: ASIDs below it are for SEV-ES guests only.
    max_guests : int
        Guest contexts (handles) available; more LAUNCH_STARTs answer RESOURCE_LIMIT.
    boot : bool
        Run :meth:`boot` now (default). ``False`` leaves the engine as it is, which lets a test
        show INIT refusing a platform whose memory encryption is off.
    owner_seed : int or None
        Seed of the owner's (OCA) key; platforms with the same ``owner_seed`` have the same
        owner (policy bit DOMAIN). ``None``: a key of its own (self-owned).
    genuine : bool
        Whether the chip endorsement key is signed by the (model) AMD root (policy bit SEV).

    Attributes
    ----------
    max_asid : int
        Largest ASID ACTIVATE accepts.
    state : PlatformState
        Platform state.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        cpu=None,
        seed: int = 0,
        version: FirmwareVersion = FirmwareVersion(),
        ccx_count: int = 2,
        cores_per_ccx: int = 2,
        min_sev_asid: int = 1,
        max_guests: int = GUEST_COUNT_MAX,
        boot: bool = True,
        owner_seed: int | None = None,
        genuine: bool = True,
    ):
        if ccx_count < 1 or cores_per_ccx < 1:
            raise ValueError("need at least one CCX with one core")
        self.engine = engine
        self.cpu = cpu
        self.version = version
        self.ccx_count = ccx_count
        self.cores_per_ccx = cores_per_ccx
        self.min_sev_asid = min_sev_asid
        self.max_guests = max_guests
        self.slots = engine.params.slots
        self.max_asid = self.slots - 2
        self.host_slot = self.slots - 1
        self._c_bit_pos = engine.params.c_bit_pos
        self._rng = Random(seed)
        self._ccx_present = (1 << ccx_count) - 1
        self._all_cores = (1 << (ccx_count * cores_per_ccx)) - 1

        self.state = PlatformState.UNINIT
        self._config_flags = 0
        self._guests: dict[int, _Guest] = {}
        self._pdh = generate_p384_key(self._rng)
        cek = generate_p384_key(self._rng)
        oca = generate_p384_key(Random(owner_seed) if owner_seed is not None else self._rng)
        self._certs = sign_platform(self._pdh, cek, oca, version.api_major, version.api_minor,
                                    genuine=genuine)
        # Per-ASID CCX bitmasks, index = ASID (index 0 unused).
        n = self.max_asid + 1
        self._asid_dirty = [self._ccx_present] * n
        self._asid_clean = [0] * n
        self._asid_allocated = [0] * n
        self._asid_in_use = [0] * n
        self._asid_valid = [0] * n  # CCXs on which VMRUN may use the ASID
        self._wbinvd_done = 0  # one bit per core
        self._keyed_slots: set[int] = set()  # guest slots the firmware has loaded
        if boot:
            self.boot()

    def __repr__(self) -> str:
        return f"SecureProcessor(state={self.state.name}, guests={len(self._guests)})"

    # -- power-on and the hypervisor's hooks ---------------------------------------------------

    def boot(self) -> None:
        """Power-on: AMD decode, SYSCFG.MemEncryptionModEn, and a fresh host SME/TSME key.

        Raises
        ------
        RuntimeError
            If the engine refuses (its configuration is locked to Intel mode, or no entropy):
            a platform that cannot boot is a broken test setup, not a firmware status.
        """
        for reg, value in ((ConfigReg.MODE, Mode.AMD), (ConfigReg.SYSCFG, SYSCFG_MEM_ENCRYPTION_MOD_EN)):
            status = self.engine.config_write(reg, int(value))
            if status != ConfigStatus.OK:
                raise RuntimeError(f"engine refused {reg.name} at power-on: {status.name}")
        status = self.engine.key_program(
            KeyProgramCommand(keyid=self.host_slot, command=Command.SET_KEY_RANDOM, enc_alg=ENC_ALG_XTS_128,
                              key1=bytes(16), key2=bytes(16))
        )
        if status != KeyProgramStatus.PROG_SUCCESS:
            raise RuntimeError(f"engine refused the host key at power-on: {status.name}")

    def wbinvd(self, core: int | None = None) -> None:
        """The hypervisor executes WBINVD on ``core`` (or on every core when ``None``).

        Sets the core's WBINVD_DONE flag, which DF_FLUSH reads. With a CPU attached, its
        cache is written back and invalidated too (the model has one shared cache, so any
        core's WBINVD flushes all of it).
        """
        if core is None:
            self._wbinvd_done = self._all_cores
        else:
            if not 0 <= core < self.ccx_count * self.cores_per_ccx:
                raise ValueError(f"no core {core}")
            self._wbinvd_done |= 1 << core
        if self.cpu is not None:
            self.cpu.wbinvd()

    def asid_runnable(self, asid: int) -> bool:
        """Whether VMRUN may use ``asid`` (the firmware has marked it valid on some CCX)."""
        return 0 < asid <= self.max_asid and self._asid_valid[asid] != 0

    @property
    def pdh_public(self) -> bytes:
        """The PDH public key (what the guest owner gets from PDH_CERT_EXPORT)."""
        return public_bytes(self._pdh)

    # -- the mailbox ---------------------------------------------------------------------------

    def command(self, cmd: int, **fields):
        """Run command ``cmd`` (a :class:`SevCommand` value) with its buffer ``fields``.

        An unknown or unmodelled command ID answers INVALID_COMMAND, as the firmware's
        dispatcher does for a command it has no handler for.
        """
        handlers = {
            SevCommand.INIT: self.init,
            SevCommand.SHUTDOWN: self.shutdown,
            SevCommand.PLATFORM_STATUS: self.platform_status,
            SevCommand.PDH_CERT_EXPORT: self.pdh_cert_export,
            SevCommand.DF_FLUSH: self.df_flush,
            SevCommand.DECOMMISSION: self.decommission,
            SevCommand.ACTIVATE: self.activate,
            SevCommand.DEACTIVATE: self.deactivate,
            SevCommand.GUEST_STATUS: self.guest_status,
            SevCommand.LAUNCH_START: self.launch_start,
            SevCommand.LAUNCH_UPDATE_DATA: self.launch_update_data,
            SevCommand.LAUNCH_MEASURE: self.launch_measure,
            SevCommand.LAUNCH_UPDATE_SECRET: self.launch_secret,
            SevCommand.LAUNCH_FINISH: self.launch_finish,
            SevCommand.LAUNCH_UPDATE_VMSA: self.launch_update_vmsa,
            SevCommand.SEND_START: self.send_start,
            SevCommand.SEND_UPDATE_DATA: self.send_update_data,
            SevCommand.SEND_UPDATE_VMSA: self.send_update_vmsa,
            SevCommand.SEND_FINISH: self.send_finish,
            SevCommand.SEND_CANCEL: self.send_cancel,
            SevCommand.RECEIVE_START: self.receive_start,
            SevCommand.RECEIVE_UPDATE_DATA: self.receive_update_data,
            SevCommand.RECEIVE_UPDATE_VMSA: self.receive_update_vmsa,
            SevCommand.RECEIVE_FINISH: self.receive_finish,
            SevCommand.DBG_DECRYPT: self.dbg_decrypt,
            SevCommand.DBG_ENCRYPT: self.dbg_encrypt,
        }
        handler = handlers.get(cmd)
        if handler is None:
            return SevStatus.INVALID_COMMAND
        return handler(**fields)

    # -- platform commands ---------------------------------------------------------------------

    def init(self, flags: int = 0) -> SevStatus:
        """INIT: UNINIT -> INIT.

        Checks: platform UNINIT (INVALID_PLATFORM_STATE); memory encryption enabled in the
        engine (HWERROR_PLATFORM); no flag other than ES (INVALID_CONFIG). Then every ASID
        becomes invalid and dirty on every CCX and every WBINVD_DONE flag is cleared.
        The TMR address/length of an ES INIT are not modelled.
        """
        if self.state != PlatformState.UNINIT:
            return SevStatus.INVALID_PLATFORM_STATE
        if not self._memory_encryption_enabled():
            return SevStatus.HWERROR_PLATFORM
        if flags & ~INIT_FLAG_ES:
            return SevStatus.INVALID_CONFIG
        for asid in range(1, self.max_asid + 1):
            self._asid_dirty[asid] = self._ccx_present
            self._asid_clean[asid] = 0
            self._asid_allocated[asid] = 0
            self._asid_in_use[asid] = 0
            self._asid_valid[asid] = 0
        self._wbinvd_done = 0
        self._config_flags = flags
        self.state = PlatformState.INIT
        return SevStatus.SUCCESS

    def shutdown(self) -> SevStatus:
        """SHUTDOWN: any state -> UNINIT, dropping every guest.

        The firmware's ``sev_clear`` marks the guests' ASIDs invalid and frees the guests; the
        model books each guest's ASID as DEACTIVATE would (in use -> dirty, allocated -> clean)
        so the keys stay until a later DF_FLUSH proves them unused. (INIT resets all of it.)
        """
        for guest in list(self._guests.values()):
            if not guest.inactive:
                self._release_asid(guest)
        self._guests.clear()
        self._config_flags = 0
        self.state = PlatformState.UNINIT
        return SevStatus.SUCCESS

    def platform_status(self) -> PlatformStatus:
        """PLATFORM_STATUS: always SUCCESS. Owner flag 0 (the model's platform is self-owned)."""
        initialised = self.state != PlatformState.UNINIT
        flags = _STATUS_FLAG_CONFIG_ES if initialised and self._config_flags & INIT_FLAG_ES else 0
        return PlatformStatus(
            status=SevStatus.SUCCESS,
            api_major=self.version.api_major,
            api_minor=self.version.api_minor,
            state=self.state,
            flags=flags,
            build=self.version.build,
            guest_count=len(self._guests) if initialised else 0,
        )

    def pdh_cert_export(self) -> PdhCertExportResult:
        """PDH_CERT_EXPORT: the PDH public key; needs INIT or WORKING. (No cert chain.)"""
        if self.state == PlatformState.UNINIT:
            return PdhCertExportResult(SevStatus.INVALID_PLATFORM_STATE)
        return PdhCertExportResult(SevStatus.SUCCESS, self.pdh_public, self._certs)

    def df_flush(self) -> SevStatus:
        """DF_FLUSH: retire dirty ASIDs once every core of their CCX has executed WBINVD.

        1. On each CCX whose cores all have WBINVD_DONE, every dirty ASID becomes clean.
        2. If any core lacks WBINVD_DONE: WBINVD_REQUIRED (step 1 still took effect).
        3. Otherwise the data-fabric write buffers are flushed (nothing to model: the engine
           has no write buffer) and the model clears the key slot of every ASID that is now
           clean everywhere and bound to no guest.

        The firmware checks no platform state for DF_FLUSH (``mcmd_df_flush_common``).
        """
        done_ccxs = 0
        core_mask = (1 << self.cores_per_ccx) - 1
        for ccx in range(self.ccx_count):
            if (self._wbinvd_done >> (ccx * self.cores_per_ccx)) & core_mask == core_mask:
                done_ccxs |= 1 << ccx
        for asid in range(1, self.max_asid + 1):
            moved = self._asid_dirty[asid] & done_ccxs
            self._asid_dirty[asid] &= ~moved
            self._asid_clean[asid] |= moved
        if done_ccxs != self._ccx_present:
            return SevStatus.WBINVD_REQUIRED
        for asid in sorted(self._keyed_slots):
            if (
                self._asid_clean[asid] == self._ccx_present
                and not self._asid_allocated[asid]
                and not self._asid_in_use[asid]
            ):
                self._key_program(asid, Command.CLEAR_KEY)
                self._keyed_slots.discard(asid)
        return SevStatus.SUCCESS

    # -- guest lifecycle -----------------------------------------------------------------------

    def launch_start(
        self, policy: int, dh_cert: bytes | None = None, session: bytes | None = None, handle: int = 0
    ) -> LaunchStartResult:
        """LAUNCH_START: create a guest context in LUPDATE; INIT -> WORKING.

        Checks, in order:

        1. platform INIT or WORKING, else INVALID_PLATFORM_STATE;
        2. with a DH certificate (``dh_cert`` not None; without one there is no channel and
           TEK = TIK = 0, as in the firmware, and no policy check):
           session blob not 128 bytes -> INVALID_LEN; certificate not the model's 97-byte
           form -> INVALID_LEN; not a P-384 point -> INVALID_CERTIFICATE; WRAP_MAC wrong ->
           BAD_MEASUREMENT; POLICY_MAC wrong -> BAD_MEASUREMENT; firmware older than the
           policy's API version -> POLICY_FAILURE; reserved policy bits -> POLICY_FAILURE;
        3. ``handle != 0`` asks to share that guest's VEK: unknown handle -> INVALID_GUEST;
           policies differ or the other guest has NOKS -> POLICY_FAILURE;
        4. no free guest context -> RESOURCE_LIMIT;
        5. policy ES on a platform not INIT'ed with ES -> UNSUPPORTED.
        """
        return self._start_guest(policy & 0xFFFF_FFFF, dh_cert, session, handle, GuestState.LUPDATE)

    def _start_guest(self, policy: int, dh_cert: bytes | None, session: bytes | None, handle: int,
                     state: GuestState) -> LaunchStartResult:
        """LAUNCH_START and RECEIVE_START: a new guest context in ``state``."""
        if self.state not in (PlatformState.INIT, PlatformState.WORKING):
            return LaunchStartResult(SevStatus.INVALID_PLATFORM_STATE)
        receiving = state == GuestState.RUPDATE
        if receiving and dh_cert is None:
            return LaunchStartResult(SevStatus.INVALID_LEN)
        channel = TransportKeys(tek=bytes(16), tik=bytes(16))
        if dh_cert is not None:
            if session is None or len(session) != SESSION_BLOB_LEN:
                return LaunchStartResult(SevStatus.INVALID_LEN)
            if len(dh_cert) != 97:
                return LaunchStartResult(SevStatus.INVALID_LEN)
            peer = load_public(dh_cert)
            if peer is None:
                return LaunchStartResult(SevStatus.INVALID_CERTIFICATE)
            blob = SessionBlob.from_bytes(session)
            status, keys = open_session(ecdh_z(self._pdh, peer), blob)
            if status != SevStatus.SUCCESS:
                return LaunchStartResult(status)
            if not hmac.compare_digest(policy_mac(policy, keys.tik), blob.policy_mac):
                return LaunchStartResult(SevStatus.BAD_MEASUREMENT)
            if not receiving:
                status = check_policy_fields(policy, self.version.api_major, self.version.api_minor)
                if status != SevStatus.SUCCESS:
                    return LaunchStartResult(status)
            channel = keys
        if handle == 0:
            vek_seed = self._rng.randbytes(32)
        else:
            shared = self._guests.get(handle)
            if shared is None:
                return LaunchStartResult(SevStatus.INVALID_GUEST)
            if shared.policy != policy or shared.policy & POLICY_NOKS:
                return LaunchStartResult(SevStatus.POLICY_FAILURE)
            vek_seed = shared.vek_seed
        new_handle = next((h for h in range(1, self.max_guests + 1) if h not in self._guests), None)
        if new_handle is None:
            return LaunchStartResult(SevStatus.RESOURCE_LIMIT)
        if policy & POLICY_ES and not self._config_flags & INIT_FLAG_ES:
            return LaunchStartResult(SevStatus.UNSUPPORTED)
        self._guests[new_handle] = _Guest(
            handle=new_handle, policy=policy, vek_seed=vek_seed, channel=channel, state=state
        )
        self.state = PlatformState.WORKING
        return LaunchStartResult(SevStatus.SUCCESS, new_handle)

    def launch_update_data(self, handle: int, paddr: int, length: int) -> SevStatus:
        """LAUNCH_UPDATE_DATA: measure ``length`` bytes at system PA ``paddr`` and encrypt them
        in place under the guest's key.

        Checks: WORKING; handle (INVALID_GUEST); guest LUPDATE (INVALID_GUEST_STATE); guest
        activated (INACTIVE); ``paddr`` 16-byte aligned (INVALID_ADDRESS); ``length`` a
        positive multiple of 16 (INVALID_LEN); the range below the C-bit (INVALID_ADDRESS).

        The plaintext is read as the host sees it (ASID 0, C = 0), fed unchanged into the
        SHA-256 launch digest, and written back through the engine with ASID = the guest's
        and C = 1, so the engine encrypts it with the guest's key.
        """
        status, guest = self._check_guest(handle, GuestState.LUPDATE)
        if status != SevStatus.SUCCESS:
            return status
        if guest.inactive:
            return SevStatus.INACTIVE
        if not 0 <= paddr < _U64_LIMIT or paddr % 16:
            return SevStatus.INVALID_ADDRESS
        if not 0 < length < _U32_LIMIT or length % 16:
            return SevStatus.INVALID_LEN
        if not self._range_ok(paddr, length):
            return SevStatus.INVALID_ADDRESS
        # In scratch-buffer chunks, as the firmware does, so memory use does not grow with length.
        for offset in range(0, length, SCRATCH_BUF_LEN):
            chunk = min(SCRATCH_BUF_LEN, length - offset)
            plain = self._read_host(paddr + offset, chunk)
            if plain is None:
                return SevStatus.HWERROR_PLATFORM
            guest.ld.update(plain)
            status = self._write_guest(guest, paddr + offset, plain)
            if status != SevStatus.SUCCESS:
                return status
        return SevStatus.SUCCESS

    def launch_update_vmsa(self, handle: int, paddr: int, length: int = VMSA_BYTES) -> SevStatus:
        """LAUNCH_UPDATE_VMSA (SEV-ES): measure the vCPU's initial VMSA at ``paddr`` and encrypt
        it in place under the guest's key, as LAUNCH_UPDATE_DATA does for data.

        Checks: WORKING; handle; guest LUPDATE; the guest's policy has ES (UNSUPPORTED, as the
        firmware's SEND/RECEIVE_UPDATE_VMSA answer; unverified for LAUNCH); activated
        (INACTIVE); ``paddr`` 4 KiB aligned (INVALID_ADDRESS) and ``length`` one page
        (INVALID_LEN) (page granularity: unverified); the range in DRAM (INVALID_ADDRESS).
        """
        status, guest = self._check_guest(handle, GuestState.LUPDATE)
        if status != SevStatus.SUCCESS:
            return status
        if not guest.policy & POLICY_ES:
            return SevStatus.UNSUPPORTED
        if guest.inactive:
            return SevStatus.INACTIVE
        if not 0 <= paddr < _U64_LIMIT or paddr % VMSA_BYTES:
            return SevStatus.INVALID_ADDRESS
        if length != VMSA_BYTES:
            return SevStatus.INVALID_LEN
        if not self._range_ok(paddr, length):
            return SevStatus.INVALID_ADDRESS
        plain = self._read_host(paddr, length)
        if plain is None:
            return SevStatus.HWERROR_PLATFORM
        guest.ld.update(plain)
        guest.vmsa_paddr = paddr
        return self._write_guest(guest, paddr, plain)

    def launch_measure(self, handle: int, length: int = MEASUREMENT_LEN) -> LaunchMeasureResult:
        """LAUNCH_MEASURE: LUPDATE -> LSECRET; returns HMAC(TIK; 0x04 || version || policy ||
        LD || MNONCE) || MNONCE.

        Checks: WORKING; handle; guest LUPDATE; output buffer ``length`` >= 48 (INVALID_LEN,
        with the required length returned).
        """
        status, guest = self._check_guest(handle, GuestState.LUPDATE)
        if status != SevStatus.SUCCESS:
            return LaunchMeasureResult(status)
        if length < MEASUREMENT_LEN:
            return LaunchMeasureResult(SevStatus.INVALID_LEN)
        mnonce = self._rng.randbytes(16)
        mac = measurement_mac(
            guest.channel.tik,
            self.version.api_major,
            self.version.api_minor,
            self.version.build,
            guest.policy,
            guest.ld.digest(),
            mnonce,
        )
        guest.measure = mac
        guest.state = GuestState.LSECRET
        return LaunchMeasureResult(SevStatus.SUCCESS, Measurement(mac, mnonce).to_bytes())

    def launch_secret(
        self, handle: int, header: bytes, guest_paddr: int, guest_len: int, trans: bytes
    ) -> SevStatus:
        """LAUNCH_SECRET: check, decrypt and inject a guest-owner secret into guest memory.

        Checks, in order: WORKING; handle; ``guest_paddr`` 16-byte aligned (INVALID_ADDRESS);
        header 52 bytes, ``guest_len`` a positive multiple of 16, at most 0x5000, equal to
        ``len(trans)`` (INVALID_LEN); guest LSECRET (INVALID_GUEST_STATE); activated
        (INACTIVE); range below the C-bit (INVALID_ADDRESS, model); packet MAC under TIK,
        which covers the launch measurement (BAD_MEASUREMENT); compressed flag (UNSUPPORTED).
        Then ``AES-128-CTR(trans; TEK, IV)`` is written to ``guest_paddr`` under the guest's key.
        """
        if self.state != PlatformState.WORKING:
            return SevStatus.INVALID_PLATFORM_STATE
        guest = self._guests.get(handle)
        if guest is None:
            return SevStatus.INVALID_GUEST
        if guest_paddr % 16:
            return SevStatus.INVALID_ADDRESS
        if (
            len(header) != PACKET_HEADER_LEN
            or guest_len <= 0
            or guest_len % 16
            or guest_len > SCRATCH_BUF_LEN
            or guest_len != len(trans)
        ):
            return SevStatus.INVALID_LEN
        if guest.state != GuestState.LSECRET:
            return SevStatus.INVALID_GUEST_STATE
        if guest.inactive:
            return SevStatus.INACTIVE
        if not self._range_ok(guest_paddr, guest_len):
            return SevStatus.INVALID_ADDRESS
        hdr = PacketHeader.from_bytes(header)
        expected = secret_mac(guest.channel.tik, hdr.flags, hdr.iv, guest_len, trans, guest.measure)
        if not hmac.compare_digest(expected, hdr.mac):
            return SevStatus.BAD_MEASUREMENT
        if hdr.flags & PACKET_FLAG_COMPRESSED:
            return SevStatus.UNSUPPORTED
        return self._write_guest(guest, guest_paddr, aes128_ctr(guest.channel.tek, hdr.iv, trans))

    def launch_finish(self, handle: int) -> SevStatus:
        """LAUNCH_FINISH: LSECRET -> RUNNING; a pending ASID becomes valid (in use); the
        channel is closed and the launch digest zeroed."""
        status, guest = self._check_guest(handle, GuestState.LSECRET)
        if status != SevStatus.SUCCESS:
            return status
        if guest.pending:
            self._enable_asid(guest)
        guest.channel = TransportKeys(tek=bytes(16), tik=bytes(16))
        guest.ld = hashlib.sha256()
        guest.state = GuestState.RUNNING
        return SevStatus.SUCCESS

    # -- debugging --------------------------------------------------------------------------------

    def _dbg_checks(self, handle: int, src_paddr: int, dst_paddr: int, length: int):
        if self.state != PlatformState.WORKING:
            return SevStatus.INVALID_PLATFORM_STATE, None
        if not (_aligned16(src_paddr) and _aligned16(dst_paddr)):
            return SevStatus.INVALID_ADDRESS, None
        if not 0 < length < _U32_LIMIT or length % 16:
            return SevStatus.INVALID_LEN, None
        guest = self._guests.get(handle)
        if guest is None:
            return SevStatus.INVALID_GUEST, None
        if guest.policy & POLICY_NODBG:
            return SevStatus.POLICY_FAILURE, None
        if guest.inactive:
            return SevStatus.INACTIVE, None
        if not (self._range_ok(src_paddr, length) and self._range_ok(dst_paddr, length)):
            return SevStatus.INVALID_ADDRESS, None
        return SevStatus.SUCCESS, guest

    def dbg_decrypt(self, handle: int, src_paddr: int, dst_paddr: int, length: int) -> SevStatus:
        """DBG_DECRYPT: copy ``length`` bytes of guest memory at ``src_paddr``, decrypted with the
        guest's key, to ``dst_paddr`` in plaintext (C = 0), for a debugger.

        Checks in the firmware's order: WORKING; both addresses 16-byte aligned
        (INVALID_ADDRESS); ``length`` a positive multiple of 16 that fits 32 bits (INVALID_LEN);
        handle (INVALID_GUEST); NODBG policy (POLICY_FAILURE); then (``debug_crypt_common``,
        unverified) the guest has an ASID (INACTIVE) and both ranges lie in DRAM below the
        C-bit (INVALID_ADDRESS).
        """
        status, guest = self._dbg_checks(handle, src_paddr, dst_paddr, length)
        if status != SevStatus.SUCCESS:
            return status
        plain = self._read_guest(guest, src_paddr, length)
        if plain is None:
            return SevStatus.HWERROR_PLATFORM
        return self._write_host(dst_paddr, plain)

    def dbg_encrypt(self, handle: int, src_paddr: int, dst_paddr: int, length: int) -> SevStatus:
        """DBG_ENCRYPT: write the plaintext at ``src_paddr`` (C = 0) into guest memory at
        ``dst_paddr`` under the guest's key (a debugger's store). Checks as :meth:`dbg_decrypt`."""
        status, guest = self._dbg_checks(handle, src_paddr, dst_paddr, length)
        if status != SevStatus.SUCCESS:
            return status
        plain = self._read_host(src_paddr, length)
        if plain is None:
            return SevStatus.HWERROR_PLATFORM
        return self._write_guest(guest, dst_paddr, plain)

    # -- migration: the source ---------------------------------------------------------------

    def send_start(self, handle: int, target: PlatformCertificates | None) -> SendStartResult:
        """SEND_START: RUNNING -> SUPDATE; wrap fresh transport keys for the target's PDH.

        Checks in the firmware's order: WORKING; handle (INVALID_GUEST); guest RUNNING
        (INVALID_GUEST_STATE); NOSEND (POLICY_FAILURE); policy SEV: the target's chain
        validates against the AMD root (BAD_SIGNATURE) and its API version is at least the
        policy's (POLICY_FAILURE); policy DOMAIN: the target's OCA signs its PDH
        (BAD_SIGNATURE) and is this platform's OCA (POLICY_FAILURE); the target's PDH is a
        P-384 point (INVALID_CERTIFICATE; no certificates at all: INVALID_LEN).
        """
        if self.state != PlatformState.WORKING:
            return SendStartResult(SevStatus.INVALID_PLATFORM_STATE)
        guest = self._guests.get(handle)
        if guest is None:
            return SendStartResult(SevStatus.INVALID_GUEST)
        if guest.state != GuestState.RUNNING:
            return SendStartResult(SevStatus.INVALID_GUEST_STATE)
        if guest.policy & POLICY_NOSEND:
            return SendStartResult(SevStatus.POLICY_FAILURE)
        if target is None:
            return SendStartResult(SevStatus.INVALID_LEN)
        if guest.policy & POLICY_SEV:
            status = validate_platform(target)
            if status != SevStatus.SUCCESS:
                return SendStartResult(status)
            if not api_version_supported(guest.policy, target.api_major, target.api_minor):
                return SendStartResult(SevStatus.POLICY_FAILURE)
        if guest.policy & POLICY_DOMAIN:
            status = validate_domain(target, self._certs.oca)
            if status != SevStatus.SUCCESS:
                return SendStartResult(status)
        peer = load_public(target.pdh)
        if peer is None:
            return SendStartResult(SevStatus.INVALID_CERTIFICATE)
        blob, keys = create_session(self._rng, self._pdh, peer, guest.policy)
        guest.channel = keys
        guest.state = GuestState.SUPDATE
        return SendStartResult(SevStatus.SUCCESS, guest.policy, self.pdh_public, blob.to_bytes())

    def _send_update(self, handle: int, guest_paddr: int, length: int, vmsa: bool) -> TransportPacket:
        status, guest = self._check_guest(handle, GuestState.SUPDATE)
        if status != SevStatus.SUCCESS:
            return TransportPacket(status)
        if vmsa and not guest.policy & POLICY_ES:
            return TransportPacket(SevStatus.UNSUPPORTED)
        if guest.inactive:
            return TransportPacket(SevStatus.INACTIVE)
        if not 0 < length <= SCRATCH_BUF_LEN or length % 16:
            return TransportPacket(SevStatus.INVALID_LEN)
        if not _aligned16(guest_paddr) or not self._range_ok(guest_paddr, length):
            return TransportPacket(SevStatus.INVALID_ADDRESS)
        plain = self._read_guest(guest, guest_paddr, length)
        if plain is None:
            return TransportPacket(SevStatus.HWERROR_PLATFORM)
        iv = self._rng.randbytes(16)
        trans = aes128_ctr(guest.channel.tek, iv, plain)
        mac = transport_mac(CTX_VMSA if vmsa else CTX_DATA, guest.channel.tik, 0, iv, length, trans)
        return TransportPacket(SevStatus.SUCCESS, PacketHeader(flags=0, iv=iv, mac=mac).to_bytes(), trans)

    def send_update_data(self, handle: int, guest_paddr: int, length: int) -> TransportPacket:
        """SEND_UPDATE_DATA: guest memory at system PA ``guest_paddr``, decrypted with the
        guest's key and re-encrypted with TEK (AES-128-CTR, fresh IV), MAC under TIK.

        Checks: WORKING; handle; guest SUPDATE; activated (INACTIVE); ``length`` a positive
        multiple of 16, at most 0x5000 (INVALID_LEN); ``guest_paddr`` 16-byte aligned and in
        DRAM (INVALID_ADDRESS).
        """
        return self._send_update(handle, guest_paddr, length, vmsa=False)

    def send_update_vmsa(self, handle: int, guest_paddr: int, length: int = VMSA_BYTES) -> TransportPacket:
        """SEND_UPDATE_VMSA: as SEND_UPDATE_DATA for an ES guest's VMSA (not ES: UNSUPPORTED)."""
        return self._send_update(handle, guest_paddr, length, vmsa=True)

    def send_finish(self, handle: int) -> SevStatus:
        """SEND_FINISH: SUPDATE -> SENT; the channel is closed. The guest can no longer be
        ACTIVATEd here; the hypervisor DEACTIVATEs and DECOMMISSIONs it."""
        status, guest = self._check_guest(handle, GuestState.SUPDATE)
        if status != SevStatus.SUCCESS:
            return status
        guest.channel = TransportKeys(tek=bytes(16), tik=bytes(16))
        guest.state = GuestState.SENT
        return SevStatus.SUCCESS

    def send_cancel(self, handle: int) -> SevStatus:
        """SEND_CANCEL: SUPDATE -> RUNNING; the channel is closed."""
        status, guest = self._check_guest(handle, GuestState.SUPDATE)
        if status != SevStatus.SUCCESS:
            return status
        guest.channel = TransportKeys(tek=bytes(16), tik=bytes(16))
        guest.state = GuestState.RUNNING
        return SevStatus.SUCCESS

    # -- migration: the target ---------------------------------------------------------------

    def receive_start(self, policy: int, dh_cert: bytes, session: bytes,
                      handle: int = 0) -> LaunchStartResult:
        """RECEIVE_START: a new guest in RUPDATE with a fresh VEK (or ``handle``'s, as
        LAUNCH_START shares keys); INIT -> WORKING.

        Checks as LAUNCH_START with a DH certificate (``dh_cert`` is the sender's PDH from
        SEND_START): session blob length (INVALID_LEN); the certificate (INVALID_LEN,
        INVALID_CERTIFICATE); WRAP_MAC and POLICY_MAC (BAD_MEASUREMENT); key sharing; free
        handle (RESOURCE_LIMIT); ES on a non-ES platform (UNSUPPORTED). Unlike LAUNCH_START,
        the policy's API version and reserved bits are not checked here (``sev_mcmd.c``).
        """
        return self._start_guest(policy & 0xFFFF_FFFF, dh_cert, session, handle, GuestState.RUPDATE)

    def _receive_update(self, handle: int, header: bytes, trans: bytes, guest_paddr: int,
                        guest_len: int, vmsa: bool) -> SevStatus:
        status, guest = self._check_guest(handle, GuestState.RUPDATE)
        if status != SevStatus.SUCCESS:
            return status
        if vmsa and not guest.policy & POLICY_ES:
            return SevStatus.UNSUPPORTED
        if guest.inactive:
            return SevStatus.INACTIVE
        if (not 0 < len(trans) <= SCRATCH_BUF_LEN or guest_len != len(trans) or guest_len % 16
                or len(header) < PACKET_HEADER_LEN):
            return SevStatus.INVALID_LEN
        if not _aligned16(guest_paddr) or not self._range_ok(guest_paddr, guest_len):
            return SevStatus.INVALID_ADDRESS
        hdr = PacketHeader.from_bytes(bytes(header[:PACKET_HEADER_LEN]))
        if hdr.flags & PACKET_FLAG_COMPRESSED:
            return SevStatus.UNSUPPORTED
        expected = transport_mac(CTX_VMSA if vmsa else CTX_DATA, guest.channel.tik, hdr.flags, hdr.iv,
                                 guest_len, trans)
        if not hmac.compare_digest(expected, hdr.mac):
            return SevStatus.BAD_MEASUREMENT
        if vmsa:
            guest.vmsa_paddr = guest_paddr
        return self._write_guest(guest, guest_paddr, aes128_ctr(guest.channel.tek, hdr.iv, trans))

    def receive_update_data(self, handle: int, header: bytes, trans: bytes, guest_paddr: int,
                            guest_len: int) -> SevStatus:
        """RECEIVE_UPDATE_DATA: check a SEND_UPDATE_DATA packet and write its data at
        ``guest_paddr`` under this guest's key.

        Checks: WORKING; handle; guest RUPDATE; activated (INACTIVE); ``guest_len`` equal to
        ``len(trans)``, a positive multiple of 16, at most 0x5000, header 52 bytes
        (INVALID_LEN); ``guest_paddr`` aligned and in DRAM (INVALID_ADDRESS); compressed
        flag (UNSUPPORTED); the MAC under TIK (BAD_MEASUREMENT: tampered or replayed into
        another session).
        """
        return self._receive_update(handle, header, trans, guest_paddr, guest_len, vmsa=False)

    def receive_update_vmsa(self, handle: int, header: bytes, trans: bytes, guest_paddr: int,
                            guest_len: int = VMSA_BYTES) -> SevStatus:
        """RECEIVE_UPDATE_VMSA: as RECEIVE_UPDATE_DATA for an ES guest's VMSA (not ES: UNSUPPORTED)."""
        return self._receive_update(handle, header, trans, guest_paddr, guest_len, vmsa=True)

    def receive_finish(self, handle: int) -> SevStatus:
        """RECEIVE_FINISH: RUPDATE -> RUNNING; a pending ASID becomes valid; channel closed."""
        status, guest = self._check_guest(handle, GuestState.RUPDATE)
        if status != SevStatus.SUCCESS:
            return status
        if guest.pending:
            self._enable_asid(guest)
        guest.channel = TransportKeys(tek=bytes(16), tik=bytes(16))
        guest.state = GuestState.RUNNING
        return SevStatus.SUCCESS

    # -- ASIDs -------------------------------------------------------------------------------

    def activate(self, handle: int, asid: int) -> SevStatus:
        """ACTIVATE: bind the guest to ``asid`` and load its key into slot ``asid``.

        Checks, in order: WORKING; handle; ``asid`` 0 or above the maximum (INVALID_ASID);
        ASID allocated or in use by any guest (ASID_OWNED); guest already has an ASID
        (ACTIVE); guest SENT (INVALID_GUEST_STATE); ASID dirty on some CCX (DFFLUSH_REQUIRED);
        ASID not clean on every CCX (ASID_OWNED); SEV-ES range: an ES guest needs
        ``asid < min_sev_asid``, any other guest ``asid >= min_sev_asid`` (INVALID_ASID).

        A RUNNING guest's ASID is valid at once (in use); otherwise it is pending (allocated)
        until LAUNCH_FINISH.
        """
        if self.state != PlatformState.WORKING:
            return SevStatus.INVALID_PLATFORM_STATE
        guest = self._guests.get(handle)
        if guest is None:
            return SevStatus.INVALID_GUEST
        if asid <= 0 or asid > self.max_asid:
            return SevStatus.INVALID_ASID
        if self._asid_in_use[asid] or self._asid_allocated[asid]:
            return SevStatus.ASID_OWNED
        if not guest.inactive:
            return SevStatus.ACTIVE
        if guest.state == GuestState.SENT:
            return SevStatus.INVALID_GUEST_STATE
        if self._asid_dirty[asid]:
            return SevStatus.DFFLUSH_REQUIRED
        if self._asid_clean[asid] != self._ccx_present:
            return SevStatus.ASID_OWNED
        if bool(guest.policy & POLICY_ES) != (asid < self.min_sev_asid):
            return SevStatus.INVALID_ASID
        key1, key2 = derive_vek(guest.vek_seed)
        if not self._key_program(asid, Command.SET_KEY_DIRECT, key1, key2):
            return SevStatus.HWERROR_PLATFORM
        self._keyed_slots.add(asid)
        guest.asid = asid
        guest.ccxs = self._ccx_present
        self._asid_clean[asid] &= ~guest.ccxs
        if guest.state in (GuestState.RUNNING, GuestState.SUPDATE):
            self._enable_asid(guest)
        else:
            guest.pending = True
            self._asid_allocated[asid] |= guest.ccxs
        return SevStatus.SUCCESS

    def deactivate(self, handle: int) -> SevStatus:
        """DEACTIVATE: unbind the guest's ASID.

        Checks: WORKING; handle; the guest has an ASID (INACTIVE). The ASID becomes invalid;
        CCXs where it was in use become dirty and their cores lose WBINVD_DONE; CCXs where it
        was only allocated become clean. The key stays in the engine (see the module notes).
        """
        if self.state != PlatformState.WORKING:
            return SevStatus.INVALID_PLATFORM_STATE
        guest = self._guests.get(handle)
        if guest is None:
            return SevStatus.INVALID_GUEST
        if guest.inactive:
            return SevStatus.INACTIVE
        self._release_asid(guest)
        return SevStatus.SUCCESS

    def decommission(self, handle: int) -> SevStatus:
        """DECOMMISSION: free the guest context; the last guest takes WORKING back to INIT.

        Checks: WORKING; handle; the guest still holds an ASID (ACTIVE: deactivate first).
        """
        if self.state != PlatformState.WORKING:
            return SevStatus.INVALID_PLATFORM_STATE
        guest = self._guests.get(handle)
        if guest is None:
            return SevStatus.INVALID_GUEST
        if not guest.inactive:
            return SevStatus.ACTIVE
        del self._guests[handle]
        if not self._guests:
            self.state = PlatformState.INIT
        return SevStatus.SUCCESS

    def guest_status(self, handle: int) -> GuestStatus:
        """GUEST_STATUS: needs INIT or WORKING; an unknown handle answers SUCCESS, state 0."""
        if self.state == PlatformState.UNINIT:
            return GuestStatus(SevStatus.INVALID_PLATFORM_STATE)
        guest = self._guests.get(handle)
        if guest is None:
            return GuestStatus(SevStatus.SUCCESS)
        return GuestStatus(SevStatus.SUCCESS, policy=guest.policy, asid=guest.asid, state=guest.state)

    # -- internals -----------------------------------------------------------------------------

    def _check_guest(self, handle: int, state: GuestState) -> tuple[SevStatus, _Guest | None]:
        """The common prefix of the LAUNCH_* checks: WORKING, a known handle, the right state."""
        if self.state != PlatformState.WORKING:
            return SevStatus.INVALID_PLATFORM_STATE, None
        guest = self._guests.get(handle)
        if guest is None:
            return SevStatus.INVALID_GUEST, None
        if guest.state != state:
            return SevStatus.INVALID_GUEST_STATE, None
        return SevStatus.SUCCESS, guest

    def _enable_asid(self, guest: _Guest) -> None:
        asid = guest.asid
        self._asid_valid[asid] |= guest.ccxs
        self._asid_in_use[asid] |= guest.ccxs
        self._asid_allocated[asid] &= ~guest.ccxs
        self._asid_clean[asid] &= ~guest.ccxs
        guest.pending, guest.active = False, True

    def _release_asid(self, guest: _Guest) -> None:
        """DEACTIVATE's bookkeeping (``sev_guest_deactivate`` and ``sev_mcmd_deactivate``)."""
        asid, ccxs = guest.asid, guest.ccxs
        in_use = self._asid_in_use[asid]
        if in_use:
            self._asid_valid[asid] &= ~in_use
            self._wbinvd_done &= ~self._cores_of(in_use)
        allocated = self._asid_allocated[asid] & ccxs
        self._asid_allocated[asid] &= ~allocated
        self._asid_clean[asid] |= allocated
        used = self._asid_in_use[asid] & ccxs
        self._asid_in_use[asid] &= ~used
        self._asid_dirty[asid] |= used
        guest.asid, guest.ccxs = 0, 0
        guest.pending = guest.active = False

    def _cores_of(self, ccxs: int) -> int:
        core_mask = (1 << self.cores_per_ccx) - 1
        cores = 0
        for ccx in range(self.ccx_count):
            if ccxs >> ccx & 1:
                cores |= core_mask << (ccx * self.cores_per_ccx)
        return cores

    def _memory_encryption_enabled(self) -> bool:
        """INIT's hardware check: the engine decodes AMD-style with encryption enabled."""
        mode = self.engine.config_read(ConfigReg.MODE)
        syscfg = self.engine.config_read(ConfigReg.SYSCFG)
        return mode == Mode.AMD and bool(syscfg & SYSCFG_MEM_ENCRYPTION_MOD_EN)

    def _key_program(self, slot: int, command: Command, key1: bytes = bytes(16),
                     key2: bytes = bytes(16)) -> bool:
        status = self.engine.key_program(
            KeyProgramCommand(keyid=slot, command=command, enc_alg=ENC_ALG_XTS_128, key1=key1, key2=key2)
        )
        return status == KeyProgramStatus.PROG_SUCCESS

    def _range_ok(self, paddr: int, length: int) -> bool:
        """The range is a system PA range below the C-bit and inside DRAM
        (``validate_address_range``)."""
        limit = 1 << self._c_bit_pos
        if self.engine.dram.size is not None:
            limit = min(limit, self.engine.dram.size)
        return paddr >= 0 and paddr + length <= limit

    def _access(self, addr: int, asid: int, data: bytes | None = None) -> bytes | None:
        """One line through the engine; ``None`` if the engine answers an error."""
        resp = self.engine.request(
            Request(addr=addr, write=data is not None, asid=asid, data=data, tag=0)
        )
        if resp.error != ErrorCode.OK:
            return None
        return bytes(resp.data)

    def _flush_cpu(self, line: int, asid: int) -> None:
        """Write back and invalidate every CPU-cache alias of ``line`` the firmware may touch
        (host C=0, host C=1 and the guest's private alias), as the firmware's read-sized
        write-back-invalidate does, so DRAM holds the newest data before the firmware reads it
        and no stale line can later overwrite what it writes."""
        if self.cpu is None:
            return
        c_bit = 1 << self._c_bit_pos
        self.cpu.clflush(line, asid=0)
        self.cpu.clflush(line | c_bit, asid=0)
        if asid:
            self.cpu.clflush(line | c_bit, asid=asid)

    def _read_host(self, paddr: int, length: int) -> bytes | None:
        """``length`` bytes at ``paddr`` as the host reads them with C = 0."""
        out = bytearray()
        first = paddr - paddr % _LINE
        for line in range(first, paddr + length, _LINE):
            self._flush_cpu(line, 0)
            data = self._access(line, 0)
            if data is None:
                return None
            out += data
        start = paddr - first
        return bytes(out[start : start + length])

    def _read_guest(self, guest: _Guest, paddr: int, length: int) -> bytes | None:
        """``length`` bytes at ``paddr`` decrypted with the guest's key (``copy_from_x86_encrypted``)."""
        c_bit = 1 << self._c_bit_pos
        out = bytearray()
        first = paddr - paddr % _LINE
        for line in range(first, paddr + length, _LINE):
            self._flush_cpu(line, guest.asid)
            data = self._access(line | c_bit, guest.asid)
            if data is None:
                return None
            out += data
        start = paddr - first
        return bytes(out[start : start + length])

    def _write_host(self, paddr: int, plain: bytes) -> SevStatus:
        """Write ``plain`` at ``paddr`` as the host would with C = 0 (``copy_to_x86``)."""
        end = paddr + len(plain)
        first = paddr - paddr % _LINE
        for line in range(first, end, _LINE):
            self._flush_cpu(line, 0)
            lo, hi = max(paddr, line), min(end, line + _LINE)
            old = self._access(line, 0) if (lo, hi) != (line, line + _LINE) else bytes(_LINE)
            if old is None:
                return SevStatus.HWERROR_PLATFORM
            data = bytearray(old)
            data[lo - line : hi - line] = plain[lo - paddr : hi - paddr]
            if self._access(line, 0, bytes(data)) is None:
                return SevStatus.HWERROR_PLATFORM
        return SevStatus.SUCCESS

    def _write_guest(self, guest: _Guest, paddr: int, plain: bytes) -> SevStatus:
        """Write ``plain`` at ``paddr`` encrypted under the guest's key (``copy_to_x86_encrypted``).

        The engine works on 64-byte lines; a line the 16-byte-granular range covers only in
        part is read back through the guest key, patched and rewritten. XTS encrypts each
        16-byte block on its own, so the blocks outside the range get back the exact
        ciphertext they had.
        """
        c_bit = 1 << self._c_bit_pos
        end = paddr + len(plain)
        first = paddr - paddr % _LINE
        for line in range(first, end, _LINE):
            self._flush_cpu(line, guest.asid)
            lo, hi = max(paddr, line), min(end, line + _LINE)
            if lo == line and hi == line + _LINE:
                data = bytearray(_LINE)
            else:
                old = self._access(line | c_bit, guest.asid)
                if old is None:
                    return SevStatus.HWERROR_PLATFORM
                data = bytearray(old)
            data[lo - line : hi - line] = plain[lo - paddr : hi - paddr]
            if self._access(line | c_bit, guest.asid, bytes(data)) is None:
                return SevStatus.HWERROR_PLATFORM
        return SevStatus.SUCCESS
