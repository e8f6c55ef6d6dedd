/* main.c — subnode-image, the offline tool over the image layer.
 *
 *   subnode-image [--root DIR] COMMAND ...
 *     pull REF [--insecure] [--creds user:pass] [--ca-file F] [--timeout S]
 *              [--parallel N] [--platform os/arch] [--unpack]
 *     import PATH|- [--name REF] [--unpack] [--label L]
 *                                  OCI layout dir, or a tar (docker-archive or
 *                                  OCI layout; `-`: stdin, named L in messages)
 *     export REF --format oci|docker OUT
 *     ls [--json]
 *     inspect REF
 *     rm REF
 *     gc
 *     unpack REF DEST
 *     bundle REF DIR [--id ID] [-- ARGS...]
 *     snapshot-rm DIR
 *
 *     prepare REF                  unpack the layers into the layer cache
 *     volume-export [--] DIR       a volume's tree as a stream on stdout
 *     volume-import [--] DIR       a stream from stdin unpacked into DIR
 *                                  (both: src/image/volstream.c; no store)
 *
 * Exit 0 on success, 1 with the error on stderr. Progress goes to stderr
 * when it is a terminal (or with --progress).
 *
 * --json is the machine protocol the node daemon uses when it hands image
 * work to this program (so that subnoded links neither libcurl nor
 * libarchive; docs/NODE.md, "Images"): stdout carries only JSON lines,
 *   {"event":"start|data|resume|exists|done|unpack","what":"layer",
 *    "digest":"sha256:…","done":N,"total":N,"index":I,"count":N}
 * (data at most every 100 ms per layer), then exactly one of
 *   {"digest":"sha256:…","tags":[…]} success (pull, import, prepare;
 *                                    tags: the names an import gave)
 *   {"error":"message","errno":N}    failure (exit status 1)
 * A helper that dies before its last line leaves the store as it was (new
 * blobs are staged in tmp/ and renamed in only once the image checks out).
 * `pull` and `import` take --unpack: prepare the layers once the image is
 * in, so that creating containers from it needs no unpack.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "image/image.h"

static bool show_progress, json_mode;

/* One JSON line on stdout, flushed (the daemon reads it as it comes). */
static void json_line(json_t *j)
{
	char *t = j ? sn_json_dump(j, false) : NULL;
	json_decref(j);
	if (t) {
		printf("%s\n", t);
		fflush(stdout);
	}
	free(t);
}

static void progress_json(const struct image_progress *p)
{
	static int64_t last[64];
	if (p->event == IMAGE_PROGRESS_DATA && p->done < p->total) {
		int64_t t = sn_now_ms();
		if (t - last[p->index % 64] < 100)
			return;
		last[p->index % 64] = t;
	}
	json_line(json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:i}", "event",
			    image_progress_event_name(p->event), "what", p->what ? p->what : "",
			    "digest", p->digest ? p->digest : "", "done", (json_int_t)p->done,
			    "total", (json_int_t)p->total, "index", (int)p->index, "count", (int)p->count));
}

static void progress_cb(const struct image_progress *p, void *data)
{
	(void)data;
	if (json_mode) {
		progress_json(p);
		return;
	}
	if (!show_progress)
		return;
	const char *d = p->digest && strlen(p->digest) > 19 ? p->digest + 7 : (p->digest ? p->digest : "");
	switch (p->event) {
	case IMAGE_PROGRESS_EXISTS:
		fprintf(stderr, "%s %.12s: already present\n", p->what, d);
		break;
	case IMAGE_PROGRESS_RESUME:
		fprintf(stderr, "%s %.12s: resuming at %llu of %llu bytes\n", p->what, d,
			(unsigned long long)p->done, (unsigned long long)p->total);
		break;
	case IMAGE_PROGRESS_START:
		fprintf(stderr, "%s %.12s: downloading %llu bytes\n", p->what, d,
			(unsigned long long)p->total);
		break;
	case IMAGE_PROGRESS_DATA:
		if (isatty(2))
			fprintf(stderr, "\r%s %.12s: %llu/%llu", p->what, d, (unsigned long long)p->done,
				(unsigned long long)p->total);
		break;
	case IMAGE_PROGRESS_DONE:
		fprintf(stderr, "%s%s %.12s: done (%llu bytes)\n", isatty(2) ? "\r" : "", p->what, d,
			(unsigned long long)p->done);
		break;
	case IMAGE_PROGRESS_UNPACK:
		fprintf(stderr, "%s %.12s: unpacking\n", p->what, d);
		break;
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: subnode-image [--root DIR] [--progress | --json] COMMAND\n"
		"  pull REF [--insecure] [--creds user:pass] [--ca-file F] [--timeout S] [--parallel N] [--unpack]\n"
		"  import PATH|- [--name REF] [--unpack] [--label L] | prepare REF\n"
		"  volume-export DIR | volume-import DIR\n"
		"  export REF --format oci|docker OUT\n"
		"  ls [--json] | inspect REF | rm REF | gc\n"
		"  unpack REF DEST | bundle REF DIR [--id ID] [-- ARGS...] | snapshot-rm DIR\n");
	return 1;
}

