/* config.c — the node configuration file.
 *
 * Format: one `key = value` a line; `#` starts a comment; blank lines are
 * skipped; values may be quoted with "". Sizes are `size.NAME = UNITS`
 * lines: the first one in a file replaces the whole default table, so a
 * file states its table completely. Every key and its default:
 *
 *   root            = /var/lib/subnode        (--root overrides)
 *   socket          = /run/subnode/subnoded.sock (--socket overrides)
 *   socket_group    = (the daemon's group)    group that may use the socket
 *   socket_mode     = 0660
 *   runtime         = subrun                  subrun | runc | crun | a path
 *   supervisor      = (subnode-sup next to subnoded, else PATH)
 *   image_tool      = (subnode-image next to subnoded, else PATH)  pulls, imports, unpacks
 *   cgroup_parent   = /subnode
 *   tcp             = (off)                   host:port; needs token_file
 *   token_file      = (none)
 *   tls_cert, tls_key = (none)                TLS on the TCP listener
 *   reserve_cpus    = 0                       cores kept for the node
 *   reserve_memory  = 256M
 *   reserve_disk    = 1G
 *   pids_per_unit   = 64
 *   log_max_size    = 10M                     per container log file
 *   log_max_files   = 3                       rotated files kept
 *   stop_timeout    = 10                      seconds, SIGTERM to SIGKILL
 *   health_interval_min = 1000                ms: the shortest health check
 *                                             interval (and start interval) a create may ask
 *   default_size    = small
 *   size.small = 1, size.medium = 4, size.large = 128
 *   log_level       = info                    error | warn | info | debug
 *   http_timeout    = 30                      s: a connection silent this long is closed
 *   http_client_connections = 32              connections of one client address (TCP)
 *   http_max_args   = 64                      query arguments of a request (more: 414)
 *                                             (the keys and ranges: api/limits.c)
 *   network keys (network_default, bridge, bridge_subnet, nft_table,
 *   port_base, ports_per_slot, port_slots): network_config.c
 *
 * A bad line is an error naming the file and the line: a daemon that
 * silently ignores a misspelt limit is worse than one that does not start.
 */
#include "node/config.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int node_parse_bytes(const char *s, uint64_t *out)
{
	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *d = NULL;
	if (*v) {
		d = strdup(v);
		if (!d)
			return -ENOMEM;
	}
	free(*dst);
	*dst = d;
	return 0;
}

int node_config_defaults(struct node_config *c, struct sn_err *err)
{
	memset(c, 0, sizeof(*c));
	c->root = strdup(NODE_DEFAULT_ROOT);
	c->socket = strdup(NODE_DEFAULT_SOCKET);
	c->runtime = strdup("subrun");
	c->cgroup_parent = strdup("/subnode");
	c->default_size = strdup("small");
	c->log_level = strdup("info");
	if (!c->root || !c->socket || !c->runtime || !c->cgroup_parent || !c->default_size ||
	    !c->log_level) {
		node_config_free(c);
		return sn_err_set(err, ENOMEM, "config defaults");
	}
	c->socket_mode = 0660;
	c->reserve_memory = 256ull << 20;
	c->reserve_disk = 1ull << 30;
	c->pids_per_unit = 64;
	c->log_max_size = 10ull << 20;
	c->log_max_files = 3;
	c->stop_timeout = 10;
	c->health_interval_min_ms = 1000;
	static const struct node_size def[] = { { "small", 1 }, { "medium", 4 }, { "large", 128 } };
	memcpy(c->sizes, def, sizeof(def));
	c->n_sizes = SN_ARRAY_SIZE(def);
	node_net_config_defaults(&c->net);
	api_limits_default(&c->http);
	return 0;
}

void node_config_free(struct node_config *c)
{
	free(c->root); free(c->socket); free(c->socket_group); free(c->runtime);
	free(c->supervisor); free(c->image_tool); free(c->cgroup_parent); free(c->tcp); free(c->token_file);
	free(c->tls_cert); free(c->tls_key); free(c->default_size); free(c->log_level);
	memset(c, 0, sizeof(*c));
}

const struct node_size *node_config_size(const struct node_config *c, const char *name)
{
	for (unsigned i = 0; i < c->n_sizes; i++)
		if (strcmp(c->sizes[i].name, name) == 0)
			return &c->sizes[i];
	return NULL;
}

