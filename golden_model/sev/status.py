"""Numeric interface of the SEV firmware: status codes, command IDs and state encodings.

Every value here is part of the firmware's ABI as the host driver sees it, so each is taken
from the reference digest (``memory-encryption-facts.md`` §2.4-2.7), which restates
``include/uapi/linux/psp-sev.h`` (status codes), ``include/linux/psp-sev.h`` (command IDs,
platform states) and AMD's published firmware ``sev_guest.h`` (guest states).
"""

from enum import IntEnum

from golden_model.named_enum import NamedIntEnum

__all__ = ["SevStatus", "SevCommand", "PlatformState", "GuestState"]


class SevStatus(NamedIntEnum):
    """Status word the firmware writes into CMDRESP[15:0] when a command completes.

    Codes 0x19-0x28 belong to SEV-SNP and are not modelled.
    """

    SUCCESS = 0x00
    INVALID_PLATFORM_STATE = 0x01
    INVALID_GUEST_STATE = 0x02
    INVALID_CONFIG = 0x03
    INVALID_LEN = 0x04
    ALREADY_OWNED = 0x05
    INVALID_CERTIFICATE = 0x06
    POLICY_FAILURE = 0x07
    INACTIVE = 0x08
    INVALID_ADDRESS = 0x09
    BAD_SIGNATURE = 0x0A
    BAD_MEASUREMENT = 0x0B
    ASID_OWNED = 0x0C
    INVALID_ASID = 0x0D
    WBINVD_REQUIRED = 0x0E
    DFFLUSH_REQUIRED = 0x0F
    INVALID_GUEST = 0x10
    INVALID_COMMAND = 0x11
    ACTIVE = 0x12
    HWERROR_PLATFORM = 0x13
    HWERROR_UNSAFE = 0x14
    UNSUPPORTED = 0x15
    INVALID_PARAM = 0x16
    RESOURCE_LIMIT = 0x17
    SECURE_DATA_INVALID = 0x18


class SevCommand(IntEnum):
    """Command IDs written to CMDRESP[23:16] (``enum sev_cmd``; SNP IDs omitted).

    The model implements INIT, SHUTDOWN, PLATFORM_STATUS, PDH_CERT_EXPORT, DF_FLUSH,
    DECOMMISSION, ACTIVATE, DEACTIVATE, GUEST_STATUS, the LAUNCH_* commands (not
    ATTESTATION_REPORT), SEND_*, RECEIVE_* and DBG_*; the others answer INVALID_COMMAND
    through the mailbox dispatcher.
    """

    # Platform commands.
    INIT = 0x001
    SHUTDOWN = 0x002
    FACTORY_RESET = 0x003
    PLATFORM_STATUS = 0x004
    PEK_GEN = 0x005
    PEK_CSR = 0x006
    PEK_CERT_IMPORT = 0x007
    PDH_CERT_EXPORT = 0x008
    PDH_GEN = 0x009
    DF_FLUSH = 0x00A
    DOWNLOAD_FIRMWARE = 0x00B
    GET_ID = 0x00C
    INIT_EX = 0x00D
    # Guest commands.
    DECOMMISSION = 0x020
    ACTIVATE = 0x021
    DEACTIVATE = 0x022
    GUEST_STATUS = 0x023
    LAUNCH_START = 0x030
    LAUNCH_UPDATE_DATA = 0x031
    LAUNCH_UPDATE_VMSA = 0x032
    LAUNCH_MEASURE = 0x033
    LAUNCH_UPDATE_SECRET = 0x034
    LAUNCH_FINISH = 0x035
    ATTESTATION_REPORT = 0x036
    SEND_START = 0x040
    SEND_UPDATE_DATA = 0x041
    SEND_UPDATE_VMSA = 0x042
    SEND_FINISH = 0x043
    SEND_CANCEL = 0x044
    RECEIVE_START = 0x050
    RECEIVE_UPDATE_DATA = 0x051
    RECEIVE_UPDATE_VMSA = 0x052
    RECEIVE_FINISH = 0x053
    DBG_DECRYPT = 0x060
    DBG_ENCRYPT = 0x061


class PlatformState(NamedIntEnum):
    """Platform state as PLATFORM_STATUS reports it."""

    UNINIT = 0
    INIT = 1
    WORKING = 2


class GuestState(NamedIntEnum):
    """Guest state as GUEST_STATUS reports it (0 also means "no such guest")."""

    UNINIT = 0
    LUPDATE = 1
    LSECRET = 2
    RUNNING = 3
    SUPDATE = 4
    RUPDATE = 5
    SENT = 6
