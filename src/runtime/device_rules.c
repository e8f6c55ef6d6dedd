/* device_rules.c — see device_rules.h. */
#include "runtime/device_rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* runc's AllowedDevices, in its order: mknod of any char or block device
 * (so linux.devices can be created), and rwm on the nodes every container
 * gets. */
static const struct spec_device_rule standard[] = {
	{ true, 'c', -1, -1, "m" },
	{ true, 'b', -1, -1, "m" },
	{ true, 'c', 1, 3, "rwm" },    /* /dev/null */
	{ true, 'c', 1, 8, "rwm" },    /* /dev/random */
	{ true, 'c', 1, 7, "rwm" },    /* /dev/full */
	{ true, 'c', 5, 0, "rwm" },    /* /dev/tty */
	{ true, 'c', 1, 5, "rwm" },    /* /dev/zero */
	{ true, 'c', 1, 9, "rwm" },    /* /dev/urandom */
	{ true, 'c', 5, 1, "rwm" },    /* /dev/console */
	{ true, 'c', 136, -1, "rwm" }, /* every /dev/pts/N */
	{ true, 'c', 5, 2, "rwm" },    /* /dev/ptmx */
	{ true, 'c', 10, 200, "rwm" }, /* /dev/net/tun */
};

int device_rules_effective(const struct spec *s, struct spec_resources *out, struct sn_err *err)
{
	const struct spec_resources *in = &s->linux_.resources;
	*out = *in;
	/* no rules = no device filter at all; adding allow rules would turn
	 * that into a default-deny list (on v2 the eBPF filter denies by
	 * default) */
	if (in->n_devices == 0) {
		out->devices = NULL;
		return 0;
	}
	size_t nstd = sizeof(standard) / sizeof(standard[0]);
	size_t n = in->n_devices + s->linux_.n_devices + nstd;
	struct spec_device_rule *r = calloc(n, sizeof(*r));
	if (!r)
		return sn_err_set(err, ENOMEM, "device rules");
	size_t k = 0;
	for (size_t i = 0; i < in->n_devices; i++)
		r[k++] = in->devices[i];
	for (size_t i = 0; i < s->linux_.n_devices; i++) {
		const struct spec_device *d = &s->linux_.devices[i];
		if (d->type == 'p')
			continue; /* fifos are not device-controlled */
		r[k++] = (struct spec_device_rule){ true, d->type == 'u' ? 'c' : d->type,
						    d->major, d->minor, "rwm" };
	}
	memcpy(r + k, standard, sizeof(standard));
	k += nstd;
	out->devices = r;
	out->n_devices = k;
	return 0;
}

void device_rules_free(struct spec_resources *r)
{
	free(r->devices);
	r->devices = NULL;
	r->n_devices = 0;
}
