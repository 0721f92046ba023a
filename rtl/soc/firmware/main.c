/* The SoC firmware: the smetest/SEV-dump demonstration through the engine, then measurements.
 *
 * The BIOS (after its memory test, with TME already on) jumps here (ROM_BOOT_ADDRESS).
 * Console lines starting with "MEE-" are parsed by rtl/soc/check.py; keep their format.
 */
#include <stdio.h>
#include <string.h>
#include <stdint.h>

#include <irq.h>
#include <system.h>
#include <libbase/uart.h>
#include <generated/csr.h>
#include <generated/soc.h>

#include "mee.h"

/* Where the demo writes, as DRAM byte offsets (clear of the BIOS's L2-flush area at 0). */
#define DEMO_OFFSET   0x00100000u
#define PUBLIC_OFFSET 0x00100100u
#define BENCH_OFFSET  0x00200000u
#define LINE 64
/* Measurement sizes; the SoC build may override them (rtl.soc.sim --bench-bytes/--chase-hops).
 * The chase needs a power of two (the permutation i -> 389 i + 1 mod n is one cycle then). */
#ifndef MEE_BENCH_BYTES
#define MEE_BENCH_BYTES (32 * 1024)
#endif
#ifndef MEE_CHASE_HOPS
#define MEE_CHASE_HOPS 256
#endif

