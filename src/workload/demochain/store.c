/* store.c — see store.h. */
#include "store.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS_FILE "demochain.blocks"

static int remember(struct dc_store *s, uint64_t off, struct sn_err *err)
{
	if (s->height == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		uint64_t *o = realloc(s->offset, cap * sizeof(*o));
		if (!o)
			return sn_err_set(err, ENOMEM, "block index of %zu blocks", cap);
		s->offset = o;
		s->cap = cap;
	}
	s->offset[s->height] = off;
	return 0;
}

/* Reads the lines of the file from the start; stops at the first line that
 * is torn, bad, or does not follow, and returns where the good part ends. */
static int load_blocks(struct dc_store *s, const char *path, uint64_t *good_end, struct sn_err *err)
{
	int fd = dup(s->fd);
	if (fd < 0)
		return sn_err_sys(err, "dup `%s`", path);
	_cleanup_fclose_ FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return sn_err_sys(err, "fdopen `%s`", path);
	}
	_cleanup_free_ char *line = NULL;
	size_t size = 0;
	uint64_t off = 0;
	ssize_t n;
	*good_end = 0;
	while ((n = getline(&line, &size, f)) > 0) {
		struct sn_err why = { 0 };
		struct dc_block b;
		if (line[n - 1] != '\n')
			break; /* torn: the crash came in the middle of the write */
		line[n - 1] = 0;
		if (dc_block_parse(line, &b, &why) < 0 ||
		    dc_block_follows(&b, s->height, s->last_hash, &why) < 0)
			break;
		int r = remember(s, off, err);
		if (r < 0)
			return r;
		s->height = b.height;
		memcpy(s->last_hash, b.hash, sizeof(s->last_hash));
		off += (uint64_t)n;
		*good_end = off;
	}
	if (ferror(f))
		return sn_err_sys(err, "read `%s`", path);
	return 0;
}

int dc_store_open(struct dc_store *s, const char *dir, const char *genesis, unsigned index,
		  struct sn_err *err)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->index = index;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	memcpy(s->last_hash, genesis, sizeof(s->last_hash));
	int r = sn_mkdir_p(dir, 0755, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = sn_path_join(dir, BLOCKS_FILE);
	if (!path)
		return sn_err_set(err, ENOMEM, "block file path");
	s->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (s->fd < 0)
		return sn_err_sys(err, "open `%s`", path);
	uint64_t good_end;
	r = load_blocks(s, path, &good_end, err);
	if (r < 0)
		return r;
	off_t size = lseek(s->fd, 0, SEEK_END);
	if (size < 0)
		return sn_err_sys(err, "lseek `%s`", path);
	if ((uint64_t)size > good_end) {
		s->cut_bytes = (uint64_t)size - good_end;
		if (ftruncate(s->fd, (off_t)good_end) < 0 || fdatasync(s->fd) < 0)
			return sn_err_sys(err, "cut `%s` to its %" PRIu64 " good bytes", path, good_end);
	}
	s->end = good_end;
	return 0;
}

void dc_store_close(struct dc_store *s)
{
	sn_close_and_reset(&s->fd);
	free(s->offset);
	s->offset = NULL;
	s->cap = 0;
}

int dc_store_append(struct dc_store *s, const struct dc_block *b, struct sn_err *err)
{
	int r = dc_block_follows(b, s->height, s->last_hash, err);
	if (r < 0)
		return r;
	char line[DC_LINE_MAX + 1];
	int n = dc_block_format(b, line, sizeof(line) - 1);
	if (n < 0)
		return sn_err_msg(err, ENOSPC, "block %" PRIu64 ": line too long", b->height);
	line[n++] = '\n';
	if ((r = remember(s, s->end, err)) < 0)
		return r;
	if (sn_write_all(s->fd, line, (size_t)n) < 0 || SN_RETRY_EINTR(fdatasync(s->fd)) < 0) {
		r = sn_err_sys(err, "append block %" PRIu64 " to `%s/" BLOCKS_FILE "`", b->height, s->dir);
		/* no half line for the next append to follow; if even this
		 * fails, the next open cuts it */
		if (ftruncate(s->fd, (off_t)s->end) == 0)
			(void)fdatasync(s->fd);
		return r;
	}
	s->end += (uint64_t)n;
	s->height = b->height;
	memcpy(s->last_hash, b->hash, sizeof(s->last_hash));
	return 0;
}

int dc_store_get(const struct dc_store *s, uint64_t height, struct dc_block *b, struct sn_err *err)
{
	if (height == 0 || height > s->height)
		return sn_err_msg(err, ENOENT, "no block %" PRIu64 " (height %" PRIu64 ")", height, s->height);
	uint64_t from = s->offset[height - 1];
	uint64_t to = height == s->height ? s->end : s->offset[height];
	char line[DC_LINE_MAX + 1];
	if (to - from > DC_LINE_MAX || to <= from)
		return sn_err_msg(err, EIO, "block %" PRIu64 ": bad extent", height);
	ssize_t n = SN_RETRY_EINTR(pread(s->fd, line, to - from, (off_t)from));
	if (n != (ssize_t)(to - from))
		return sn_err_sys(err, "read block %" PRIu64 " in `%s`", height, s->dir);
	line[n - 1] = 0;
	return dc_block_parse(line, b, err);
}

static char *vote_path(const struct dc_store *s)
{
	char name[64];
	snprintf(name, sizeof(name), "demochain.vote.%u", s->index);
	return sn_path_join(s->dir, name);
}

int dc_store_save_vote(struct dc_store *s, unsigned epoch, const struct dc_block *b,
		       struct sn_err *err)
{
	_cleanup_free_ char *path = vote_path(s);
	char text[DC_LINE_MAX + 64];
	int n = snprintf(text, sizeof(text), "%" PRIu64 " %u ", b->height, epoch);
	int m = dc_block_format(b, text + n, sizeof(text) - (size_t)n - 1);
	if (!path || m < 0)
		return sn_err_set(err, ENOMEM, "vote file");
	n += m;
	text[n++] = '\n';
	return sn_write_file_atomic(path, text, (size_t)n, 0644, err);
}

int dc_store_load_vote(const struct dc_store *s, unsigned *epoch, struct dc_block *b)
{
	_cleanup_free_ char *path = vote_path(s);
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct sn_err err = { 0 };
	if (!path || sn_read_file(path, DC_LINE_MAX + 64, &text, &len, &err) < 0)
		return 0;
	char *nl = memchr(text, '\n', len);
	uint64_t height;
	int skip = 0;
	if (!nl)
		return 0;
	*nl = 0;
	if (sscanf(text, "%" SCNu64 " %u %n", &height, epoch, &skip) != 2 || skip == 0 ||
	    height != s->height + 1 || dc_block_parse(text + skip, b, &err) < 0 || b->height != height)
		return 0;
	return 1;
}
