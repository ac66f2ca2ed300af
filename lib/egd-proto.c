/*
 * EGD codec: requests and replies as bytes, nothing else.  No syscalls, no
 * allocation, no clock, no logging: the caller owns buffers and decides what a
 * violation means (the distributor drops that one connection).
 *
 * A request is complete or not; egd_parse() never consumes a partial one, so a
 * caller may feed it any prefix of the stream and retry when more arrives.
 */
#include <errno.h>
#include <string.h>

#include "egd-proto.h"

/* Fixed part of a request: 1, 2, or 4 bytes (0x03 then carries its payload); < 0 unknown. */
static int egd_fixed_size(unsigned cmd)
{
	switch (cmd) {
	case EGD_CMD_AVAIL:
	case EGD_CMD_PID:
		return 1;
	case EGD_CMD_READ_NB:
	case EGD_CMD_READ_BLOCK:
		return 2;
	case EGD_CMD_WRITE:
		return 4;
	}
	return -EBADMSG;
}

/**
 * egd_parse() - decode the first request in @buf.
 * Return: bytes consumed (> 0), 0 if @buf holds only a prefix of a request,
 * -EBADMSG for an unknown command or a 0x03 claiming more bits than it carries.
 * For 0x03, @ret_req->data points into @buf.  @ret_req is written only on > 0.
 */
int egd_parse(const uint8_t *buf, size_t n, struct egd_req *ret_req)
{
	struct egd_req req = {};
	int fixed;
	size_t need;

	if (n < 1)
		return 0;
	fixed = egd_fixed_size(buf[0]);
	if (fixed < 0)
		return fixed;
	if (n < (size_t)fixed)
		return 0;
	req.cmd = buf[0];
	need = (size_t)fixed;
	if (req.cmd == EGD_CMD_READ_NB || req.cmd == EGD_CMD_READ_BLOCK)
		req.len = buf[1];
	if (req.cmd == EGD_CMD_WRITE) {
		req.bits = (uint16_t)(buf[1] << 8 | buf[2]);
		req.len = buf[3];
		if (req.bits > req.len * 8u)
			return -EBADMSG;
		need += req.len;
		if (n < need)
			return 0;
		req.data = buf + 4;
	}
	*ret_req = req;
	return (int)need;
}

/**
 * egd_build_request() - encode @req into @buf (client side).
 * Return: bytes written, -ENOBUFS if @size is too small, -EINVAL for an
 * unknown command or a 0x03 whose bits exceed its payload.
 */
ssize_t egd_build_request(uint8_t *buf, size_t size, const struct egd_req *req)
{
	int fixed = egd_fixed_size(req->cmd);
	size_t need;

	if (fixed < 0)
		return -EINVAL;
	need = (size_t)fixed;
	if (req->cmd == EGD_CMD_WRITE) {
		if (req->bits > req->len * 8u || (req->len > 0 && !req->data))
			return -EINVAL;
		need += req->len;
	}
	if (size < need)
		return -ENOBUFS;
	buf[0] = (uint8_t)req->cmd;
	if (req->cmd == EGD_CMD_READ_NB || req->cmd == EGD_CMD_READ_BLOCK)
		buf[1] = req->len;
	if (req->cmd == EGD_CMD_WRITE) {
		buf[1] = (uint8_t)(req->bits >> 8);
		buf[2] = (uint8_t)req->bits;
		buf[3] = req->len;
		if (req->len > 0)
			memcpy(buf + 4, req->data, req->len);
	}
	return (ssize_t)need;
}

/**
 * egd_build_avail() - reply to 0x00: @count as u32 big-endian.
 * Return: 4, or -ENOBUFS.
 */
ssize_t egd_build_avail(uint8_t *buf, size_t size, uint32_t count)
{
	if (size < EGD_AVAIL_REPLY)
		return -ENOBUFS;
	buf[0] = (uint8_t)(count >> 24);
	buf[1] = (uint8_t)(count >> 16);
	buf[2] = (uint8_t)(count >> 8);
	buf[3] = (uint8_t)count;
	return EGD_AVAIL_REPLY;
}

uint32_t egd_parse_avail(const uint8_t buf[static EGD_AVAIL_REPLY])
{
	return (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
}

/**
 * egd_build_pid() - reply to 0x04: a length byte, then @pid in ASCII decimal.
 * Return: bytes written, or -ENOBUFS.
 */
ssize_t egd_build_pid(uint8_t *buf, size_t size, unsigned long pid)
{
	char digits[20];
	size_t k = 0;

	do {
		digits[k++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid > 0);
	if (size < k + 1)
		return -ENOBUFS;
	buf[0] = (uint8_t)k;
	for (size_t i = 0; i < k; i++)
		buf[1 + i] = (uint8_t)digits[k - 1 - i];
	return (ssize_t)(k + 1);
}

/**
 * egd_reply_size() - total size of the reply to @req that starts at @buf.
 * Return: size in bytes (0 for 0x03, which has no reply), -EAGAIN if @n bytes
 * do not tell yet, -EBADMSG if the server broke the protocol (0x01 answered
 * with more than asked, empty or non-numeric pid).
 */
ssize_t egd_reply_size(const struct egd_req *req, const uint8_t *buf, size_t n)
{
	switch (req->cmd) {
	case EGD_CMD_AVAIL:
		return EGD_AVAIL_REPLY;
	case EGD_CMD_READ_BLOCK:
		return req->len;
	case EGD_CMD_WRITE:
		return 0;
	case EGD_CMD_READ_NB:
		if (n < 1)
			return -EAGAIN;
		if (buf[0] > req->len)
			return -EBADMSG;
		return 1 + (ssize_t)buf[0];
	case EGD_CMD_PID:
		if (n < 1)
			return -EAGAIN;
		if (buf[0] == 0 || buf[0] > EGD_MAX_PID_REPLY - 1)
			return -EBADMSG;
		for (size_t i = 1; i < n && i <= buf[0]; i++)
			if (buf[i] < '0' || buf[i] > '9')
				return -EBADMSG;
		return 1 + (ssize_t)buf[0];
	}
	return -EBADMSG;
}
