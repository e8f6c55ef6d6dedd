/* network_spec.c — the network fields of a create request, checked before
 * anything is reserved or made (docs/API.md, "Networks"):
 *
 *   HostConfig.NetworkMode   "none" | "host" | "bridge" | "container:NAME"
 *                            (default: the node's network_default)
 *   HostConfig.PortBindings  Docker's {"CTR[-CTR][/tcp|udp]":
 *                            [{"HostIp": "", "HostPort": "H[-H]"}]}
 *   HostConfig.PortSlot      N (0..port_slots-1) or "auto": ports
 *                            port_base + N × ports_per_slot … published 1:1
 *   HostConfig.PortAllow     {"PORT[-PORT][/tcp|udp]": ["CIDR", ...]}:
 *                            those published ports only from those sources
 *
 * Normalized into cfg.Net: {Mode, Container?, Bindings: [{Proto, HostIP,
 * HostFirst, HostLast, CtrFirst}], PortSlot (-1 auto, absent none),
 * Allow: [{Proto, From, To, Sources}]}.
 */
#include "node/node.h"
#include "node/network.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "P" or "P-Q" (1..65535, P <= Q). */
static int parse_range(const char *s, unsigned *from, unsigned *to)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	unsigned long a = strtoul(s, &end, 10), b = a;
	if (*end == '-') {
		const char *t = end + 1;
		if (!*t || *t == '-' || *t == '+')
			return -EINVAL;
		b = strtoul(t, &end, 10);
	}
	if (*end || a < 1 || a > 65535 || b < a || b > 65535)
		return -EINVAL;
	*from = (unsigned)a;
	*to = (unsigned)b;
	return 0;
}

