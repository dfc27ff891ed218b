// SPDX-License-Identifier: GPL-2.0
/* Test input for the crc pass: the table-driven CRC32C software writes,
 * over packet bytes, the table in .rodata (computed by the compiler from
 * the polynomial). xdp_crc32c starts from ~0, so clang folds the first
 * step's CRC into constants; xdp_crc32c_seeded takes its seed from the
 * packet and keeps the byte in a register needed later. xdp_crc32 is the
 * IEEE CRC-32 (another polynomial), which the pass must leave alone.
 */
#include <linux/bpf.h>
#define SEC(name) __attribute__((section(name), used))

typedef unsigned int u32;
typedef unsigned char u8;

/* The table entry of byte i for the reflected polynomial p. */
#define STEP(c, p) ((c) >> 1 ^ ((c) & 1 ? (p) : 0))
#define ENTRY(i, p) STEP(STEP(STEP(STEP(STEP(STEP(STEP(STEP((u32)(i), p), p), p), p), p), p), p), p)
#define E4(i, p) ENTRY(i, p), ENTRY(i + 1, p), ENTRY(i + 2, p), ENTRY(i + 3, p)
#define E16(i, p) E4(i, p), E4(i + 4, p), E4(i + 8, p), E4(i + 12, p)
#define E64(i, p) E16(i, p), E16(i + 16, p), E16(i + 32, p), E16(i + 48, p)
#define TABLE(p) { E64(0, p), E64(64, p), E64(128, p), E64(192, p) }

static const u32 crc32c_table[256] = TABLE(0x82f63b78u);
static const u32 crc32_table[256] = TABLE(0xedb88320u);

#define CRC(table, crc, b) ((table)[((crc) ^ (b)) & 0xff] ^ ((crc) >> 8))

SEC("xdp")
int xdp_crc32c(struct xdp_md *ctx)
{
	u8 *p = (void *)(long)ctx->data;
	u8 *end = (void *)(long)ctx->data_end;
	u32 crc = ~0u;

	if (p + 12 > end)
		return XDP_PASS;
#pragma unroll
	for (int i = 0; i < 12; i++)
		crc = CRC(crc32c_table, crc, p[i]);
	return ~crc;
}

SEC("xdp")
int xdp_crc32c_seeded(struct xdp_md *ctx)
{
	u8 *p = (void *)(long)ctx->data;
	u8 *end = (void *)(long)ctx->data_end;
	u32 crc, sum = 0;

	if (p + 10 > end)
		return XDP_PASS;
	crc = *(u32 *)p;
#pragma unroll
	for (int i = 4; i < 10; i++) {
		crc = CRC(crc32c_table, crc, p[i]);
		sum += p[i] << i; /* the byte is needed after its step */
	}
	return crc ^ sum;
}

SEC("xdp")
int xdp_crc32(struct xdp_md *ctx)
{
	u8 *p = (void *)(long)ctx->data;
	u8 *end = (void *)(long)ctx->data_end;
	u32 crc = ~0u;

	if (p + 4 > end)
		return XDP_PASS;
#pragma unroll
	for (int i = 0; i < 4; i++)
		crc = CRC(crc32_table, crc, p[i]);
	return ~crc;
}

char LICENSE[] SEC("license") = "GPL";
