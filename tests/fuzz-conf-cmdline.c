/* libFuzzer target: the kernel command line never stops the load, every refused item can be
 * told, and in a confidential VM nothing on it weakens the defaults. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-conf.h"
#define FUZZ_NAME "conf-cmdline"
#include "fuzz-replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned bad_items;

/* Every refusal is well formed; the first few of an input are also put into words (the
 * formatting is the same for the rest, and dominated the run time). */
static void check_bad(const struct config_error *e, void *userdata)
{
	assert(e->origin == CONFIG_CMDLINE);
	assert(e->error < 0);
	if (bad_items++ < 8)
		fuzz_conf_check_error(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char cmdline[8192];
	struct config_input in = { .cmdline = cmdline, .bad = check_bad };
	struct config_error e;
	struct config c, d;

	if (size == 0 || size >= sizeof(cmdline))
		return 0;
	/* The first byte picks the context: initramfs, confidential. */
	memcpy(cmdline, data + 1, size - 1);
	cmdline[size - 1] = '\0';
	bad_items = 0;
	in.initrd = data[0] & 1;
	in.confidential = data[0] & 2;
	assert(config_load(&c, &in, &e) == 0);
	fuzz_conf_check_roundtrip(&c);
	if (in.confidential) {
		config_defaults(&d);
		assert(c.confidential != 0 && !c.trust_host);
		assert(c.credit[SRC_HWRNG] <= d.credit[SRC_HWRNG]);
		assert(c.credit[SRC_EGD] <= d.credit[SRC_EGD]);
	}
	return 0;
}