const char *node_config_sizes_str(const struct node_config *c, char *buf, size_t n)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < c->n_sizes && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s (%u)", i ? ", " : "",
					c->sizes[i].name, c->sizes[i].units);
	return buf;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool size_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(((struct node_size *)0)->name))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

static int set_key(struct node_config *c, const char *k, const char *v, bool *sizes_seen,
		   const char *what, unsigned line, struct sn_err *err)
{
	static const struct { const char *key; size_t off; } strs[] = {
		{ "root", offsetof(struct node_config, root) },
		{ "socket", offsetof(struct node_config, socket) },
		{ "socket_group", offsetof(struct node_config, socket_group) },
		{ "runtime", offsetof(struct node_config, runtime) },
		{ "supervisor", offsetof(struct node_config, supervisor) },
		{ "image_tool", offsetof(struct node_config, image_tool) },
		{ "cgroup_parent", offsetof(struct node_config, cgroup_parent) },
		{ "tcp", offsetof(struct node_config, tcp) },
		{ "token_file", offsetof(struct node_config, token_file) },
		{ "tls_cert", offsetof(struct node_config, tls_cert) },
		{ "tls_key", offsetof(struct node_config, tls_key) },
		{ "default_size", offsetof(struct node_config, default_size) },
		{ "log_level", offsetof(struct node_config, log_level) },
	};
	for (size_t i = 0; i < SN_ARRAY_SIZE(strs); i++)
		if (strcmp(k, strs[i].key) == 0) {
			if (set_str((char **)((char *)c + strs[i].off), v) < 0)
				return sn_err_set(err, ENOMEM, "%s", what);
			return 0;
		}
	unsigned long long u;
	uint64_t b;
	if (strcmp(k, "socket_mode") == 0) {
		char *end = NULL;
		errno = 0;
		unsigned long m = strtoul(v, &end, 8);
		if (errno || !*v || *end || m > 0777)
			goto bad;
		c->socket_mode = (unsigned)m;
		return 0;
	}
	if (strcmp(k, "reserve_cpus") == 0) {
		char *end = NULL;
		double d = strtod(v, &end);
		if (!*v || *end || d < 0 || d > 4096)
			goto bad;
		c->reserve_cpus = d;
		return 0;
	}
	if (strcmp(k, "reserve_memory") == 0 || strcmp(k, "reserve_disk") == 0 ||
	    strcmp(k, "log_max_size") == 0) {
		if (node_parse_bytes(v, &b) < 0)
			goto bad;
		if (k[8] == 'm')
			c->reserve_memory = b;
		else if (k[8] == 'd')
			c->reserve_disk = b;
		else if (b < 4096)
			return sn_err_msg(err, EINVAL, "%s:%u: log_max_size must be at least 4K", what, line);
		else
			c->log_max_size = b;
		return 0;
	}
	if (strcmp(k, "health_interval_min") == 0) {
		if (sn_parse_u64(v, &u) < 0 || u < 1 || u > 3600000)
			return sn_err_msg(err, EINVAL, "%s:%u: health_interval_min must be 1..3600000 (ms), "
					  "not `%s`", what, line, v);
		c->health_interval_min_ms = (unsigned)u;
		return 0;
	}
	if (strcmp(k, "pids_per_unit") == 0 || strcmp(k, "log_max_files") == 0 ||
	    strcmp(k, "stop_timeout") == 0) {
		if (sn_parse_u64(v, &u) < 0 || u > 1000000)
			goto bad;
		if (k[0] == 'p') {
			if (u == 0)
				goto bad;
			c->pids_per_unit = (unsigned)u;
		} else if (k[0] == 'l') {
			c->log_max_files = (unsigned)u;
		} else {
			c->stop_timeout = (unsigned)u;
		}
		return 0;
	}
	if (strncmp(k, "size.", 5) == 0) {
		const char *name = k + 5;
		if (!size_name_ok(name))
			return sn_err_msg(err, EINVAL, "%s:%u: size name `%s` must be 1-31 of [A-Za-z0-9_-]",
					  what, line, name);
		if (sn_parse_u64(v, &u) < 0 || u < 1 || u > NODE_UNITS)
			return sn_err_msg(err, EINVAL, "%s:%u: size `%s` must be 1..%d units, not `%s`",
					  what, line, name, NODE_UNITS, v);
		if (!*sizes_seen) {
			c->n_sizes = 0;
			*sizes_seen = true;
		}
		for (unsigned i = 0; i < c->n_sizes; i++)
			if (strcmp(c->sizes[i].name, name) == 0)
				return sn_err_msg(err, EINVAL, "%s:%u: size `%s` given twice", what, line, name);
		if (c->n_sizes == NODE_MAX_SIZES)
			return sn_err_msg(err, EINVAL, "%s:%u: at most %d sizes", what, line, NODE_MAX_SIZES);
		snprintf(c->sizes[c->n_sizes].name, sizeof(c->sizes[0].name), "%s", name);
		c->sizes[c->n_sizes++].units = (unsigned)u;
		return 0;
	}
	int nr = node_net_config_key(&c->net, k, v, err);
	if (nr == 1)
		nr = api_limits_set(&c->http, k, v, err);
	if (nr <= 0)
		return nr < 0 ? sn_err_wrap(err, "%s:%u", what, line) : 0;
	return sn_err_msg(err, EINVAL, "%s:%u: unknown key `%s`", what, line, k);
bad:
	return sn_err_msg(err, EINVAL, "%s:%u: bad value `%s` for `%s`", what, line, v, k);
}

