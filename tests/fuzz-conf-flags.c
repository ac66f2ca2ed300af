/* libFuzzer target: command line options (one per input line): accepted, or refused with a
 * message naming the option; accepted ones print and parse back. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-conf.h"
#define FUZZ_NAME "conf-flags"
#include "fuzz-replay.h"

#define MAX_FLAGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[8192];
	const char *flags[MAX_FLAGS];
	struct config_input in = { .flags = flags };
	struct config_error e;
	struct config c;
	char *p = text;
	int r;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	while (in.n_flags < MAX_FLAGS) {
		char *nl = strchr(p, '\n');

		flags[in.n_flags++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	r = config_load(&c, &in, &e);
	if (r < 0) {
		fuzz_conf_check_error(&e);
		assert(e.origin == CONFIG_FLAG);
	} else {
		fuzz_conf_check_roundtrip(&c);
	}
	return 0;
}
