/* logs.c — see logs.h.
 *
 * The files are container.log.N (oldest) … container.log.1, container.log.
 * A non-follow read loads the matching lines of all of them (after the
 * tail cut) into memory once; it is bounded by log_max_size × (files + 1).
 * Follow then keeps the current file open and polls it every 100 ms; when
 * the supervisor rotates (the inode at container.log changes) it finishes
 * the old file and opens the new one. Follow ends when the subnode has no
 * supervisor any more and everything written was read.
 *
 * The incomplete last line of the followed file waits in a buffer that
 * grows with it (up to 64 KiB, the longest line the supervisor writes): a
 * follower costs a few KiB, not a 64 KiB buffer each (70 followers were
 * 4.5 MiB of the daemon's heap).
 */
#include "node/logs.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/frame.h"
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PART_MAX (64u << 10)

struct node_logs {
	struct node *n;
	char *id;
	struct node_logs_opts o;
	char *pending;      /* framed output not yet returned */
	size_t plen, poff;
	int fd;             /* followed file */
	ino_t ino;
	char *part;         /* incomplete line of the followed file */
	size_t partlen, partcap;
	bool done;
	int idle_rounds;
};

/* Up to 9 digits after a '.' as nanoseconds; *end past them. */
static int parse_frac(const char *p, const char **end, int64_t *ns)
{
	int64_t frac = 0;
	int digits = 0;
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		frac = frac * 10 + (*p - '0');
	if (digits == 0 || digits > 9)
		return -EINVAL;
	for (; digits < 9; digits++)
		frac *= 10;
	*end = p;
	*ns = frac;
	return 0;
}

/* Whole seconds and nanoseconds as ns, refusing what int64 cannot hold. */
static int to_ns(long long s, int64_t frac, int64_t *ns)
{
	if (s < 0 || s > NODE_TIME_MAX_S)
		return -ERANGE;
	*ns = (int64_t)s * 1000000000LL + frac;
	return 0;
}

int node_parse_time(const char *s, int64_t *ns)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	const char *end;
	int64_t frac = 0;
	if (strchr(s, 'T')) {
		struct tm tm = { 0 };
		end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!end || (*end == '.' && parse_frac(end + 1, &end, &frac) < 0))
			return -EINVAL;
		if (*end != 'Z' || end[1])
			return -EINVAL;
		return to_ns((long long)timegm(&tm), frac, ns);
	}
	/* unix seconds: digits, maybe a '.' and up to 9 more; no sign, no
	 * exponent, no hex */
	char whole[24];
	size_t n = strspn(s, "0123456789");
	if (n >= sizeof(whole))
		return -ERANGE;
	memcpy(whole, s, n);
	whole[n] = '\0';
	end = s + n;
	if (*end == '.' && parse_frac(end + 1, &end, &frac) < 0)
		return -EINVAL;
	if (*end)
		return -EINVAL;
	unsigned long long sec;
	int r = sn_parse_u64(whole, &sec);
	if (r < 0)
		return r;
	return to_ns(sec > (unsigned long long)NODE_TIME_MAX_S ? -1 : (long long)sec, frac, ns);
}

int node_logs_parse_line(const char *line, size_t len, int64_t *ts, int *stream, bool *partial,
			 const char **text, size_t *text_len)
{
	const char *sp1 = memchr(line, ' ', len);
	if (!sp1 || sp1 - line >= 40)
		return -EINVAL;
	char tbuf[40];
	memcpy(tbuf, line, (size_t)(sp1 - line));
	tbuf[sp1 - line] = '\0';
	if (node_parse_time(tbuf, ts) < 0)
		return -EINVAL;
	const char *rest = sp1 + 1;
	size_t rl = len - (size_t)(rest - line);
	if (rl >= 9 && memcmp(rest, "stdout ", 7) == 0)
		*stream = 1;
	else if (rl >= 9 && memcmp(rest, "stderr ", 7) == 0)
		*stream = 2;
	else
		return -EINVAL;
	*partial = rest[7] == 'P';
	*text = rest + 9;
	*text_len = rl - 9;
	return 0;
}