int node_config_parse(struct node_config *c, const char *text, const char *what,
		      struct sn_err *err)
{
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return sn_err_set(err, ENOMEM, "%s", what);
	bool sizes_seen = false;
	unsigned line = 0;
	/* strtok_r would skip empty lines and so miscount them: split by hand. */
	for (char *p = copy; p; ) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		char *l = p;
		p = nl ? nl + 1 : NULL;
		char *hash = strchr(l, '#');
		if (hash)
			*hash = '\0';
		l = trim(l);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq)
			return sn_err_msg(err, EINVAL, "%s:%u: expected `key = value`", what, line);
		*eq = '\0';
		char *k = trim(l), *v = trim(eq + 1);
		size_t vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = '\0';
			v++;
		}
		int r = set_key(c, k, v, &sizes_seen, what, line, err);
		if (r < 0)
			return r;
	}
	if (!c->root || c->root[0] != '/')
		return sn_err_msg(err, EINVAL, "%s: root must be an absolute path", what);
	if (!c->socket || c->socket[0] != '/')
		return sn_err_msg(err, EINVAL, "%s: socket must be an absolute path", what);
	if (!c->runtime)
		return sn_err_msg(err, EINVAL, "%s: runtime must not be empty", what);
	if (!c->cgroup_parent || c->cgroup_parent[0] != '/' || strstr(c->cgroup_parent, ".."))
		return sn_err_msg(err, EINVAL, "%s: cgroup_parent must be an absolute cgroup path without `..`", what);
	if (c->n_sizes == 0)
		return sn_err_msg(err, EINVAL, "%s: no sizes", what);
	if (!c->default_size || !node_config_size(c, c->default_size))
		return sn_err_msg(err, EINVAL, "%s: default_size `%s` is not a size", what,
				  c->default_size ? c->default_size : "");
	const char *colon = c->tcp ? strrchr(c->tcp, ':') : NULL;
	uint16_t port;
	if (c->tcp && (!colon || sn_parse_port(colon + 1, &port) < 0))
		return sn_err_msg(err, EINVAL, "%s: tcp `%s`: must be HOST:PORT with a port 1..65535", what,
				  c->tcp);
	if (c->tcp && !c->token_file)
		return sn_err_msg(err, EINVAL, "%s: tcp needs token_file (every TCP request needs the token)", what);
	if (!!c->tls_cert != !!c->tls_key)
		return sn_err_msg(err, EINVAL, "%s: tls_cert and tls_key go together", what);
	return 0;
}

int node_config_load(struct node_config *c, const char *path, struct sn_err *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = sn_read_file(path, 1 << 20, &text, &len, err);
	if (r < 0)
		return sn_err_wrap(err, "config");
	return node_config_parse(c, text, path, err);
}