static int fail(struct sn_err *e)
{
	if (json_mode)
		json_line(json_pack("{s:s, s:i}", "error", e->msg[0] ? e->msg : strerror(e->code),
				    "errno", e->code ? e->code : EIO));
	else
		fprintf(stderr, "subnode-image: %s\n", e->msg);
	return 1;
}

/* Unpack the image's layers into the store's layer cache (once). */
static int prepare(struct image_store *s, const char *ref, struct sn_err *e)
{
	struct image *img = NULL;
	int r = image_load(s, ref, &img, e);
	if (r == 0)
		r = image_layers_prepare(s, img, progress_cb, NULL, e);
	image_free(img);
	return r;
}

/* The outcome of pull, import and prepare: the manifest digest (a line of
 * its own, or the protocol's last line), after preparing the layers when
 * asked. */
static int done(struct image_store *s, const char *digest, json_t *tagged, bool unpack,
		struct sn_err *e)
{
	if (unpack && prepare(s, digest, e) < 0)
		return fail(e);
	if (json_mode)
		json_line(json_pack("{s:s, s:o}", "digest", digest, "tags",
				    tagged ? json_incref(tagged) : json_array()));
	else
		printf("%s\n", digest);
	return 0;
}

static int cmd_pull(struct image_store *s, int argc, char **argv, struct sn_err *e)
{
	struct image_pull_opts o = { .progress = progress_cb };
	_cleanup_free_ char *creds = NULL;
	struct image_platform plat = { 0 };
	_cleanup_free_ char *platbuf = NULL;
	static const struct option lo[] = {
		{ "insecure", no_argument, 0, 'k' }, { "creds", required_argument, 0, 'c' },
		{ "ca-file", required_argument, 0, 'a' }, { "timeout", required_argument, 0, 't' },
		{ "parallel", required_argument, 0, 'p' }, { "platform", required_argument, 0, 'P' },
		{ "unpack", no_argument, 0, 'u' }, { 0, 0, 0, 0 } };
	bool unpack = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k': o.insecure = true; break;
		case 'u': unpack = true; break;
		case 'c': {
			creds = strdup(optarg);
			char *colon = creds ? strchr(creds, ':') : NULL;
			if (!colon) {
				fprintf(stderr, "subnode-image: --creds wants user:password\n");
				return 1;
			}
			*colon = '\0';
			o.username = creds;
			o.password = colon + 1;
			break;
		}
		case 'a': o.ca_file = optarg; break;
		case 't': o.timeout_s = atol(optarg); break;
		case 'p': o.parallel = (unsigned)atoi(optarg); break;
		case 'P': {
			platbuf = strdup(optarg);
			char *sl = platbuf ? strchr(platbuf, '/') : NULL;
			if (!sl) {
				fprintf(stderr, "subnode-image: --platform wants os/arch\n");
				return 1;
			}
			*sl = '\0';
			plat.os = platbuf;
			plat.arch = sl + 1;
			o.platform = &plat;
			break;
		}
		default: return usage();
		}
	}
	if (optind + 1 != argc)
		return usage();
	if (!o.username && getenv("SUBNODE_REGISTRY_CREDS")) {
		creds = strdup(getenv("SUBNODE_REGISTRY_CREDS"));
		char *colon = creds ? strchr(creds, ':') : NULL;
		if (colon) {
			*colon = '\0';
			o.username = creds;
			o.password = colon + 1;
		}
	}
	char d[IMAGE_DIGEST_SIZE];
	if (image_pull(s, argv[optind], &o, d, e) < 0)
		return fail(e);
	return done(s, d, NULL, unpack, e);
}

