/* network_db.c — the network reservations in the node's SQLite: an
 * address and a port slot per subnode (`net_addrs`, both UNIQUE, so one is
 * never handed out twice) and its published port ranges (`net_ports`).
 * Reserved in one transaction under the node lock, right after the
 * subnode's row: a crash leaves either both or a row in `creating` that
 * the next start removes with its reservation.
 *
 * A port is refused (409, naming the holder) when another subnode
 * publishes it, or when a process on the node holds it: the daemon tries
 * to bind it, and names the process from /proc/net/{tcp,udp} and the
 * fds of /proc/<pid>/.
 */
#include "node/node.h"
#include "node/network.h"
#include "node/db.h"
#include "base/cleanup.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS net_addrs ("
	" subnode_id TEXT PRIMARY KEY,"
	" ip TEXT UNIQUE,"               /* NULL: host mode (a slot only) */
	" slot INTEGER UNIQUE);"         /* NULL: none */
	"CREATE TABLE IF NOT EXISTS net_ports ("
	" subnode_id TEXT NOT NULL,"
	" proto TEXT NOT NULL,"
	" first INTEGER NOT NULL,"
	" last INTEGER NOT NULL,"
	" ctr_first INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS net_ports_id ON net_ports (subnode_id);";

static void finalizep(sqlite3_stmt **s) { sqlite3_finalize(*s); }
#define _cleanup_stmt_ _cleanup_(finalizep)

static int fail(sqlite3 *h, const char *what, struct sn_err *err)
{
	return sn_err_msg(err, EIO, "state db: %s: %s", what, sqlite3_errmsg(h));
}

int node_net_db_init(struct node *n, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(n->db);
	if (sqlite3_exec(h, schema, NULL, NULL, NULL) != SQLITE_OK)
		return fail(h, "network tables", err);
	return 0;
}

/* The process holding proto/port on the node: "process 123 (nc)" or "". */
static void port_holder(const char *proto, unsigned port, char *out, size_t len)
{
	snprintf(out, len, "a process");
	char path[64], line[512];
	unsigned long inode = 0;
	/* IPv4 sockets, then IPv6 ones (a dual-stack listener holds both). */
	for (int v6 = 0; v6 < 2 && !inode; v6++) {
		snprintf(path, sizeof(path), "/proc/net/%s%s", proto, v6 ? "6" : "");
		_cleanup_fclose_ FILE *f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f)) {
			unsigned lport, st;
			unsigned long ino;
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
				   &lport, &st, &ino) == 3 && lport == port && ino) {
				inode = ino;
				break;
			}
		}
	}
	if (!inode)
		return;
	char want[64];
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	_cleanup_closedir_ DIR *proc = opendir("/proc");
	struct dirent *p;
	while (proc && (p = readdir(proc))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		char fdd[300];
		snprintf(fdd, sizeof(fdd), "/proc/%s/fd", p->d_name);
		_cleanup_closedir_ DIR *fds = opendir(fdd);
		struct dirent *fe;
		while (fds && (fe = readdir(fds))) {
			char lp[600], tgt[64];
			snprintf(lp, sizeof(lp), "%s/%s", fdd, fe->d_name);
			ssize_t k = readlink(lp, tgt, sizeof(tgt) - 1);
			if (k <= 0)
				continue;
			tgt[k] = '\0';
			if (strcmp(tgt, want) != 0)
				continue;
			char cp[300], comm[64] = "?";
			snprintf(cp, sizeof(cp), "/proc/%s/comm", p->d_name);
			_cleanup_fclose_ FILE *c = fopen(cp, "re");
			if (c && fgets(comm, sizeof(comm), c))
				comm[strcspn(comm, "\n")] = '\0';
			snprintf(out, len, "process %s (%s)", p->d_name, comm);
			return;
		}
	}
}

/* -EADDRINUSE (err naming the holder) when a process on the node holds a
 * port of first..last. */
static int probe_ports(const char *proto, unsigned first, unsigned last, struct sn_err *err)
{
	bool udp = strcmp(proto, "udp") == 0;
	for (unsigned p = first; p <= last; p++) {
		_cleanup_close_ int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return sn_err_sys(err, "socket");
		int one = 1;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			return sn_err_sys(err, "setsockopt");
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			continue;
		if (errno != EADDRINUSE)
			return sn_err_sys(err, "bind port %u/%s", p, proto);
		char who[128];
		port_holder(proto, p, who, sizeof(who));
		return sn_err_msg(err, EEXIST, "port %u/%s is already in use by %s on the node", p, proto, who);
	}
	return 0;
}

/* 0 when no other subnode publishes a port of the range; EADDRINUSE with
 * its name otherwise. */
