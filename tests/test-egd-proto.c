/* Codec tables: bytes -> request, request -> bytes, every split of every request. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "egd-proto.h"
#include "macro.h"

struct parse_case {
	const char *name;
	uint8_t bytes[EGD_MAX_REQUEST + 4];
	size_t n;
	int ret;                /* expected egd_parse() result on the full buffer */
	enum egd_cmd cmd;
	uint8_t len;
	uint16_t bits;
};

static const struct parse_case parse_cases[] = {
	{ "avail", { 0x00 }, 1, 1, EGD_CMD_AVAIL, 0, 0 },
	{ "read-nb", { 0x01, 0x20 }, 2, 2, EGD_CMD_READ_NB, 0x20, 0 },
	{ "read-nb-zero", { 0x01, 0x00 }, 2, 2, EGD_CMD_READ_NB, 0, 0 },
	{ "read-block-qemu", { 0x02, 0x40 }, 2, 2, EGD_CMD_READ_BLOCK, 0x40, 0 },
	{ "read-block-max", { 0x02, 0xff }, 2, 2, EGD_CMD_READ_BLOCK, 0xff, 0 },
	{ "read-block-zero", { 0x02, 0x00 }, 2, 2, EGD_CMD_READ_BLOCK, 0, 0 },
	{ "write", { 0x03, 0x00, 0x10, 0x02, 0xaa, 0xbb }, 6, 6, EGD_CMD_WRITE, 2, 16 },
	{ "write-empty", { 0x03, 0x00, 0x00, 0x00 }, 4, 4, EGD_CMD_WRITE, 0, 0 },
	{ "pid", { 0x04 }, 1, 1, EGD_CMD_PID, 0, 0 },
	{ "pipelined", { 0x02, 0x40, 0x02, 0x40 }, 4, 2, EGD_CMD_READ_BLOCK, 0x40, 0 },
	{ "unknown", { 0x05 }, 1, -EBADMSG, 0, 0, 0 },
	{ "unknown-high", { 0xff, 0x00 }, 2, -EBADMSG, 0, 0, 0 },
	{ "write-bits-overclaim", { 0x03, 0x00, 0x11, 0x02, 0xaa, 0xbb }, 6, -EBADMSG, 0, 0, 0 },
	{ "write-bits-huge", { 0x03, 0xff, 0xff, 0x00 }, 4, -EBADMSG, 0, 0, 0 },
	{ "empty", { 0 }, 0, 0, 0, 0, 0 },
};

static void test_egd_parse_table(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct egd_req req = { .cmd = 0x77 };
		int r = egd_parse(c->bytes, c->n, &req);

		print_message("%s\n", c->name);
		assert_int_equal(r, c->ret);
		if (r <= 0) {
			assert_int_equal(req.cmd, 0x77);
			continue;
		}
		assert_int_equal(req.cmd, c->cmd);
		assert_int_equal(req.len, c->len);
		assert_int_equal(req.bits, c->bits);
		if (c->cmd == EGD_CMD_WRITE)
			assert_ptr_equal(req.data, c->bytes + 4);
	}
}

/* Every strict prefix of a valid request asks for more and writes nothing. */
static void test_egd_parse_split_every_byte(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct egd_req req = { .cmd = 0x77 };

		if (c->ret <= 0)
			continue;
		for (size_t k = 0; k < (size_t)c->ret; k++) {
			assert_int_equal(egd_parse(c->bytes, k, &req), 0);
			assert_int_equal(req.cmd, 0x77);
		}
	}
}

static void test_egd_parse_write_max(void **state)
{
	uint8_t buf[EGD_MAX_REQUEST] = { 0x03, 0x07, 0xf8, 0xff };
	struct egd_req req;

	assert_int_equal(egd_parse(buf, sizeof(buf), &req), EGD_MAX_REQUEST);
	assert_int_equal(req.len, 255);
	assert_int_equal(req.bits, 255 * 8);
	assert_int_equal(egd_parse(buf, sizeof(buf) - 1, &req), 0);
}