/* Room for at least want bytes in the partial-line buffer (<= PART_MAX). */
static bool part_reserve(struct node_logs *l, size_t want)
{
	if (want <= l->partcap)
		return true;
	size_t cap = l->partcap ? l->partcap : 4096;
	while (cap < want)
		cap *= 2;
	if (cap > PART_MAX)
		cap = PART_MAX;
	if (cap < want)
		return false;
	char *np = realloc(l->part, cap);
	if (!np)
		return false;
	l->part = np;
	l->partcap = cap;
	return true;
}

/* Append one framed line to the pending buffer. */
static int emit(struct node_logs *l, FILE *f, const char *line, size_t len)
{
	int64_t ts;
	int stream;
	bool partial;
	const char *text;
	size_t tl;
	if (node_logs_parse_line(line, len, &ts, &stream, &partial, &text, &tl) < 0)
		return 0;
	if ((stream == 1 && !l->o.out) || (stream == 2 && !l->o.err))
		return 0;
	if ((l->o.since && ts < l->o.since) || (l->o.until && ts > l->o.until))
		return 0;
	char tsb[40] = "";
	size_t tsl = 0;
	if (l->o.timestamps) {
		node_time_str(ts, tsb);
		tsl = strlen(tsb);
		tsb[tsl++] = ' ';
	}
	size_t payload = tsl + tl + (partial ? 0 : 1);
	if (!l->o.raw) {
		unsigned char h[SN_FRAME_HDR];
		sn_frame_header(h, stream, (uint32_t)payload);
		fwrite(h, 1, sizeof(h), f);
	}
	fwrite(tsb, 1, tsl, f);
	fwrite(text, 1, tl, f);
	if (!partial)
		fputc('\n', f);
	return 1;
}

static void free_pending(struct node_logs *l)
{
	free(l->pending);
	l->pending = NULL;
	l->plen = l->poff = 0;
}

/* Read every file into one array of lines (oldest first), apply tail. */
static int load_history(struct node_logs *l, struct sn_err *err)
{
	unsigned files = l->n->cfg.log_max_files;
	char *text = NULL;
	size_t tlen = 0;
	FILE *all = open_memstream(&text, &tlen);
	if (!all)
		return sn_err_set(err, ENOMEM, "logs");
	for (int i = (int)files; i >= 0; i--) {
		char name[64];
		if (i == 0)
			snprintf(name, sizeof(name), "container.log");
		else
			snprintf(name, sizeof(name), "container.log.%d", i);
		_cleanup_free_ char *p = node_subnode_dir(l->n, l->id, name);
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (!p)
			continue;
		if (i == 0) {
			/* Keep the current file open for follow, at the end of what we read. */
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				struct stat sb;
				fstat(fd, &sb);
				l->ino = sb.st_ino;
				char chunk[65536];
				ssize_t r;
				while ((r = read(fd, chunk, sizeof(chunk))) > 0)
					fwrite(chunk, 1, (size_t)r, all);
				l->fd = fd;
			}
			continue;
		}
		if (sn_read_file(p, 0, &buf, &len, err) == 0)
			fwrite(buf, 1, len, all);
	}
	fclose(all);
	/* A last line without its newline stays for follow to complete. */
	size_t end = tlen;
	while (end > 0 && text[end - 1] != '\n')
		end--;
	if (tlen > end && tlen - end < PART_MAX && part_reserve(l, tlen - end)) {
		memcpy(l->part, text + end, tlen - end);
		l->partlen = tlen - end;
	}
	size_t start = 0;
	if (l->o.tail >= 0) {
		long need = l->o.tail;
		size_t i = end;
		/* Walk back over `tail` lines (counting only the selected streams). */
		while (i > 0 && need > 0) {
			size_t j = i - 1;
			while (j > 0 && text[j - 1] != '\n')
				j--;
			int64_t ts;
			int stream;
			bool partial;
			const char *t;
			size_t tl;
			if (node_logs_parse_line(text + j, i - 1 - j, &ts, &stream, &partial, &t, &tl) == 0 &&
			    ((stream == 1 && l->o.out) || (stream == 2 && l->o.err)))
				need--;
			i = j;
		}
		start = i;
	}
	FILE *f = open_memstream(&l->pending, &l->plen);
	if (!f) {
		free(text);
		return sn_err_set(err, ENOMEM, "logs");
	}
	for (size_t i = start; i < end;) {
		char *nl = memchr(text + i, '\n', end - i);
		size_t ll = (size_t)(nl - (text + i));
		emit(l, f, text + i, ll);
		i += ll + 1;
	}
	fclose(f);
	free(text);
	return 0;
}