static int published_by(sqlite3 *h, const char *proto, unsigned first, unsigned last,
			struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "SELECT COALESCE(s.name, p.subnode_id), p.first, p.last FROM net_ports p "
			       "LEFT JOIN subnodes s ON s.id = p.subnode_id WHERE p.proto = ?1 AND "
			       "p.first <= ?3 AND p.last >= ?2 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return fail(h, "ports", err);
	sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)first);
	sqlite3_bind_int(st, 3, (int)last);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return fail(h, "ports", err);
	unsigned a = (unsigned)sqlite3_column_int(st, 1), b = (unsigned)sqlite3_column_int(st, 2);
	unsigned p = first > a ? first : a;
	(void)b;
	return sn_err_msg(err, EEXIST, "port %u/%s is already published by subnode %s", p, proto,
			  (const char *)sqlite3_column_text(st, 0));
}

static int range_free(sqlite3 *h, const char *proto, unsigned first, unsigned last, struct sn_err *err)
{
	int r = published_by(h, proto, first, last, err);
	return r < 0 ? r : probe_ports(proto, first, last, err);
}

/* The lowest free address of the subnet (.2 up; .1 is the bridge's). */
static int pick_ip(struct node *n, sqlite3 *h, char out[16], struct sn_err *err)
{
	uint32_t base = ntohl(n->net->subnet.s_addr), size = 1u << (32 - n->net->prefix);
	_cleanup_free_ unsigned char *used = calloc(size, 1);
	if (!used)
		return sn_err_set(err, ENOMEM, "ipam");
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "SELECT ip FROM net_addrs WHERE ip IS NOT NULL", -1, &st, NULL) != SQLITE_OK)
		return fail(h, "ipam", err);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct in_addr a;
		if (inet_pton(AF_INET, (const char *)sqlite3_column_text(st, 0), &a) == 1 &&
		    ntohl(a.s_addr) - base < size)
			used[ntohl(a.s_addr) - base] = 1;
	}
	if (rc != SQLITE_DONE)
		return fail(h, "ipam", err);
	for (uint32_t i = 2; i < size - 1; i++)
		if (!used[i]) {
			struct in_addr a = { htonl(base + i) };
			inet_ntop(AF_INET, &a, out, 16);
			return 0;
		}
	return sn_err_msg(err, ENOSPC, "no free address in the bridge's subnet %s", n->cfg.net.subnet);
}

static int slot_holder(sqlite3 *h, int slot, char *who, size_t len)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "SELECT COALESCE(s.name, a.subnode_id) FROM net_addrs a LEFT JOIN "
			       "subnodes s ON s.id = a.subnode_id WHERE a.slot = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int(st, 1, slot);
	if (sqlite3_step(st) != SQLITE_ROW)
		return 0;
	snprintf(who, len, "%s", (const char *)sqlite3_column_text(st, 0));
	return 1;
}

/* The slot asked for (or the lowest whose ports are all free); its ports
 * appended to ports. */
static int pick_slot(struct node *n, sqlite3 *h, int want, int *slot, struct sn_err *err)
{
	const struct node_net_config *c = &n->cfg.net;
	for (int s = want >= 0 ? want : 0; s < (int)c->port_slots; s++) {
		char who[256];
		int held = slot_holder(h, s, who, sizeof(who));
		if (held < 0)
			return fail(h, "slots", err);
		unsigned first = c->port_base + (unsigned)s * c->ports_per_slot, last = first + c->ports_per_slot - 1;
		int r = 0;
		if (held)
			r = sn_err_msg(err, EEXIST, "port slot %d is already taken by subnode %s", s, who);
		if (r == 0)
			r = range_free(h, "tcp", first, last, err);
		if (r == 0)
			r = range_free(h, "udp", first, last, err);
		if (r == 0) {
			*slot = s;
			return 0;
		}
		if (r != -EEXIST || want >= 0)
			return r;
	}
	return sn_err_msg(err, EEXIST, "no free port slot (%u slots of %u ports from %u)", c->port_slots,
			  c->ports_per_slot, c->port_base);
}

static int insert_port(sqlite3 *h, const char *id, const char *proto, unsigned first, unsigned last,
		       unsigned ctr, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "INSERT INTO net_ports VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return fail(h, "ports", err);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, proto, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)first);
	sqlite3_bind_int(st, 4, (int)last);
	sqlite3_bind_int(st, 5, (int)ctr);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : fail(h, "ports", err);
}