static int cmd_import(struct image_store *s, int argc, char **argv, struct sn_err *e)
{
	_cleanup_json_ json_t *tagged = json_array();
	struct image_import_opts o = { .progress = progress_cb, .tagged = tagged };
	static const struct option lo[] = { { "name", required_argument, 0, 'n' },
					    { "unpack", no_argument, 0, 'u' },
					    { "label", required_argument, 0, 'l' }, { 0, 0, 0, 0 } };
	bool unpack = false;
	const char *label = "stdin";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'n')
			o.name = optarg;
		else if (c == 'u')
			unpack = true;
		else if (c == 'l')
			label = optarg;
		else
			return usage();
	}
	if (optind + 1 != argc)
		return usage();
	char d[IMAGE_DIGEST_SIZE];
	int r = strcmp(argv[optind], "-") == 0 ? image_import_archive_fd(s, STDIN_FILENO, label, &o, d, e)
					       : image_import(s, argv[optind], &o, d, e);
	if (r < 0)
		return fail(e);
	return done(s, d, tagged, unpack, e);
}

static int cmd_prepare(struct image_store *s, const char *ref, struct sn_err *e)
{
	char d[IMAGE_DIGEST_SIZE];
	if (image_index_resolve(s, ref, d, e) < 0) {
		/* a digest prefix or an unknown name: image_load says which */
		struct image *img = NULL;
		if (image_load(s, ref, &img, e) < 0)
			return fail(e);
		snprintf(d, sizeof(d), "%s", img->manifest_digest);
		image_free(img);
	}
	return done(s, d, NULL, true, e);
}

static int cmd_export(struct image_store *s, int argc, char **argv, struct sn_err *e)
{
	const char *fmt = NULL;
	static const struct option lo[] = { { "format", required_argument, 0, 'f' }, { 0, 0, 0, 0 } };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else
			return usage();
	}
	if (optind + 2 != argc || !fmt)
		return usage();
	int r;
	if (strcmp(fmt, "oci") == 0)
		r = image_export_oci_layout(s, argv[optind], argv[optind + 1], e);
	else if (strcmp(fmt, "docker") == 0)
		r = image_export_docker_archive(s, argv[optind], argv[optind + 1], e);
	else {
		fprintf(stderr, "subnode-image: --format must be oci or docker\n");
		return 1;
	}
	return r < 0 ? fail(e) : 0;
}

static int cmd_ls(struct image_store *s, int argc, char **argv, struct sn_err *e)
{
	bool js = argc > 1 && strcmp(argv[1], "--json") == 0;
	_cleanup_json_ json_t *l = NULL;
	if (image_index_list(s, &l, e) < 0)
		return fail(e);
	if (js) {
		_cleanup_free_ char *t = sn_json_dump(l, true);
		printf("%s\n", t ? t : "[]");
		return 0;
	}
	printf("%-60s %-14s %s\n", "NAME", "DIGEST", "SIZE");
	size_t i;
	json_t *v;
	json_array_foreach(l, i, v) {
		const char *dg = json_string_value(json_object_get(v, "digest"));
		json_int_t size = json_integer_value(json_object_get(v, "size"));
		json_t *tags = json_object_get(v, "tags");
		if (json_array_size(tags) == 0)
			printf("%-60s %-14.12s %lld\n", "<none>", dg + 7, (long long)size);
		size_t k;
		json_t *t;
		json_array_foreach(tags, k, t)
			printf("%-60s %-14.12s %lld\n", json_string_value(t), dg + 7, (long long)size);
	}
	return 0;
}

static int cmd_inspect(struct image_store *s, const char *ref, struct sn_err *e)
{
	struct image *img = NULL;
	if (image_load(s, ref, &img, e) < 0)
		return fail(e);
	json_t *layers = json_array();
	for (size_t i = 0; i < img->n_layers; i++)
		json_array_append_new(layers, json_pack("{s:s, s:s, s:s, s:I}", "digest",
			img->layers[i].digest, "diffid", img->layers[i].diffid, "mediaType",
			img->layers[i].media_type, "size", (json_int_t)img->layers[i].size));
	_cleanup_json_ json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:O}", "digest",
		img->manifest_digest, "mediaType", img->manifest_media_type, "config",
		img->config_digest, "layers", layers, "image", img->config);
	image_free(img);
	_cleanup_free_ char *t = sn_json_dump(o, true);
	printf("%s\n", t ? t : "{}");
	return 0;
}

static int cmd_bundle(struct image_store *s, int argc, char **argv, struct sn_err *e)
{
	struct image_bundle_opts o = { 0 };
	static const struct option lo[] = { { "id", required_argument, 0, 'i' },
					    { "user", required_argument, 0, 'u' },
					    { "hostname", required_argument, 0, 'h' },
					    { 0, 0, 0, 0 } };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.snapshot_id = optarg; break;
		case 'u': o.user = optarg; break;
		case 'h': o.hostname = optarg; break;
		default: return usage();
		}
	}
	if (argc - optind < 2)
		return usage();
	const char *ref = argv[optind], *dir = argv[optind + 1];
	int rest = optind + 2;
	if (rest < argc && strcmp(argv[rest], "--") == 0)
		rest++;
	if (rest < argc)
		o.args = &argv[rest];
	char idbuf[33];
	if (!o.snapshot_id) {
		if (image_snapshot_id_for_path(dir, idbuf, e) < 0)
			return fail(e);
		o.snapshot_id = idbuf;
	}
	if (prepare(s, ref, e) < 0 || image_bundle_create(s, ref, dir, &o, e) < 0)
		return fail(e);
	return 0;
}