int node_logs_open(struct node *n, const char *ref, const struct node_logs_opts *o,
		   struct node_logs **out, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	struct node_logs *l = calloc(1, sizeof(*l));
	if (!l || !(l->id = strdup(json_string_value(json_object_get(row, "id"))))) {
		free(l);
		return sn_err_set(err, ENOMEM, "logs");
	}
	l->n = n;
	l->o = *o;
	l->fd = -1;
	r = load_history(l, err);
	if (r < 0) {
		node_logs_close(l);
		return r;
	}
	*out = l;
	return 0;
}

/* Follow: read what the current file gained, switch files on rotation. */
static void follow_more(struct node_logs *l)
{
	_cleanup_free_ char *p = node_subnode_dir(l->n, l->id, "container.log");
	bool rotated = false;
	struct stat sb;
	if (p && stat(p, &sb) == 0 && (l->fd < 0 || sb.st_ino != l->ino))
		rotated = true;
	FILE *f = open_memstream(&l->pending, &l->plen);
	if (!f)
		return;
	for (int pass = 0; pass < 2; pass++) {
		if (l->fd >= 0) {
			for (;;) {
				/* at least 4 KiB free: grow while a line does not fit */
				if (!part_reserve(l, l->partlen + 4096) && l->partlen == l->partcap)
					l->partlen = 0;   /* a line longer than the supervisor writes: drop */
				ssize_t r = read(l->fd, l->part + l->partlen, l->partcap - l->partlen);
				if (r <= 0)
					break;
				l->partlen += (size_t)r;
				size_t i = 0;
				char *nl;
				while ((nl = memchr(l->part + i, '\n', l->partlen - i))) {
					size_t ll = (size_t)(nl - (l->part + i));
					emit(l, f, l->part + i, ll);
					i += ll + 1;
				}
				memmove(l->part, l->part + i, l->partlen - i);
				l->partlen -= i;
			}
		}
		if (!rotated || pass == 1)
			break;
		if (l->fd >= 0)
			close(l->fd);
		l->fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
		l->ino = sb.st_ino;
		l->partlen = 0;
	}
	fclose(f);
}

ssize_t node_logs_read(struct node_logs *l, char *buf, size_t max)
{
	for (;;) {
		if (l->poff < l->plen) {
			size_t n = l->plen - l->poff < max ? l->plen - l->poff : max;
			memcpy(buf, l->pending + l->poff, n);
			l->poff += n;
			return (ssize_t)n;
		}
		free_pending(l);
		if (!l->o.follow || l->done)
			return 0;
		bool alive = node_supervisor_alive(l->n, l->id, NULL);
		follow_more(l);
		if (l->plen)
			continue;
		free_pending(l);
		if (!alive) {
			l->done = true;
			return 0;
		}
		return -EAGAIN;
	}
}

void node_logs_close(struct node_logs *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->pending);
	free(l->part);
	free(l->id);
	free(l);
}
