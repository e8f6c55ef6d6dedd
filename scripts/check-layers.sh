#!/usr/bin/env bash
# check-layers.sh — a layer includes only headers of itself and the layers
# below it (base < runtime < image < node < manager < cli). Prints each
# violation with file:line and exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."
order=(base runtime image node manager cli)
rank() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo 99; }
bad=0
for f in $(find src -name '*.[ch]'); do
  layer=$(echo "$f" | cut -d/ -f2); lr=$(rank "$layer")
  while IFS=: read -r ln inc; do
    dep=$(echo "$inc" | sed -n 's/.*#include "\([a-z]*\)\/.*/\1/p')
    [ -n "$dep" ] || continue
    if [ "$(rank "$dep")" -gt "$lr" ]; then
      echo "layer violation: $f:$ln includes $dep/ (a $layer file may use only lower layers)"; bad=1
    fi
  done < <(grep -n '#include "' "$f" || true)
done
exit $bad
