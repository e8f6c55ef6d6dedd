/* api_args.c — the query arguments each route takes, and of which type.
 *
 * One table, keyed by the route's template (api_route_name) and method,
 * checked before the route runs (api/request.h, api_args_check): an
 * argument the route does not take, or one of the wrong type, is a 400
 * naming it. Values with a shape of their own (times, signals, sizes,
 * filters) are text here and checked by their handler. A route missing
 * from the table takes no arguments; an unknown path takes whatever and
 * gets its 404.
 */
#include "api_internal.h"
#include "base/cleanup.h"

#include <string.h>

#define B(n) { n, API_ARG_BOOL }
#define U(n) { n, API_ARG_UINT }
#define S(n) { n, API_ARG_STR }
#define END { NULL, API_ARG_STR }

static const struct api_arg_spec none[] = { END };
/* list: limit is a count or -1 (none: docker-py); size and trunc_cmd are
 * taken, SizeRw is not computed (a subnode's disk is its slice's) */
static const struct api_arg_spec list[] = { B("all"), S("limit"), B("size"), B("trunc_cmd"), S("filters"),
					    END };
static const struct api_arg_spec create[] = { S("name"), B("start"), END };
static const struct api_arg_spec events[] = { S("since"), S("until"), S("filters"), END };
/* details (docker logs --details): the log has no attributes to add */
static const struct api_arg_spec logs[] = { B("stdout"), B("stderr"), B("timestamps"), B("follow"),
					    B("raw"), B("details"), S("since"), S("until"), S("tail"), END };
static const struct api_arg_spec stats[] = { B("stream"), B("one-shot"), END };
static const struct api_arg_spec stop[] = { U("t"), S("signal"), END };
static const struct api_arg_spec restart[] = { U("t"), END };
static const struct api_arg_spec kill_[] = { S("signal"), END };
static const struct api_arg_spec wait_[] = { U("t"), S("condition"), END };
static const struct api_arg_spec attach[] = { B("stream"), B("stdin"), B("stdout"), B("stderr"), END };
static const struct api_arg_spec resize[] = { U("h"), U("w"), END };
/* images: noprune (docker rmi --no-prune): blobs stay until gc anyway */
static const struct api_arg_spec rmi[] = { B("force"), B("noprune"), END };
/* docker rm: v (anonymous volumes: a subnode has none) and link (legacy
 * links: none) are taken; link=1 finds nothing to remove */
static const struct api_arg_spec remove_[] = { B("force"), B("v"), B("link"), END };
static const struct api_arg_spec pull[] = { S("fromImage"), S("tag"), B("insecure"), END };
static const struct api_arg_spec load[] = { S("path"), S("name"), B("quiet"), END };
static const struct api_arg_spec export_[] = { B("pause"), END };
static const struct api_arg_spec top[] = { S("ps_args"), END };
/* images: every image is a top-level one (all) and carries its digests;
 * only_ids is docker-py's and answered on its side */
static const struct api_arg_spec images[] = { B("all"), B("digests"), B("only_ids"), B("shared-size"),
					      B("manifests"), S("filters"), END };
static const struct api_arg_spec import_[] = { S("size"), END };

static const struct {
	const char *route, *method;   /* method NULL: any */
	const struct api_arg_spec *args;
} routes[] = {
	{ "/containers/json", NULL, list },
	{ "/containers/create", NULL, create },
	{ "/events", NULL, events },
	{ "/containers/{id}/logs", NULL, logs },
	{ "/containers/{id}/stats", NULL, stats },
	{ "/containers/{id}/top", NULL, top },
	{ "/containers/{id}/stop", NULL, stop },
	{ "/containers/{id}/restart", NULL, restart },
	{ "/containers/{id}/kill", NULL, kill_ },
	{ "/containers/{id}/wait", NULL, wait_ },
	{ "/containers/{id}/attach", NULL, attach },
	{ "/containers/{id}/resize", NULL, resize },
	{ "/containers/{id}", "DELETE", remove_ },
	{ "/exec/{id}/resize", NULL, resize },
	{ "/images/json", NULL, images },
	{ "/images/create", NULL, pull },
	{ "/images/load", NULL, load },
	{ "/images/{name}", "DELETE", rmi },
	{ "/volumes/{name}/export", NULL, export_ },
	{ "/volumes/{name}/import", NULL, import_ },
};

int api_route_args_check(struct MHD_Connection *c, const struct req *rq, struct sn_err *e)
{
	if (strcmp(rq->route, "other") == 0)
		return 0;
	for (size_t i = 0; i < SN_ARRAY_SIZE(routes); i++)
		if (strcmp(routes[i].route, rq->route) == 0 &&
		    (!routes[i].method || strcmp(routes[i].method, rq->method) == 0))
			return api_args_check(c, routes[i].args, e);
	return api_args_check(c, none, e);
}
