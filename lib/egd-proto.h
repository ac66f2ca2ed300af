/* EGD wire codec, shared by the distributor (server) and the EGD client source. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EGD_MAX_READ 255        /* N of 0x01/0x02 and len of 0x03 are one byte */
#define EGD_MAX_REQUEST 259     /* 0x03: cmd, u16 bits, u8 len, 255 bytes */
#define EGD_MAX_PID_REPLY 21    /* length byte + up to 20 decimal digits */
#define EGD_AVAIL_REPLY 4       /* u32 big-endian */

enum egd_cmd {
	EGD_CMD_AVAIL = 0x00,
	EGD_CMD_READ_NB = 0x01,
	EGD_CMD_READ_BLOCK = 0x02,
	EGD_CMD_WRITE = 0x03,
	EGD_CMD_PID = 0x04,
};

struct egd_req {
	enum egd_cmd cmd;
	uint8_t len;            /* READ_NB, READ_BLOCK: bytes asked; WRITE: payload length */
	uint16_t bits;          /* WRITE: entropy the client claims for its payload */
	const uint8_t *data;    /* WRITE payload, points into the parsed buffer */
};

int egd_parse(const uint8_t *buf, size_t n, struct egd_req *ret_req);
ssize_t egd_build_request(uint8_t *buf, size_t size, const struct egd_req *req);
ssize_t egd_build_avail(uint8_t *buf, size_t size, uint32_t count);
ssize_t egd_build_pid(uint8_t *buf, size_t size, unsigned long pid);
ssize_t egd_reply_size(const struct egd_req *req, const uint8_t *buf, size_t n);
uint32_t egd_parse_avail(const uint8_t buf[static EGD_AVAIL_REPLY]);