static int cmd_snapshot_rm(struct image_store *s, const char *dir, struct sn_err *e)
{
	char id[33];
	if (image_snapshot_id_for_path(dir, id, e) < 0 || image_bundle_remove(s, dir, id, e) < 0)
		return fail(e);
	return 0;
}

/* volume-export DIR (the stream on stdout) and volume-import DIR (from
 * stdin; the digest as the last JSON line). They work on a volume's
 * directory, not on the store. */
static int cmd_volume(int argc, char **argv, struct sn_err *e)
{
	int k = 1;
	if (k < argc && strcmp(argv[k], "--") == 0)
		k++;
	if (k + 1 != argc)
		return usage();
	const char *dir = argv[k];
	if (strcmp(argv[0], "volume-export") == 0)
		return image_volume_export(dir, 1, e) < 0 ? fail(e) : 0;
	if (strcmp(argv[0], "volume-import") != 0)
		return usage();
	char digest[IMAGE_DIGEST_SIZE];
	if (image_volume_import(0, dir, digest, e) < 0) {
		if (e->code == EPERM)   /* an entry that escapes: the stream is bad */
			e->code = EINVAL;
		return fail(e);
	}
	if (json_mode)
		json_line(json_pack("{s:s}", "digest", digest));
	else
		printf("%s\n", digest);
	return 0;
}

int main(int argc, char **argv)
{
	const char *root = getenv("SUBNODE_IMAGE_ROOT");
	if (!root)
		root = "/var/lib/subnode/images";
	show_progress = isatty(2);
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strncmp(argv[i], "--root=", 7) == 0)
			root = argv[i] + 7;
		else if (strcmp(argv[i], "--progress") == 0)
			show_progress = true;
		else if (strcmp(argv[i], "--json") == 0)
			json_mode = true;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("subnode-image 0.1.0\n");
			return 0;
		} else
			return usage();
	}
	if (i >= argc)
		return usage();
	const char *cmd = argv[i];
	int cargc = argc - i;
	char **cargv = argv + i;
	struct sn_err e = { 0 };
	if (strncmp(cmd, "volume-", 7) == 0)
		return cmd_volume(cargc, cargv, &e);
	struct image_store *s = NULL;
	if (image_store_open(root, &s, &e) < 0)
		return fail(&e);
	int rc;
	if (strcmp(cmd, "pull") == 0)
		rc = cmd_pull(s, cargc, cargv, &e);
	else if (strcmp(cmd, "import") == 0)
		rc = cmd_import(s, cargc, cargv, &e);
	else if (strcmp(cmd, "export") == 0)
		rc = cmd_export(s, cargc, cargv, &e);
	else if (strcmp(cmd, "ls") == 0)
		rc = cmd_ls(s, cargc, cargv, &e);
	else if (strcmp(cmd, "inspect") == 0 && cargc == 2)
		rc = cmd_inspect(s, cargv[1], &e);
	else if (strcmp(cmd, "rm") == 0 && cargc == 2)
		rc = image_index_remove(s, cargv[1], &e) < 0 ? fail(&e) : 0;
	else if (strcmp(cmd, "gc") == 0 && cargc == 1) {
		struct image_gc_stats st;
		rc = image_gc(s, &st, &e) < 0 ? fail(&e) : 0;
		if (rc == 0)
			printf("removed %u blobs, %u layers, %u partial downloads; freed %llu bytes\n",
			       st.blobs_removed, st.layers_removed, st.partials_removed,
			       (unsigned long long)st.bytes_freed);
	} else if (strcmp(cmd, "unpack") == 0 && cargc == 3)
		rc = image_unpack(s, cargv[1], cargv[2], &e) < 0 ? fail(&e) : 0;
	else if (strcmp(cmd, "prepare") == 0 && cargc == 2)
		rc = cmd_prepare(s, cargv[1], &e);
	else if (strcmp(cmd, "bundle") == 0)
		rc = cmd_bundle(s, cargc, cargv, &e);
	else if (strcmp(cmd, "snapshot-rm") == 0 && cargc == 2)
		rc = cmd_snapshot_rm(s, cargv[1], &e);
	else
		rc = usage();
	image_store_close(s);
	return rc;
}
