/* fuzz.h — what every libFuzzer target in tests/fuzz/ shares.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput for one input parser of
 * subnode and is built by `make fuzz` against the layers compiled again
 * with clang (ASan + UBSan + the fuzzer's coverage) into build-fuzz/.
 * Beyond "no crash, no leak, no undefined behaviour", the targets check
 * the error contract of src/base/err.h on every input: a refusal is a
 * negative errno with a message (what the API answers with 400 and
 * {"message": ...}), a success fills its output. A broken contract aborts,
 * so libFuzzer keeps the input as a crash like any other.
 *
 * Working with them:
 *   make fuzz; bash bench/fuzz/run.sh 600 spec    fuzz one target 10 min
 *   build-fuzz/fuzz/fuzz_spec CRASH-FILE           replay one input
 *   SN_FUZZ_VERBOSE=1 build-fuzz/fuzz/fuzz_spec F  say what each parser
 *                                                  answered (seed checks)
 * A new target is a new tests/fuzz/fuzz_<name>.c (the Makefile finds it),
 * hand-made seeds in tests/fuzz/corpus/<name>/ and a line in
 * tests/integration/fuzz_replay.bats; a crash it finds becomes a cmocka
 * test in tests/unit/<layer>/ beside the fix, and its input a corpus file.
 */
#ifndef SN_TESTS_FUZZ_H
#define SN_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/err.h"
#include "base/fs.h"

/* Abort with what broke (libFuzzer then saves the input). */
#define FUZZ_CHECK(cond, ...)                                              \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
			abort();                                           \
		}                                                          \
	} while (0)

/* r is what a parser returned with err: refusals carry code and message. */
static inline void fuzz_check_result(int r, const struct sn_err *err, const char *what)
{
	FUZZ_CHECK(r <= 0, "%s returned %d (want 0 or -errno)", what, r);
	static int verbose = -1;   /* SN_FUZZ_VERBOSE=1: say what each input got */
	if (verbose < 0)
		verbose = getenv("SN_FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz: %s: %s\n", what, r < 0 ? err->msg : "accepted");
	if (r < 0) {
		FUZZ_CHECK(err->code == -r, "%s: returned %d but err.code is %d (`%s`)", what, r,
			   err->code, err->msg);
		FUZZ_CHECK(err->msg[0] != '\0', "%s: refused (%d) without a message", what, r);
	}
}

/* A NUL-terminated copy of the input (parsers that take C strings). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split the input at NUL bytes (JSON text holds none) into at most n
 * NUL-terminated parts, malloc'ed in one block (*block, to free); missing
 * parts are "". Targets that take several documents use this. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, char **parts, size_t n,
				char **block)
{
	char *b = fuzz_strndup(data, size);
	size_t got = 0;
	char *p = b;
	while (got < n) {
		parts[got++] = p;
		size_t l = strlen(p);
		if (p + l >= b + size)
			break;
		p += l + 1;
	}
	for (size_t i = got; i < n; i++)
		parts[i] = b + size; /* the terminating NUL: "" */
	*block = b;
	return got;
}

/* Mutation for targets whose input is a tar: libFuzzer's own mutations,
 * then the checksum of every ustar header (any 512-byte block with the
 * magic, nested tars included) recomputed, so that a changed name, mode,
 * type or link target reaches our code instead of stopping at libarchive's
 * checksum test. A gzip input is left as mutated. Call it from
 * LLVMFuzzerCustomMutator. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static inline size_t fuzz_tar_mutate(uint8_t *data, size_t size, size_t max_size)
{
	size = LLVMFuzzerMutate(data, size, max_size);
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return size;
	for (size_t off = 0; off + 512 <= size; off += 512) {
		uint8_t *b = data + off;
		if (memcmp(b + 257, "ustar", 5) != 0)
			continue;
		memset(b + 148, ' ', 8);
		unsigned sum = 0;
		for (int i = 0; i < 512; i++)
			sum += b[i];
		char field[8];
		snprintf(field, sizeof(field), "%06o", sum & 0777777);
		memcpy(b + 148, field, 7);
	}
	return size;
}

/* Define the target's LLVMFuzzerCustomMutator as fuzz_tar_mutate. */
#define FUZZ_TAR_MUTATOR                                                                  \
	size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,        \
				       unsigned int seed)                                  \
	{                                                                                  \
		return fuzz_tar_mutate(data, size, max_size);                              \
	}

/* Make the memfd fd hold exactly the input, read from its start (parsers
 * that read a stream). Aborts on failure. */
static inline void fuzz_memfd_load(int fd, const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		perror("fuzz: memfd");
		abort();
	}
}

/* A scratch directory under $TMPDIR (or /dev/shm, a tmpfs: files rewritten
 * for every input cost nothing there; or /tmp) that is removed when the
 * fuzzer exits normally; malloc'ed path. Aborts when it cannot be made. */
static char *fuzz_scratch_path;

static inline void fuzz_scratch_remove(void)
{
	struct sn_err err = { 0 };
	if (fuzz_scratch_path && sn_rm_rf(fuzz_scratch_path, &err) < 0)
		fprintf(stderr, "fuzz: %s\n", err.msg);
}

static inline char *fuzz_scratch_dir(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = sn_path_exists("/dev/shm") == 1 ? "/dev/shm" : "/tmp";
	char *path;
	if (asprintf(&path, "%s/sn-fuzz-%s-XXXXXX", tmp, name) < 0 ||
	    !mkdtemp(path)) {
		perror("fuzz: scratch dir");
		abort();
	}
	fuzz_scratch_path = path;
	atexit(fuzz_scratch_remove);
	return path;
}

#endif
