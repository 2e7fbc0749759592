/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz/ share: the entry points
 * libFuzzer calls, an assertion that aborts (so that libFuzzer records the
 * input as a crash) and a hash of the input from which a target derives the
 * choices that are not part of the input format (read sizes, limits), so
 * that every input replays the same way.  Built by tests/fuzz/run.sh only.
 */
#ifndef MEMDELTA_FUZZ_H
#define MEMDELTA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test: report it and abort, which libFuzzer
 * turns into a crash report with the input saved. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* FNV-1a of the input, then a splitmix64 step per draw. */
static inline uint64_t
fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < size; i++) {
		h ^= data[i];
		h *= 1099511628211ull;
	}
	return h;
}

static inline uint64_t
fuzz_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif
