/* libFuzzer target: virtseed-egd.conf parser; every input is accepted or names a line. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "egd-conf.h"
#define FUZZ_NAME "egd-conf"
#include "fuzz-replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct egd_conf c;
	struct egd_conf_error err = {};
	int r;

	(void)egd_conf_init(&c);
	r = egd_conf_parse(&c, (const char *)data, size, &err);
	if (r == 0)
		r = egd_conf_finish(&c, &err);
	assert(r <= 0);
	assert(r == 0 || err.msg);
	egd_conf_done(&c);
	return 0;
}