static const char secret[16] = "My secret is 123";
/* KeyID 1's keys (SET_KEY_DIRECT): printed below so the DRAM-dump checker can recompute XTS. */
static const uint8_t key1[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t key2[16] = {0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
                                 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};

static void hexdump(const char *label, volatile const uint8_t *p, int n)
{
	printf("%-28s", label);
	for (int i = 0; i < n; i++)
		printf("%02x%s", p[i], (i % 16 == 15 && i + 1 < n) ? "\n                            " : " ");
	printf("\n");
}

static void hexkey(const char *name, const uint8_t *k)
{
	printf(" %s=", name);
	for (int i = 0; i < 16; i++)
		printf("%02x", k[i]);
}

static int equal(volatile const uint8_t *p, const void *q, int n)
{
	const uint8_t *b = q;
	for (int i = 0; i < n; i++)
		if (p[i] != b[i])
			return 0;
	return 1;
}

static void write_line(unsigned keyid, uint32_t offset, const uint8_t *line)
{
	volatile uint8_t *dst = mee_alias(keyid, offset);
	printf("MEE-WROTE keyid=%u offset=0x%08lx data=", keyid, offset);
	for (int i = 0; i < LINE; i++) {
		dst[i] = line[i];
		printf("%02x", line[i]);
	}
	printf("\n");
}

static int program(unsigned keyid, unsigned cmd, const char *what, const uint8_t *k1, const uint8_t *k2)
{
	int s = mee_key_program(keyid, cmd, k1, k2);
	printf("MEE-KP keyid=%u cmd=%s status=%d %s\n", keyid, what, s, mee_status_name(s));
	return s;
}

static uint32_t cycles(void)
{
	timer0_uptime_latch_write(1);
	return timer0_uptime_cycles_read(); /* low 32 bits: runs here are far shorter than 2^32 */
}

static int demo(void)
{
	int fails = 0;
	uint32_t info = mee_info_read();
	printf("MEE-INFO bypass=%lu tme_at_boot=%lu boot_status=%lu keyid_bits=%lu\n",
	       info & 1, (info >> 1) & 1, (info >> 2) & 7, (info >> 8) & 0xff);

	/* Key programming: DIRECT, RANDOM, NO_ENCRYPT, and a KeyID that does not exist. */
	fails += program(1, MEE_SET_KEY_DIRECT, "SET_KEY_DIRECT", key1, key2) != MEE_PROG_SUCCESS;
	fails += program(2, MEE_SET_KEY_RANDOM, "SET_KEY_RANDOM", NULL, NULL) != MEE_PROG_SUCCESS;
	fails += program(3, MEE_NO_ENCRYPT, "NO_ENCRYPT", NULL, NULL) != MEE_PROG_SUCCESS;
	fails += program(1u << MEE_KEYID_BITS, MEE_SET_KEY_DIRECT, "SET_KEY_DIRECT", key1, key2) != MEE_INVALID_KEYID;
	printf("MEE-KEY keyid=1");
	hexkey("key1", key1);
	hexkey("key2", key2);
	printf("\n");
	printf("MEE-KEYCSR after-command key1_0=%08lx (keys are write-only)\n", mee_kp_key1_0_read());

	/* The smetest: the secret written through KeyID 1, read back through three aliases. */
	uint8_t line[LINE];
	for (int i = 0; i < LINE; i++)
		line[i] = i < 16 ? (uint8_t)secret[i] : (uint8_t)(0x40 + i);
	write_line(1, DEMO_OFFSET, line);
	/* A plaintext line through the NO_ENCRYPT KeyID (it must reach DRAM unchanged). */
	static const char public_text[] = "public line, NO_ENCRYPT KeyID 3";
	for (int i = 0; i < LINE; i++)
		line[i] = (uint8_t)public_text[i % (sizeof(public_text) - 1)];
	write_line(3, PUBLIC_OFFSET, line);
	mee_flush();

	hexdump("KeyID 1 (plaintext):", mee_alias(1, DEMO_OFFSET), 16);
	hexdump("KeyID 2 (other key):", mee_alias(2, DEMO_OFFSET), 16);
	hexdump("KeyID 3 (NO_ENCRYPT alias):", mee_alias(3, DEMO_OFFSET), 16);
	hexdump("KeyID 0 (TME key):", mee_alias(0, DEMO_OFFSET), 16);
	int ok1 = equal(mee_alias(1, DEMO_OFFSET), secret, 16);
	int ok2 = !equal(mee_alias(2, DEMO_OFFSET), secret, 16);
	int ok3 = !equal(mee_alias(3, DEMO_OFFSET), secret, 16);
	printf("MEE-CHECK keyid1_plaintext=%d keyid2_garbage=%d noencrypt_ciphertext=%d\n", ok1, ok2, ok3);
	fails += !ok1 + !ok2 + !ok3;

	/* CLEAR_KEY: KeyID 1 now behaves like KeyID 0, and the line no longer decrypts. */
	fails += program(1, MEE_CLEAR_KEY, "CLEAR_KEY", NULL, NULL) != MEE_PROG_SUCCESS;
	mee_flush();
	hexdump("KeyID 1 after CLEAR_KEY:", mee_alias(1, DEMO_OFFSET), 16);
	int ok4 = !equal(mee_alias(1, DEMO_OFFSET), secret, 16);
	printf("MEE-CHECK cleared_garbage=%d\n", ok4);
	fails += !ok4;
	mee_flush();
	return fails;
}

/* Sequential write then read bandwidth (32-bit accesses, KeyID 0 = TME), and a pointer chase
 * over lines spread wider than L1 + L2, so every hop is a DRAM read through the engine. */
static void bench(void)
{
	const uint32_t bytes = MEE_BENCH_BYTES;
	volatile uint32_t *buf = (volatile uint32_t *)mee_alias(0, BENCH_OFFSET);
	mee_flush();
	uint32_t t0 = cycles();
	for (uint32_t i = 0; i < bytes / 4; i++)
		buf[i] = i;
	/* Not counting the final flush: with a region several times the L2, the loop itself
	 * already writes back (encrypts) all but the last L2-full of lines. */
	uint32_t t1 = cycles();
	mee_flush();
	uint32_t sum = 0;
	uint32_t t1r = cycles();
	for (uint32_t i = 0; i < bytes / 4; i++)
		sum += buf[i];
	uint32_t t2 = cycles();

	/* Pointer chase: MEE_CHASE_HOPS lines at a 256-byte stride in a scrambled order. */
	const uint32_t nodes = MEE_CHASE_HOPS, stride = 256;
	volatile uint8_t *base = mee_alias(0, BENCH_OFFSET + 0x40000);
	for (uint32_t i = 0; i < nodes; i++) {
		uint32_t next = (i * 389 + 1) % nodes;
		*(volatile uint32_t *)(base + i * stride) = (uint32_t)(uintptr_t)(base + next * stride);
	}
	mee_flush();
	volatile uint32_t *p = (volatile uint32_t *)base;
	uint32_t t3 = cycles();
	for (uint32_t i = 0; i < nodes; i++)
		p = (volatile uint32_t *)(uintptr_t)*p;
	uint32_t t4 = cycles();
	printf("MEE-BENCH bytes=%lu write_cycles=%lu read_cycles=%lu chase_hops=%lu chase_cycles=%lu sum=%08lx end=%08lx\n",
	       bytes, t1 - t0, t2 - t1r, nodes, t4 - t3, sum, (uint32_t)(uintptr_t)p);
}

int main(void)
{
#ifdef CONFIG_CPU_HAS_INTERRUPT
	irq_setmask(0);
	irq_setie(1);
#endif
	uart_init();
	printf("\nMEE-DEMO start\n");
	int fails = 0;
#ifndef MEE_BYPASS
	fails = demo();
#endif
	bench();
	printf("MEE-DEMO %s fails=%d\n", fails ? "FAIL" : "PASS", fails);
#ifdef CSR_SIM_FINISH_BASE
	sim_finish_finish_write(1);
#endif
	for (;;)
		;
	return 0;
}
