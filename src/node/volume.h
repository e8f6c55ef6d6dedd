/* volume.h — named volumes: a subnode's data that outlives it, with a size
 * the kernel enforces, exported and imported as a checked stream.
 *
 * volfs.c      a volume's own ext4 on a loop device (why: there)
 * volume_db.c  the `volumes` table (state written before acting)
 * volumes.c    create, list, inspect, remove, usage, the binds of a
 *              subnode create, import/export bookkeeping, repair at start
 *
 * Disk is part of the slice: the node's disk after reserve_disk is the
 * pool's size (128 units of unit_disk), and the sizes of all volumes never
 * add up past it (no over-commit). A volume a create names without making
 * it first gets the size its bind asks for, else the subnode's share.
 */
#ifndef SN_NODE_VOLUME_H
#define SN_NODE_VOLUME_H

#include "node/node.h"

struct node_db;

#define TEMPLATE_PREFIX ".tmpl-"

struct node_volumes {
	char *dir;                  /* ROOT/volumes */
	pthread_mutex_t template_lock;  /* making a size's template (volfs.c) */
	uint64_t capacity;          /* bytes: the node's disk after the reserve */
	json_t *busy;               /* {name: "export"}, under the node lock */
};

/* ---- volumes.c */
/* At node_open (before the subnodes' repair): mount the pool again when it
 * exists, finish or undo what a crash interrupted, resume subnodes an
 * export had paused. */
int node_volumes_open(struct node *n, struct sn_err *err);
void node_volumes_close(struct node *n);
/* size 0: the default size (the default slice's share). labels may be NULL. */
int node_volume_create(struct node *n, const char *name, uint64_t size, json_t *labels,
		       json_t **out, struct sn_err *err);
/* Docker's {"Volumes": [...], "Warnings": []}. */
int node_volume_list(struct node *n, json_t **out, struct sn_err *err);
int node_volume_inspect(struct node *n, const char *name, json_t **out, struct sn_err *err);
/* -EBUSY (409) while a subnode uses it or an export/import runs. */
int node_volume_remove(struct node *n, const char *name, struct sn_err *err);
/* Bytes in use and the quota: for inspect and for metrics
 * (container_fs_usage_bytes). */
int node_volume_usage(struct node *n, const char *name, uint64_t *used, uint64_t *limit,
		      struct sn_err *err);
/* For node info: {"Count", "Bytes" (their sizes), "Free" (disk left for
 * volumes)}. */
json_t *node_volumes_info(struct node *n);
/* For a subnode's stats: {NAME: {"usage": bytes, "limit": bytes}} of the
 * volumes its create config (cfg) names. */
json_t *node_volumes_stats(struct node *n, json_t *cfg);
/* Parse "10G", "512M", "1048576" (bytes); -EINVAL when bad or 0. */
int node_volume_parse_size(const char *s, uint64_t *out);

/* For a subnode create: every bind of cfg of Type "volume" gets its
 * Source (the volume's directory); a volume that does not exist is made
 * (its name appended to *made, for the undo of a failed create). */
int node_volumes_bind(struct node *n, json_t *cfg, json_t *made, struct sn_err *err);
/* Under the node lock, with the subnode's row insert: each volume of cfg
 * is still there and ready (a remove cannot slip in between). */
int node_volumes_check_locked(struct node *n, json_t *cfg, struct sn_err *err);
/* Remove volumes by name (the undo of node_volumes_bind); warnings only. */
void node_volumes_unmake(struct node *n, json_t *made);

/* Import: a row `importing` and an empty staging directory with the
 * volume's quota (*staging, malloc'ed); then commit (an atomic rename) or
 * abort (nothing left). */
int node_volume_import_begin(struct node *n, const char *name, uint64_t size, json_t *labels,
			     char **staging, struct sn_err *err);
int node_volume_import_commit(struct node *n, const char *name, struct sn_err *err);
void node_volume_import_abort(struct node *n, const char *name);
/* Export: mark the volume busy; *path its directory; with pause, the
 * running subnodes that use it are frozen (runtime pause) until end. */
int node_volume_export_begin(struct node *n, const char *name, bool pause, char **path,
			     struct sn_err *err);
void node_volume_export_end(struct node *n, const char *name);

/* ---- volfs.c: PREFIX is "" for a volume, ".import-" for its staging */
/* ROOT/volumes/PREFIX NAME SUFFIX, malloc'ed. */
char *node_volfs_path(struct node_volumes *v, const char *prefix, const char *name,
		      const char *suffix);
/* A new image of size bytes with an ext4, mounted (anything of that name
 * a crash left is removed first). */
int node_volfs_make(struct node_volumes *v, const char *prefix, const char *name, uint64_t size,
		    struct sn_err *err);
/* Mounted, when it is not (after a reboot, or anyone's umount). */
int node_volfs_mount(struct node_volumes *v, const char *prefix, const char *name,
		     struct sn_err *err);
/* Unmounted and removed; nothing there is fine. */
int node_volfs_unmake(struct node_volumes *v, const char *prefix, const char *name,
		      struct sn_err *err);
/* The staging file system becomes the volume's: mount moved, image
 * renamed (atomic). */
int node_volfs_promote(struct node_volumes *v, const char *prefix, const char *name,
		       struct sn_err *err);
/* Bytes used in the volume's file system (statfs). */
int node_volfs_usage(struct node_volumes *v, const char *name, uint64_t *used, struct sn_err *err);

/* ---- volume_db.c (the caller holds the node lock) */
int node_voldb_init(struct node_db *db, struct sn_err *err);
/* Rows: {"name","state","size","labels","created"}. */
int node_voldb_get(struct node_db *db, const char *name, json_t **row, struct sn_err *err);
int node_voldb_list(struct node_db *db, json_t **rows, struct sn_err *err);
int node_voldb_insert(struct node_db *db, const char *name, const char *state, uint64_t size,
		      json_t *labels, struct sn_err *err);
int node_voldb_set_state(struct node_db *db, const char *name, const char *state,
			 struct sn_err *err);
int node_voldb_delete(struct node_db *db, const char *name, struct sn_err *err);
int node_voldb_bytes(struct node_db *db, uint64_t *used, unsigned *count, struct sn_err *err);

#endif
