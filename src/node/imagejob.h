/* imagejob.h — image work the daemon hands to the image tool
 * (`subnode-image --json`, found like the runtime): pull, import, load (an
 * archive streamed into the tool's stdin) and prepare (unpack an image's
 * layers). So subnoded links neither libcurl nor libarchive nor OpenSSL;
 * see imagejob.c for the protocol and docs/NODE.md, "Images".
 */
#ifndef SN_NODE_IMAGEJOB_H
#define SN_NODE_IMAGEJOB_H

#include "node/node.h"

struct image_progress;

enum node_image_job_kind {
	NODE_IMAGE_PULL,     /* ref: the reference */
	NODE_IMAGE_IMPORT,   /* ref: an OCI layout dir or archive on the node */
	NODE_IMAGE_LOAD,     /* an archive written into the tool's stdin */
	NODE_IMAGE_PREPARE,  /* ref: an image of the store (digest) */
	NODE_IMAGE_VOLUME_IMPORT,  /* ref: a staging dir; the stream written into its stdin */
	NODE_IMAGE_VOLUME_EXPORT,  /* ref: a volume's dir; its stdout is the stream, not JSON */
};

struct node_image_job_opts {
	enum node_image_job_kind kind;
	const char *ref;
	const char *name;                  /* import/load: the tag to give (NULL: the archive's) */
	bool insecure;                     /* pull: plain http allowed */
	const char *username, *password;   /* pull: registry credentials (NULL: anonymous) */
	bool unpack;                       /* pull/import/load: prepare the layers too */
};

struct node_image_job;

/* Start the tool. For NODE_IMAGE_LOAD, *in_fd gets the write end of its
 * stdin (O_CLOEXEC, blocking): write the archive, then close it. */
int node_image_job_start(struct node *n, const struct node_image_job_opts *o,
			 struct node_image_job **out, int *in_fd, struct sn_err *err);
/* The tool's stdout (O_NONBLOCK): poll it for reading when
 * node_image_job_read returned 0. */
int node_image_job_fd(const struct node_image_job *j);
/* Consume what the tool wrote; each progress line goes to fn (may be
 * NULL). 1: its last line was read or it is gone (call finish); 0: nothing
 * more for now. */
int node_image_job_read(struct node_image_job *j,
			void (*fn)(const struct image_progress *p, void *data), void *data);
/* After read returned 1: reap the tool. 0 with out = the manifest digest
 * (and an image event: pull, import or load), or -errno with the tool's
 * message in err. */
int node_image_job_finish(struct node *n, struct node_image_job *j, char out[72],
			  struct sn_err *err);
/* After a successful finish: the names an import or load gave (an array,
 * borrowed; NULL when none were reported). */
json_t *node_image_job_tags(const struct node_image_job *j);
/* For NODE_IMAGE_VOLUME_EXPORT, after its stdout ended: reap the tool; 0
 * when it exited 0 (the stream is whole), else -EIO. */
int node_image_job_exit(struct node *n, struct node_image_job *j, struct sn_err *err);
/* Kill the tool if it still runs (SIGKILL: the store stays as it was),
 * reap it and free j. NULL is fine. */
void node_image_job_free(struct node_image_job *j);
/* The whole job, blocking: progress to fn (may be NULL). cancel_fd (-1:
 * none), a client's socket: when it hangs up the tool is killed (the store
 * keeps nothing of it) and the job is -ECANCELED. */
int node_image_job_run(struct node *n, const struct node_image_job_opts *o,
		       void (*fn)(const struct image_progress *p, void *data), void *data,
		       int cancel_fd, char out[72], struct sn_err *err);

#endif