/* "RANGE[/proto]": the range and tcp or udp (tcp when none). */
static int parse_ports_proto(const char *key, unsigned *from, unsigned *to, const char **proto)
{
	char buf[64];
	if (strlen(key) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", key);
	char *slash = strchr(buf, '/');
	*proto = "tcp";
	if (slash) {
		*slash = '\0';
		if (strcmp(slash + 1, "tcp") == 0)
			*proto = "tcp";
		else if (strcmp(slash + 1, "udp") == 0)
			*proto = "udp";
		else
			return -EINVAL;
	}
	return parse_range(buf, from, to);
}

/* "A.B.C.D[/P]" with no host bits set. */
static int parse_cidr(const char *s, uint32_t *net, unsigned *prefix)
{
	char buf[32];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	long p = 32;
	if (slash) {
		*slash = '\0';
		char *end;
		if (!slash[1])
			return -EINVAL;
		p = strtol(slash + 1, &end, 10);
		if (*end || p < 0 || p > 32)
			return -EINVAL;
	}
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	uint32_t mask = p ? ~0u << (32 - p) : 0;
	if (ntohl(a.s_addr) & ~mask)
		return -EINVAL;
	*net = ntohl(a.s_addr);
	*prefix = (unsigned)p;
	return 0;
}

static bool cidr_overlap(uint32_t a, unsigned pa, uint32_t b, unsigned pb)
{
	unsigned p = pa < pb ? pa : pb;
	uint32_t mask = p ? ~0u << (32 - p) : 0;
	return (a & mask) == (b & mask);
}

static unsigned ival(json_t *o, const char *k) { return (unsigned)json_integer_value(json_object_get(o, k)); }
static const char *sval(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

int node_net_parse_allow(json_t *allow, const char *what, json_t **out, struct sn_err *err)
{
	if (!json_is_object(allow))
		return sn_err_msg(err, EINVAL, "%s: must be an object {\"PORT[-PORT][/tcp|udp]\": [\"CIDR\", ...]}", what);
	_cleanup_json_ json_t *res = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(allow, k, v) {
		unsigned from, to;
		const char *proto;
		if (parse_ports_proto(k, &from, &to, &proto) < 0)
			return sn_err_msg(err, EINVAL, "%s: `%s` is not PORT[-PORT][/tcp|udp] (ports 1..65535)", what, k);
		if (!json_is_array(v) || json_array_size(v) == 0)
			return sn_err_msg(err, EINVAL, "%s.%s: must be a non-empty array of CIDRs", what, k);
		_cleanup_json_ json_t *srcs = json_array();
		uint32_t nets[256];
		unsigned pfx[256];
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			const char *c = json_string_value(e);
			if (i >= 256)
				return sn_err_msg(err, EINVAL, "%s.%s: at most 256 sources", what, k);
			if (!c || parse_cidr(c, &nets[i], &pfx[i]) < 0)
				return sn_err_msg(err, EINVAL, "%s.%s[%zu]: `%s` is not an IPv4 CIDR "
						  "(A.B.C.D or A.B.C.D/P, no host bits)", what, k, i, c ? c : "?");
			for (size_t j = 0; j < i; j++)
				if (cidr_overlap(nets[i], pfx[i], nets[j], pfx[j]))
					return sn_err_msg(err, EINVAL, "%s.%s[%zu]: `%s` overlaps `%s`", what, k, i,
							  c, json_string_value(json_array_get(v, j)));
			char norm[24];
			struct in_addr a = { htonl(nets[i]) };
			char ab[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &a, ab, sizeof(ab));
			snprintf(norm, sizeof(norm), "%s/%u", ab, pfx[i]);
			json_array_append_new(srcs, json_string(norm));
		}
		json_t *o;
		json_array_foreach(res, i, o)
			if (strcmp(sval(o, "Proto"), proto) == 0 && from <= ival(o, "To") && ival(o, "From") <= to)
				return sn_err_msg(err, EINVAL, "%s: `%s` overlaps another entry", what, k);
		json_array_append_new(res, json_pack("{s:s, s:I, s:I, s:O}", "Proto", proto, "From",
						     (json_int_t)from, "To", (json_int_t)to, "Sources", srcs));
	}
	*out = steal_ptr(res);
	return 0;
}

int node_net_check_allow(json_t *allow, json_t *ports, const char *what, struct sn_err *err)
{
	size_t i, j;
	json_t *a, *p;
	json_array_foreach(allow, i, a) {
		bool inside = false;
		json_array_foreach(ports, j, p)
			if (strcmp(sval(p, "Proto"), sval(a, "Proto")) == 0 && ival(p, "First") <= ival(a, "From") &&
			    ival(a, "To") <= ival(p, "Last"))
				inside = true;
		if (!inside)
			return sn_err_msg(err, EINVAL, "%s: ports %u-%u/%s are not published by this subnode",
					  what, ival(a, "From"), ival(a, "To"), sval(a, "Proto"));
	}
	return 0;
}

static int bindings(json_t *pb, json_t *net, struct sn_err *err)
{
	if (!json_is_object(pb))
		return sn_err_msg(err, EINVAL, "HostConfig.PortBindings: must be an object");
	json_t *res = json_array();
	json_object_set_new(net, "Bindings", res);
	const char *k;
	json_t *v;
	json_object_foreach(pb, k, v) {
		unsigned cf, ct;
		const char *proto;
		if (parse_ports_proto(k, &cf, &ct, &proto) < 0)
			return sn_err_msg(err, EINVAL, "HostConfig.PortBindings: `%s` is not PORT[-PORT][/tcp|udp] "
					  "(ports 1..65535)", k);
		if (!json_is_array(v))
			return sn_err_msg(err, EINVAL, "HostConfig.PortBindings.%s: must be an array", k);
		size_t i;
		json_t *b;
		json_array_foreach(v, i, b) {
			const char *hip = sval(b, "HostIp"), *hp = sval(b, "HostPort");
			if (!json_is_object(b) || !hp)
				return sn_err_msg(err, EINVAL, "HostConfig.PortBindings.%s[%zu].HostPort: required", k, i);
			unsigned hf, ht;
			if (parse_range(hp, &hf, &ht) < 0)
				return sn_err_msg(err, EINVAL, "HostConfig.PortBindings.%s[%zu].HostPort: `%s` is not "
						  "PORT[-PORT] (1..65535)", k, i, hp);
			if (ht - hf != ct - cf)
				return sn_err_msg(err, EINVAL, "HostConfig.PortBindings.%s[%zu].HostPort: `%s` is not as "
						  "long as the container's range", k, i, hp);
			struct in_addr a;
			if (hip && *hip && inet_pton(AF_INET, hip, &a) != 1)
				return sn_err_msg(err, EINVAL, "HostConfig.PortBindings.%s[%zu].HostIp: `%s` is not an "
						  "IPv4 address", k, i, hip);
			size_t j;
			json_t *o;
			json_array_foreach(res, j, o)
				if (strcmp(sval(o, "Proto"), proto) == 0 && hf <= ival(o, "HostLast") &&
				    ival(o, "HostFirst") <= ht)
					return sn_err_msg(err, EINVAL, "HostConfig.PortBindings.%s[%zu].HostPort: `%s` "
							  "overlaps another binding", k, i, hp);
			json_array_append_new(res, json_pack("{s:s, s:s, s:I, s:I, s:I}", "Proto", proto, "HostIP",
				hip ? hip : "", "HostFirst", (json_int_t)hf, "HostLast", (json_int_t)ht,
				"CtrFirst", (json_int_t)cf));
		}
	}
	return 0;
}

static int slot(struct node *n, json_t *hc, json_t *net, struct sn_err *err)
{
	json_t *s = json_object_get(hc, "PortSlot");
	if (!s || json_is_null(s))
		return 0;
	const struct node_net_config *c = &n->cfg.net;
	json_int_t v;
	if (json_is_string(s) && strcmp(json_string_value(s), "auto") == 0)
		v = -1;
	else if (json_is_integer(s) && json_integer_value(s) >= 0 && json_integer_value(s) < c->port_slots)
		v = json_integer_value(s);
	else
		return sn_err_msg(err, EINVAL, "HostConfig.PortSlot: must be \"auto\" or 0..%u", c->port_slots - 1);
	json_object_set_new(net, "PortSlot", json_integer(v));
	return 0;
}

/* "container:NAME": the subnode whose network namespace is joined. */
static int container_mode(struct node *n, const char *ref, json_t *net, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	struct sn_err e2 = { 0 };
	pthread_mutex_lock(&n->lock);
	int r = node_db_find(n->db, ref, &row, &e2);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return sn_err_msg(err, EINVAL, "HostConfig.NetworkMode: container `%s`: %s", ref, e2.msg);
	const char *mode = sval(json_object_get(json_object_get(row, "config"), "Net"), "Mode");
	if (!mode || strcmp(mode, "bridge") != 0)
		return sn_err_msg(err, EINVAL, "HostConfig.NetworkMode: container `%s` has network mode %s; "
				  "only a bridge subnode's namespace can be shared", ref, mode ? mode : "none");
	json_object_set_new(net, "Container", json_string(sval(row, "id")));
	return 0;
}

int node_net_validate(struct node *n, json_t *hc, json_t *cfg, struct sn_err *err)
{
	_cleanup_json_ json_t *net = json_object();
	const char *mode = n->cfg.net.default_mode;
	json_t *m = hc ? json_object_get(hc, "NetworkMode") : NULL;
	if (m && !json_is_null(m)) {
		if (!json_is_string(m))
			return sn_err_msg(err, EINVAL, "HostConfig.NetworkMode: must be a string");
		mode = json_string_value(m);
		if (strcmp(mode, "default") == 0 || !*mode)
			mode = n->cfg.net.default_mode;
	}
	int r;
	if (strncmp(mode, "container:", 10) == 0) {
		if ((r = container_mode(n, mode + 10, net, err)) < 0)
			return r;
		mode = "container";
	} else if (strcmp(mode, "none") && strcmp(mode, "host") && strcmp(mode, "bridge")) {
		return sn_err_msg(err, EINVAL, "HostConfig.NetworkMode: `%s` is not none, host, bridge or "
				  "container:NAME", mode);
	}
	json_object_set_new(net, "Mode", json_string(mode));
	json_t *pb = hc ? json_object_get(hc, "PortBindings") : NULL;
	if (pb && !json_is_null(pb) && json_object_size(pb)) {
		if (strcmp(mode, "bridge") != 0)
			return sn_err_msg(err, EINVAL, "HostConfig.PortBindings: needs NetworkMode bridge (not %s)", mode);
		if ((r = bindings(pb, net, err)) < 0)
			return r;
	}
	if (hc && (r = slot(n, hc, net, err)) < 0)
		return r;
	if (json_object_get(net, "PortSlot") && strcmp(mode, "bridge") && strcmp(mode, "host"))
		return sn_err_msg(err, EINVAL, "HostConfig.PortSlot: needs NetworkMode bridge or host (not %s)", mode);
	json_t *al = hc ? json_object_get(hc, "PortAllow") : NULL;
	if (al && !json_is_null(al)) {
		json_t *allow = NULL;
		if ((r = node_net_parse_allow(al, "HostConfig.PortAllow", &allow, err)) < 0)
			return r;
		json_object_set_new(net, "Allow", allow);
		if (json_array_size(allow) && strcmp(mode, "bridge") != 0)
			return sn_err_msg(err, EINVAL, "HostConfig.PortAllow: needs NetworkMode bridge (not %s)", mode);
	}
	json_object_set(cfg, "Net", net);
	return 0;
}
