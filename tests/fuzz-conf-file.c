/* libFuzzer target: virtseed.conf, any bytes (NULs included): accepted, or refused naming
 * a line; an accepted file prints and parses back to the same configuration. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-conf.h"
#define FUZZ_NAME "conf-file"
#include "fuzz-replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_input in = { .file_text = (const char *)data, .file_len = size };
	struct config_error e;
	struct config c;
	int r;

	if (size > CONFIG_FILE_MAX)
		return 0;
	r = config_load(&c, &in, &e);
	if (r < 0) {
		fuzz_conf_check_error(&e);
		assert(e.origin == CONFIG_FILE);
		assert(e.line >= 1 || e.error == -EINVAL);
	} else {
		fuzz_conf_check_roundtrip(&c);
	}
	return 0;
}
