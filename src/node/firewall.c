/* firewall.c — the daemon's own nftables table (family ip, named by
 * cfg.net.nft_table), through libnftables: every change is one buffer of
 * commands, which libnftables sends as one netlink batch — the kernel
 * applies all of it or none, so there is no moment with half a change.
 * Nothing outside the table is touched; nothing runs `nft`.
 *
 * The table is a fixed skeleton whose chains look things up in sets and
 * maps; a subnode adds and removes elements only:
 *
 *   r_tcp, r_udp  interval maps port range → address: ranges published
 *                 1:1 (port slots, -p A-B:A-B)
 *   pmap          proto . port → address . port: translated ports (-p 8080:80)
 *   guarded       proto . port ranges that have an allow-list
 *   allowed       proto . source CIDR . port range: who may reach them
 *
 *   prerouting/output (nat)  to a local address: dnat through the maps
 *   guard (filter, prerouting, before dnat)  a guarded port from a source
 *                 not in `allowed` is dropped (the node itself, through
 *                 output, is not filtered)
 *   postrouting (nat)  masquerade out of the subnet; from 127/8 onto the
 *                 bridge (a connection to 127.0.0.1:PORT); hairpin
 *
 * Replacing an allow-list deletes the old elements and adds the new in one
 * batch. A daemon start (and any failed element change) rebuilds the table
 * from the db: "add table; delete table; table {...}" in one batch, so the
 * table is replaced as a whole, and a rule someone else put in our table
 * does not survive, while other tables are left alone.
 */
#include "node/node.h"
#include "node/network.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sval(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static unsigned ival(json_t *o, const char *k) { return (unsigned)json_integer_value(json_object_get(o, k)); }

struct elems {
	FILE *f[5];
	char *buf[5];
	size_t len[5];
};
enum { E_RTCP, E_RUDP, E_PMAP, E_GUARDED, E_ALLOWED };
static const char *const set_names[] = { "r_tcp", "r_udp", "pmap", "guarded", "allowed" };

static int elems_open(struct elems *e)
{
	memset(e, 0, sizeof(*e));
	for (int i = 0; i < 5; i++)
		if (!(e->f[i] = open_memstream(&e->buf[i], &e->len[i])))
			return -ENOMEM;
	return 0;
}

static void elems_free(struct elems *e)
{
	for (int i = 0; i < 5; i++) {
		if (e->f[i])
			fclose(e->f[i]);
		free(e->buf[i]);
	}
}

