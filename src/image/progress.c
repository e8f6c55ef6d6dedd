/* progress.c — progress reporting as a callback.
 *
 * The library never draws anything: pulls, imports and layer unpacks call
 * an image_progress_fn with (event, blob digest, bytes done/total, layer
 * i of n). The CLI turns that into bars on a tty; the daemon into events.
 * Callbacks run on the calling thread (the pull's transfer loop), so they
 * must be quick; DATA events are rate-limited by the caller to one per
 * 64 KiB or so.
 */
#include <string.h>
#include "base/cleanup.h"
#include "image/internal.h"

static const char *const event_names[] = {
	[IMAGE_PROGRESS_START] = "start", [IMAGE_PROGRESS_DATA] = "data",
	[IMAGE_PROGRESS_RESUME] = "resume", [IMAGE_PROGRESS_EXISTS] = "exists",
	[IMAGE_PROGRESS_DONE] = "done", [IMAGE_PROGRESS_UNPACK] = "unpack",
};

const char *image_progress_event_name(enum image_progress_event ev)
{
	return (unsigned)ev < SN_ARRAY_SIZE(event_names) ? event_names[ev] : "data";
}

int image_progress_event_parse(const char *name)
{
	for (size_t i = 0; name && i < SN_ARRAY_SIZE(event_names); i++)
		if (strcmp(name, event_names[i]) == 0)
			return (int)i;
	return -1;
}

void progress_emit(image_progress_fn fn, void *data, enum image_progress_event ev,
		   const char *what, const char *digest, uint64_t done, uint64_t total,
		   unsigned index, unsigned count)
{
	if (!fn)
		return;
	struct image_progress p = {
		.event = ev, .digest = digest, .what = what, .done = done, .total = total,
		.index = index, .count = count,
	};
	fn(&p, data);
}
