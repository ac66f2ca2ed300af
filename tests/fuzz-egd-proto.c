/* libFuzzer target: the EGD codec on arbitrary streams, with round-trip checks. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "egd-proto.h"
#define FUZZ_NAME "egd-proto"
#include "fuzz-replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[EGD_MAX_REQUEST];
	struct egd_req req;
	int r;

	while ((r = egd_parse(data, size, &req)) > 0) {
		assert((size_t)r <= size && r <= EGD_MAX_REQUEST);
		assert(egd_build_request(out, sizeof(out), &req) == r);
		assert(memcmp(out, data, (size_t)r) == 0);
		(void)egd_reply_size(&req, data + r, size - (size_t)r);
		data += r;
		size -= (size_t)r;
	}
	/* A prefix of a request is never consumed. */
	assert(r == 0 || r == -EBADMSG);
	for (size_t k = 0; r == 0 && k < size; k++)
		assert(egd_parse(data, k, &req) == 0);
	return 0;
}