static void add(struct elems *e, int set, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(struct elems *e, int set, const char *fmt, ...)
{
	if (ftell(e->f[set]) > 0)
		fputs(", ", e->f[set]);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(e->f[set], fmt, ap);
	va_end(ap);
}

static void range(char *buf, size_t n, unsigned a, unsigned b)
{
	if (a == b)
		snprintf(buf, n, "%u", a);
	else
		snprintf(buf, n, "%u-%u", a, b);
}

/* One subnode's elements: its published ports (res) and allow-list. */
static void subnode_elems(struct elems *e, json_t *res, json_t *allow)
{
	const char *ip = sval(res, "IP");
	size_t i, j;
	json_t *p, *a, *s;
	if (ip && res) {
		json_array_foreach(json_object_get(res, "Ports"), i, p) {
			unsigned first = ival(p, "First"), last = ival(p, "Last"), ctr = ival(p, "CtrFirst");
			bool udp = strcmp(sval(p, "Proto"), "udp") == 0;
			char r[16];
			range(r, sizeof(r), first, last);
			if (ctr == first)
				add(e, udp ? E_RUDP : E_RTCP, "%s : %s", r, ip);
			else
				for (unsigned k = 0; k <= last - first; k++)
					add(e, E_PMAP, "%s . %u : %s . %u", udp ? "udp" : "tcp", first + k, ip, ctr + k);
		}
	}
	json_array_foreach(allow, i, a) {
		char r[16];
		range(r, sizeof(r), ival(a, "From"), ival(a, "To"));
		add(e, E_GUARDED, "%s . %s", sval(a, "Proto"), r);
		json_array_foreach(json_object_get(a, "Sources"), j, s)
			add(e, E_ALLOWED, "%s . %s . %s", sval(a, "Proto"), json_string_value(s), r);
	}
}

/* "VERB element ip T SET { ... }" lines for every non-empty set. */
static void elems_cmds(FILE *out, struct elems *e, const char *verb, const char *table)
{
	for (int i = 0; i < 5; i++) {
		fflush(e->f[i]);
		if (e->len[i])
			fprintf(out, "%s element ip %s %s { %s }\n", verb, table, set_names[i], e->buf[i]);
	}
}

static int run(struct node *n, const char *cmds, struct sn_err *err)
{
	struct node_net *net = n->net;
	pthread_mutex_lock(&net->lock);
	if (!net->nft) {
		net->nft = nft_ctx_new(NFT_CTX_DEFAULT);
		if (net->nft) {
			nft_ctx_buffer_output(net->nft);
			nft_ctx_buffer_error(net->nft);
		}
	}
	int r = 0;
	if (!net->nft) {
		r = sn_err_set(err, ENOMEM, "nftables context");
	} else if (nft_run_cmd_from_buffer(net->nft, cmds) != 0) {
		const char *msg = nft_ctx_get_error_buffer(net->nft);
		char first[512];
		snprintf(first, sizeof(first), "%s", msg ? msg : "");
		first[strcspn(first, "\n")] = '\0';
		r = sn_err_msg(err, EIO, "nftables table `%s`: %s", n->cfg.net.nft_table,
			       *first ? first : "the kernel refused the batch (is nf_tables there?)");
	}
	pthread_mutex_unlock(&net->lock);
	return r;
}

static void skeleton(FILE *f, struct node *n)
{
	const char *t = n->cfg.net.nft_table, *br = n->cfg.net.bridge, *sub = n->cfg.net.subnet;
	fprintf(f,
		"add table ip %1$s\n"
		"delete table ip %1$s\n"
		"table ip %1$s {\n"
		"  map r_tcp { type inet_service : ipv4_addr; flags interval; }\n"
		"  map r_udp { type inet_service : ipv4_addr; flags interval; }\n"
		"  map pmap { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
		"  set guarded { type inet_proto . inet_service; flags interval; }\n"
		"  set allowed { type inet_proto . ipv4_addr . inet_service; flags interval; }\n"
		"  chain pub {\n"
		"    dnat ip to meta l4proto . th dport map @pmap\n"
		"    dnat ip to tcp dport map @r_tcp\n"
		"    dnat ip to udp dport map @r_udp\n"
		"  }\n"
		"  chain prerouting { type nat hook prerouting priority dstnat; policy accept; fib daddr type local jump pub; }\n"
		"  chain output { type nat hook output priority -100; policy accept; fib daddr type local jump pub; }\n"
		"  chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
		"    ip saddr %3$s oifname != \"%2$s\" masquerade\n"
		"    oifname \"%2$s\" ip saddr 127.0.0.0/8 masquerade\n"
		"    oifname \"%2$s\" ct status dnat ip saddr %3$s masquerade\n"
		"  }\n"
		"  chain guard { type filter hook prerouting priority -150; policy accept;\n"
		"    fib daddr type local meta l4proto . th dport @guarded meta l4proto . ip saddr . th dport != @allowed drop\n"
		"  }\n"
		"}\n", t, br, sub);
}

int node_fw_rebuild(struct node *n, const char *skip, struct sn_err *err)
{
	_cleanup_json_ json_t *all = NULL, *rows = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_net_all(n, &all, err);
	if (r == 0)
		r = node_db_list(n->db, &rows, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	struct elems e;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f || elems_open(&e) < 0) {
		if (f)
			fclose(f);
		elems_free(&e);
		return sn_err_set(err, ENOMEM, "firewall");
	}
	bool any = false;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *id = sval(row, "id");
		json_t *res = json_object_get(all, id);
		if (!res || !sval(res, "IP") || (skip && strcmp(id, skip) == 0))
			continue;
		any = true;
		subnode_elems(&e, res, json_object_get(json_object_get(json_object_get(row, "config"), "Net"), "Allow"));
	}
	if (any) {
		skeleton(f, n);
		elems_cmds(f, &e, "add", n->cfg.net.nft_table);
	} else {
		fprintf(f, "add table ip %1$s\ndelete table ip %1$s\n", n->cfg.net.nft_table);
	}
	elems_free(&e);
	fclose(f);
	return run(n, buf, err);
}

/* Delete (the ports of res when ports_del, del_allow) and add (the ports
 * when ports_add, add_allow) in one batch; rebuild the table, leaving out
 * skip, when the kernel refuses (a table that does not match the db). */
static int change(struct node *n, json_t *res, json_t *del_allow, json_t *add_allow, bool ports_del,
		  bool ports_add, const char *skip, struct sn_err *err)
{
	struct elems d, a;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return sn_err_set(err, ENOMEM, "firewall");
	if (elems_open(&d) < 0 || elems_open(&a) < 0) {
		fclose(f);
		elems_free(&d);
		elems_free(&a);
		return sn_err_set(err, ENOMEM, "firewall");
	}
	_cleanup_json_ json_t *noports = json_object();
	subnode_elems(&d, ports_del ? res : noports, del_allow);
	subnode_elems(&a, ports_add ? res : noports, add_allow);
	elems_cmds(f, &d, "delete", n->cfg.net.nft_table);
	elems_cmds(f, &a, "add", n->cfg.net.nft_table);
	elems_free(&d);
	elems_free(&a);
	fclose(f);
	if (len == 0)
		return 0;
	int r = run(n, buf, err);
	if (r == 0)
		return 0;
	sn_warn("firewall: %s; rebuilding the table from the state db", err->msg);
	sn_err_clear(err);
	return node_fw_rebuild(n, skip, err);
}

int node_fw_add(struct node *n, json_t *res, json_t *allow, struct sn_err *err)
{
	return change(n, res, NULL, allow, false, true, NULL, err);
}

int node_fw_del(struct node *n, json_t *res, json_t *allow, struct sn_err *err)
{
	return change(n, res, allow, NULL, true, false, sval(res, "Id"), err);
}

int node_fw_replace_allow(struct node *n, json_t *res, json_t *old_allow, json_t *new_allow,
			  struct sn_err *err)
{
	return change(n, res, old_allow, new_allow, false, false, NULL, err);
}

void node_fw_close(struct node *n)
{
	if (n->net && n->net->nft) {
		nft_ctx_free(n->net->nft);
		n->net->nft = NULL;
	}
}