static void test_egd_build_request_roundtrip(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		uint8_t out[EGD_MAX_REQUEST];
		struct egd_req req;

		if (c->ret <= 0)
			continue;
		assert_int_equal(egd_parse(c->bytes, c->n, &req), c->ret);
		assert_int_equal(egd_build_request(out, sizeof(out), &req), c->ret);
		assert_memory_equal(out, c->bytes, (size_t)c->ret);
		assert_int_equal(egd_build_request(out, (size_t)c->ret - 1, &req), -ENOBUFS);
	}
}

static void test_egd_build_request_invalid(void **state)
{
	uint8_t out[8], data[1] = { 0 };
	struct egd_req bad_cmd = { .cmd = 9 };
	struct egd_req overclaim = { .cmd = EGD_CMD_WRITE, .len = 1, .bits = 9, .data = data };
	struct egd_req nodata = { .cmd = EGD_CMD_WRITE, .len = 1, .bits = 8 };

	assert_int_equal(egd_build_request(out, sizeof(out), &bad_cmd), -EINVAL);
	assert_int_equal(egd_build_request(out, sizeof(out), &overclaim), -EINVAL);
	assert_int_equal(egd_build_request(out, sizeof(out), &nodata), -EINVAL);
}

static void test_egd_build_avail_big_endian(void **state)
{
	uint8_t out[4];

	assert_int_equal(egd_build_avail(out, sizeof(out), 0x01020304), 4);
	assert_memory_equal(out, ((uint8_t[]){ 1, 2, 3, 4 }), 4);
	assert_int_equal(egd_parse_avail(out), 0x01020304);
	assert_int_equal(egd_build_avail(out, 3, 1), -ENOBUFS);
}

static void test_egd_build_pid_decimal(void **state)
{
	uint8_t out[EGD_MAX_PID_REPLY];

	assert_int_equal(egd_build_pid(out, sizeof(out), 4242), 5);
	assert_memory_equal(out, "\x04" "4242", 5);
	assert_int_equal(egd_build_pid(out, sizeof(out), 0), 2);
	assert_memory_equal(out, "\x01" "0", 2);
	assert_int_equal(egd_build_pid(out, sizeof(out), UINT64_MAX), 21);
	assert_memory_equal(out, "\x14" "18446744073709551615", 21);
	assert_int_equal(egd_build_pid(out, 4, 4242), -ENOBUFS);
}

static void test_egd_reply_size_table(void **state)
{
	struct egd_req nb = { .cmd = EGD_CMD_READ_NB, .len = 8 };
	struct egd_req blk = { .cmd = EGD_CMD_READ_BLOCK, .len = 64 };
	struct egd_req avail = { .cmd = EGD_CMD_AVAIL };
	struct egd_req pid = { .cmd = EGD_CMD_PID };
	struct egd_req wr = { .cmd = EGD_CMD_WRITE };

	assert_int_equal(egd_reply_size(&nb, NULL, 0), -EAGAIN);
	assert_int_equal(egd_reply_size(&nb, (uint8_t[]){ 8 }, 1), 9);
	assert_int_equal(egd_reply_size(&nb, (uint8_t[]){ 0 }, 1), 1);
	assert_int_equal(egd_reply_size(&nb, (uint8_t[]){ 9 }, 1), -EBADMSG);
	assert_int_equal(egd_reply_size(&blk, NULL, 0), 64);
	assert_int_equal(egd_reply_size(&avail, NULL, 0), 4);
	assert_int_equal(egd_reply_size(&wr, NULL, 0), 0);
	assert_int_equal(egd_reply_size(&pid, (uint8_t *)"\x02" "42", 3), 3);
	assert_int_equal(egd_reply_size(&pid, (uint8_t *)"\x00", 1), -EBADMSG);
	assert_int_equal(egd_reply_size(&pid, (uint8_t *)"\x02" "4x", 3), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_egd_parse_table),
		cmocka_unit_test(test_egd_parse_split_every_byte),
		cmocka_unit_test(test_egd_parse_write_max),
		cmocka_unit_test(test_egd_build_request_roundtrip),
		cmocka_unit_test(test_egd_build_request_invalid),
		cmocka_unit_test(test_egd_build_avail_big_endian),
		cmocka_unit_test(test_egd_build_pid_decimal),
		cmocka_unit_test(test_egd_reply_size_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
