/* device_rules.h — the device cgroup rules a container really gets: the
 * config's linux.resources.devices, then an allow rule for each node the
 * config creates (linux.devices), then the standard devices every container
 * needs (null, zero, full, random, urandom, tty, console, ptmx, every pts,
 * tun, and mknod of any device) — only when the config has rules at all.
 * Appended last so that a config's blanket "deny all" — the usual first
 * rule — cannot cut a container off from /dev/null. Same policy as runc. */
#ifndef SN_RUNTIME_DEVICE_RULES_H
#define SN_RUNTIME_DEVICE_RULES_H

#include "base/err.h"
#include "runtime/spec.h"

/* *out: a copy of the config's resources whose devices list is the
 * effective one (free with device_rules_free; other pointers are shared
 * with s, so s must outlive *out). */
int device_rules_effective(const struct spec *s, struct spec_resources *out, struct sn_err *err);
void device_rules_free(struct spec_resources *r);

#endif
