/* transfer.c — a member's data follows it: before a member placed on this
 * node after a move starts, its data volume is filled from a live member
 * of its chain on another node; and this node lets other nodes read its own
 * members' volumes when the manager says so (link.h).
 *
 * The manager gives a moved seat's assignment a list of `sources` (each
 * other member: its node's address and TCP API port, its volume, and the
 * move's token) and each source member's assignment a `grants` entry with
 * the same token and an expiry. Here:
 *   - link_put_grants: the node's whole set of grants, from every desired
 *     assignment, goes to the daemon (PUT /transfers/grants); the daemon
 *     lets that token read exactly that volume's export, until the expiry;
 *   - link_fill_volume: for a member that has sources and no volume yet,
 *     each source in turn: GET http://ADDR:PORT/volumes/V/export?pause=1
 *     (the source member frozen for a consistent copy) into a file in the
 *     link's state, then POST /volumes/<member>-data/import on this node,
 *     which checks the stream's sha256 and makes the volume appear whole or
 *     not at all. A source that fails (dead, no grant yet, cut stream) is
 *     followed by the next; with none left the member is not created this
 *     round, so nothing ever starts on half data.
 * The copy passes through a file rather than a pipe between two transfers:
 * simple and restartable, at the cost of the volume's size on the link's
 * disk for the time of the copy.
 */
#include "link.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int link_put_grants(struct link *l, json_t *desired, struct sn_err *err)
{
	_cleanup_json_ json_t *all = json_array();
	json_t *a, *g;
	size_t i, j;
	if (!all)
		return sn_err_set(err, ENOMEM, "grants");
	json_array_foreach(desired, i, a)
		json_array_foreach(json_object_get(a, "grants"), j, g)
			json_array_append(all, g);
	/* nothing to say when there was and is nothing */
	if (json_array_size(all) == 0 && !l->had_grants)
		return 0;
	long st = 0;
	int r = peer_call(&l->node, "PUT", "/transfers/grants", all, 10, &st, NULL, err);
	if (r == 0 && st >= 300)
		r = -EIO;
	if (r == 0)
		l->had_grants = json_array_size(all) > 0;
	return r;
}

/* One source into file fd (truncated first). */
static int fetch(const char *name, json_t *src, int fd, struct sn_err *err)
{
	const char *addr = json_string_value(json_object_get(src, "address"));
	const char *vol = json_string_value(json_object_get(src, "volume"));
	const char *tok = json_string_value(json_object_get(src, "token"));
	json_int_t port = json_integer_value(json_object_get(src, "api_port"));
	if (!addr || !vol || !tok || port <= 0 || port > 65535)
		return sn_err_msg(err, EINVAL, "member `%s`: a source without address, port, volume or token", name);
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		return sn_err_sys(err, "member `%s`: the copy's file", name);
	char base[300], path[400];
	snprintf(base, sizeof(base), strchr(addr, ':') ? "http://[%s]:%lld" : "http://%s:%lld", addr,
		 (long long)port);
	snprintf(path, sizeof(path), "/volumes/%s/export?pause=1", vol);
	struct peer p;
	int r = peer_init(&p, base, NULL, err);
	if (r)
		return r;
	p.token = tok;
	long st = 0;
	r = peer_stream(&p, "GET", path, -1, fd, 3600, &st, err);
	peer_free(&p);
	if (r == 0 && st != 200)
		r = -EIO;
	return r;
}

int link_fill_volume(struct link *l, json_t *a, const char *volume, struct sn_err *err)
{
	const char *name = json_string_value(json_object_get(a, "name")) ?: "";
	json_t *sources = json_object_get(a, "sources");
	if (json_array_size(sources) == 0)
		return 0;
	char path[300];
	snprintf(path, sizeof(path), "/volumes/%s", volume);
	long st = 0;
	int r = peer_call(&l->node, "GET", path, NULL, 10, &st, NULL, err);
	if (r)
		return r;
	if (st == 200)
		return 0;   /* there already (an earlier round filled it) */
	_cleanup_free_ char *file = sn_path_join(l->state, "transfer.tar");
	if (!file)
		return sn_err_set(err, ENOMEM, "member `%s`", name);
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return sn_err_sys(err, "member `%s`: `%s`", name, file);
	r = -ENOENT;
	sn_err_msg(err, ENOENT, "member `%s`: no source", name);
	json_t *src;
	size_t i;
	json_array_foreach(sources, i, src) {
		struct sn_err e = { 0 };
		int64_t t0 = sn_now_ms();
		if ((r = fetch(name, src, fd, &e)) == 0) {
			snprintf(path, sizeof(path), "/volumes/%s/import", volume);
			if (lseek(fd, 0, SEEK_SET) != 0)
				r = sn_err_sys(&e, "member `%s`: the copy's file", name);
			else if ((r = peer_stream(&l->node, "POST", path, fd, -1, 3600, &st, &e)) == 0 &&
				 st >= 300)
				r = -EIO;
		}
		if (r == 0) {
			sn_info("member `%s`: data from member %lld on %s (%lld ms)", name,
				(long long)json_integer_value(json_object_get(src, "index")),
				json_string_value(json_object_get(src, "node")) ?: "?",
				(long long)(sn_now_ms() - t0));
			break;
		}
		sn_warn("member `%s`: data from member %lld: %s", name,
			(long long)json_integer_value(json_object_get(src, "index")), e.msg);
		*err = e;
	}
	close(fd);
	unlink(file);
	/* every source failed: wait for one while the move's grants live; once
	 * they have expired no source will ever answer, and the member starts
	 * on an empty volume (its chain's sync fills it) rather than never */
	json_int_t until = json_integer_value(json_object_get(a, "transfer_expires"));
	if (r && until > 0 && sn_wall_ms() > until) {
		sn_warn("member `%s`: no source gave its data before the transfer expired (%s): "
			"it starts on an empty volume", name, err->msg);
		return 0;
	}
	return r;
}
