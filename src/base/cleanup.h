/* cleanup.h — scope-bound cleanup of locals.
 *
 *   _cleanup_free_ char *p = NULL;      freed when p leaves scope
 *   _cleanup_close_ int fd = -1;        closed when fd leaves scope
 *
 * Ownership is handed on by resetting the local: steal_ptr(p), steal_fd(fd).
 * This keeps early returns leak-free without goto ladders.
 */
#ifndef SN_BASE_CLEANUP_H
#define SN_BASE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>

static inline void sn_freep(void *p) { free(*(void **)p); }
static inline void sn_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void sn_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void sn_closedirp(DIR **d) { if (*d) closedir(*d); }
static inline void sn_json_decrefp(json_t **j) { if (*j) json_decref(*j); }

/* Free a NULL-terminated vector of strings. */
static inline void sn_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}
static inline void sn_strv_freep(char ***v) { sn_strv_free(*v); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(sn_freep)
#define _cleanup_close_ _cleanup_(sn_closep)
#define _cleanup_fclose_ _cleanup_(sn_fclosep)
#define _cleanup_closedir_ _cleanup_(sn_closedirp)
#define _cleanup_json_ _cleanup_(sn_json_decrefp)
#define _cleanup_strv_ _cleanup_(sn_strv_freep)

#define steal_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define steal_fd(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define SN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
