/* Driver for the memory-encryption engine's CSRs (rtl/soc/bridge.py) and its KeyID window. */
#ifndef MEE_H
#define MEE_H

#include <stdint.h>

/* PCONFIG key-program commands and statuses (docs/integration.md section 2). */
enum { MEE_SET_KEY_DIRECT = 0, MEE_SET_KEY_RANDOM = 1, MEE_CLEAR_KEY = 2, MEE_NO_ENCRYPT = 3 };
enum { MEE_PROG_SUCCESS = 0, MEE_INVALID_PROG_CMD = 1, MEE_ENTROPY_ERROR = 2,
       MEE_INVALID_KEYID = 3, MEE_INVALID_ENC_ALG = 4, MEE_DEVICE_BUSY = 5,
       MEE_TIMEOUT = -1 };
/* Configuration registers. */
enum { MEE_CFG_TME_ACTIVATE = 0, MEE_CFG_MODE = 5 };

const char *mee_status_name(int status);
/* Issue one key-program command; returns its PCONFIG status, or MEE_TIMEOUT. */
int mee_key_program(unsigned keyid, unsigned command, const uint8_t key1[16], const uint8_t key2[16]);
/* One configuration access; returns its status (0 OK, 1 LOCKED, 2 INVALID, 3 ENTROPY_ERROR). */
int mee_cfg(unsigned addr, int write, uint32_t lo, uint32_t hi, uint32_t *rlo, uint32_t *rhi);
/* CPU address of DRAM byte *offset* seen through *keyid*. */
volatile uint8_t *mee_alias(unsigned keyid, uint32_t offset);
/* Write back and drop every cached line (L1 is write-through; L2 is write-back). */
void mee_flush(void);

#endif
