/* Driver for the memory-encryption engine's CSRs: see mee.h. */
#include <generated/csr.h>
#include <generated/soc.h>
#include <system.h>

#include "mee.h"

/* Commands take ~20 cycles in the engine; this bound only turns a hang into a status. */
#define MEE_POLL_LIMIT 100000

static const char *const status_names[] = {
	"PROG_SUCCESS", "INVALID_PROG_CMD", "ENTROPY_ERROR", "INVALID_KEYID",
	"INVALID_ENC_ALG", "DEVICE_BUSY",
};

const char *mee_status_name(int status)
{
	if (status >= 0 && status < (int)(sizeof(status_names) / sizeof(status_names[0])))
		return status_names[status];
	return status == MEE_TIMEOUT ? "TIMEOUT" : "?";
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int mee_key_program(unsigned keyid, unsigned command, const uint8_t key1[16], const uint8_t key2[16])
{
	static const uint8_t zero[16];
	const uint8_t *k1 = key1 ? key1 : zero, *k2 = key2 ? key2 : zero;
	mee_kp_keyid_write(keyid);
	mee_kp_command_write(command);
	mee_kp_enc_alg_write(1); /* AES-XTS-128 */
	mee_kp_key1_0_write(le32(k1 + 0));
	mee_kp_key1_1_write(le32(k1 + 4));
	mee_kp_key1_2_write(le32(k1 + 8));
	mee_kp_key1_3_write(le32(k1 + 12));
	mee_kp_key2_0_write(le32(k2 + 0));
	mee_kp_key2_1_write(le32(k2 + 4));
	mee_kp_key2_2_write(le32(k2 + 8));
	mee_kp_key2_3_write(le32(k2 + 12));
	mee_kp_go_write(1);
	for (int i = 0; i < MEE_POLL_LIMIT; i++) {
		uint32_t s = mee_kp_status_read();
		if (s & 0x80)
			return s & 0x7;
	}
	return MEE_TIMEOUT;
}

int mee_cfg(unsigned addr, int write, uint32_t lo, uint32_t hi, uint32_t *rlo, uint32_t *rhi)
{
	mee_cfg_addr_write(addr);
	mee_cfg_write_write(write ? 1 : 0);
	mee_cfg_data_lo_write(lo);
	mee_cfg_data_hi_write(hi);
	mee_cfg_go_write(1);
	for (int i = 0; i < MEE_POLL_LIMIT; i++) {
		uint32_t s = mee_cfg_status_read();
		if (s & 0x80) {
			if (rlo) *rlo = mee_cfg_rdata_lo_read();
			if (rhi) *rhi = mee_cfg_rdata_hi_read();
			return s & 0x3;
		}
	}
	return MEE_TIMEOUT;
}

volatile uint8_t *mee_alias(unsigned keyid, uint32_t offset)
{
	return (volatile uint8_t *)(MEE_WINDOW_BASE + keyid * MEE_RAM_SIZE + offset);
}

void mee_flush(void)
{
	flush_cpu_dcache();
	flush_l2_cache();
	flush_cpu_dcache();
}
