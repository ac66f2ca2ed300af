/*
 * A plain main() for libFuzzer targets: replays every file of the corpus
 * directories given as arguments (or $FUZZ_CORPUS) through the target, so
 * `make check` exercises the corpus without clang.  Built with -DFUZZER
 * (clang -fsanitize=fuzzer) libFuzzer brings its own main().
 */
#pragma once

#ifndef FUZZER
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static int replay_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char path[4096];
	int count = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (replay_file(path) == 0)
			count++;
	}
	closedir(d);
	return count;
}

/* Without arguments: $FUZZ_CORPUS, else $top_srcdir/tests/corpus/FUZZ_NAME (make check). */
static const char *default_corpus(void)
{
	static char path[4096];
	const char *env = getenv("FUZZ_CORPUS");
	const char *top = getenv("top_srcdir");

	if (env)
		return env;
	snprintf(path, sizeof(path), "%s/tests/corpus/%s", top ? top : ".", FUZZ_NAME);
	return path;
}

int main(int argc, char **argv)
{
	const char *env = argc > 1 ? NULL : default_corpus();
	int total = 0;

	for (int i = 1; i < argc || (i == 1 && env); i++) {
		int k = replay_dir(i < argc ? argv[i] : env);

		if (k < 0) {
			fprintf(stderr, "cannot read corpus %s\n", i < argc ? argv[i] : env);
			return 1;
		}
		total += k;
		if (i >= argc)
			break;
	}
	printf("replayed %d inputs\n", total);
	return total > 0 ? 0 : 77;
}
#endif