static int reserve_in_tx(struct node *n, sqlite3 *h, const char *id, json_t *net, struct sn_err *err)
{
	const char *mode = json_string_value(json_object_get(net, "Mode"));
	bool bridge = strcmp(mode, "bridge") == 0;
	char ip[16] = "";
	int r;
	if (bridge && (r = pick_ip(n, h, ip, err)) < 0)
		return r;
	int slot = -1;
	json_t *ws = json_object_get(net, "PortSlot");
	if (ws && (r = pick_slot(n, h, (int)json_integer_value(ws), &slot, err)) < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "INSERT INTO net_addrs VALUES (?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return fail(h, "addresses", err);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (bridge)
		sqlite3_bind_text(st, 2, ip, -1, SQLITE_STATIC);
	if (slot >= 0)
		sqlite3_bind_int(st, 3, slot);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(h, "addresses", err);
	if (slot >= 0) {
		const struct node_net_config *c = &n->cfg.net;
		unsigned first = c->port_base + (unsigned)slot * c->ports_per_slot, last = first + c->ports_per_slot - 1;
		if ((r = insert_port(h, id, "tcp", first, last, first, err)) < 0 ||
		    (r = insert_port(h, id, "udp", first, last, first, err)) < 0)
			return r;
	}
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(net, "Bindings"), i, b) {
		const char *proto = json_string_value(json_object_get(b, "Proto"));
		unsigned first = (unsigned)json_integer_value(json_object_get(b, "HostFirst"));
		unsigned last = (unsigned)json_integer_value(json_object_get(b, "HostLast"));
		if ((r = range_free(h, proto, first, last, err)) < 0 ||
		    (r = insert_port(h, id, proto, first, last,
				     (unsigned)json_integer_value(json_object_get(b, "CtrFirst")), err)) < 0)
			return r;
	}
	return 0;
}

int node_net_reserve(struct node *n, const char *id, json_t *net, json_t **out,
		     struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(n->db);
	if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(h, "begin", err);
	int r = reserve_in_tx(n, h, id, net, err);
	if (r < 0) {
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		r = fail(h, "commit", err);
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	return node_net_lookup(n, id, out, err);
}

int node_net_release(struct node *n, const char *id, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(n->db);
	static const char *const sql[] = { "DELETE FROM net_ports WHERE subnode_id = ?",
					   "DELETE FROM net_addrs WHERE subnode_id = ?" };
	for (size_t i = 0; i < SN_ARRAY_SIZE(sql); i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(h, sql[i], -1, &st, NULL) != SQLITE_OK)
			return fail(h, "release", err);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return fail(h, "release", err);
	}
	return 0;
}

/* Rows of net_addrs (id NULL: all) into {id: reservation}. */
static int load(struct node *n, const char *id, json_t *all, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(n->db);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "SELECT subnode_id, ip, slot FROM net_addrs WHERE ?1 IS NULL OR subnode_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(h, "addresses", err);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc;
	const struct node_net_config *c = &n->cfg.net;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_pack("{s:[]}", "Ports");
		const char *ip = (const char *)sqlite3_column_text(st, 1);
		if (ip)
			json_object_set_new(o, "IP", json_string(ip));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			int s = sqlite3_column_int(st, 2);
			json_object_set_new(o, "Slot", json_integer(s));
			json_object_set_new(o, "PortBase", json_integer(c->port_base + (unsigned)s * c->ports_per_slot));
		}
		json_object_set_new(all, (const char *)sqlite3_column_text(st, 0), o);
	}
	if (rc != SQLITE_DONE)
		return fail(h, "addresses", err);
	_cleanup_stmt_ sqlite3_stmt *pt = NULL;
	if (sqlite3_prepare_v2(h, "SELECT subnode_id, proto, first, last, ctr_first FROM net_ports WHERE "
			       "?1 IS NULL OR subnode_id = ?1 ORDER BY proto, first", -1, &pt, NULL) != SQLITE_OK)
		return fail(h, "ports", err);
	sqlite3_bind_text(pt, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(pt)) == SQLITE_ROW) {
		json_t *o = json_object_get(all, (const char *)sqlite3_column_text(pt, 0));
		if (o)
			json_array_append_new(json_object_get(o, "Ports"), json_pack("{s:s, s:i, s:i, s:i}",
				"Proto", (const char *)sqlite3_column_text(pt, 1), "First", sqlite3_column_int(pt, 2),
				"Last", sqlite3_column_int(pt, 3), "CtrFirst", sqlite3_column_int(pt, 4)));
	}
	return rc == SQLITE_DONE ? 0 : fail(h, "ports", err);
}

int node_net_lookup(struct node *n, const char *id, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *all = json_object();
	int r = load(n, id, all, err);
	if (r < 0)
		return r;
	json_t *o = json_object_get(all, id);
	if (!o)
		return -ENOENT;
	*out = json_incref(o);
	return 0;
}

int node_net_all(struct node *n, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *all = json_object();
	int r = load(n, NULL, all, err);
	if (r < 0)
		return r;
	*out = steal_ptr(all);
	return 0;
}

int node_net_release_orphans(struct node *n, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(n->db);
	if (sqlite3_exec(h, "DELETE FROM net_ports WHERE subnode_id NOT IN (SELECT id FROM subnodes);"
			 "DELETE FROM net_addrs WHERE subnode_id NOT IN (SELECT id FROM subnodes);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return fail(h, "release orphans", err);
	return 0;
}
