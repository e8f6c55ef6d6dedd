#!/usr/bin/env bash
# check-layers.sh — a layer includes only headers of itself and the layers
# below it (base < runtime < image < api < node < manager < cli < workload;
# workload holds programs that run inside a subnode, docs/DEMOCHAIN.md, and
# no layer may include them). Every
# `#include "..."` is resolved as the compiler would: first beside the
# including file (so "../node/node.h" or "hub.h" found in another folder
# count as well), then under src/ (-Isrc). Prints each violation with
# file:line and exits 1 if there is any.
set -euo pipefail
cd -P "$(dirname "$0")/.."
order=(base runtime image api node manager cli workload)
rank() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo 99; }
src="$PWD/src"
bad=0
re='^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)"'
for f in $(find src -name '*.[ch]'); do
  layer=${f#src/}; layer=${layer%%/*}; lr=$(rank "$layer"); dir=${f%/*}
  while IFS= read -r line; do
    [[ $line =~ $re ]] || continue
    ln=${BASH_REMATCH[1]}; path=${BASH_REMATCH[2]}
    if [ -e "$dir/$path" ]; then cand="$dir/$path"; elif [ -e "src/$path" ]; then cand="src/$path"; else continue; fi
    # only a path with .. or a symlink needs resolving
    if [[ $cand == *..* || -L $cand ]]; then target=$(realpath -m "$cand"); else target="$PWD/$cand"; fi
    case "$target" in
      "$src"/*) dep=${target#"$src"/}; dep=${dep%%/*} ;;
      *) echo "layer violation: $f:$ln includes $path, outside src/"; bad=1; continue ;;
    esac
    [ "$dep" = "$layer" ] && continue
    if [ "$(rank "$dep")" -gt "$lr" ]; then
      echo "layer violation: $f:$ln includes $path (layer $dep; a file of layer $layer may use only itself and lower layers)"; bad=1
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" || true)
done
exit $bad
