# podman.bash — a private podman for the integration tests, isolated from
# the host's podman: its own --root, --runroot, --tmpdir, storage (vfs),
# containers.conf and storage.conf (the host's files are not read), cgroup
# parent, and no network (netns none). Everything lives under $PM_DIR and
# goes in pm_teardown_file.
#
# The runtimes keep their state in their default roots (/run/subrun,
# /run/runc), under podman's 64-hex container ids, which cannot clash with
# anything else there. A private root by --runtime-flag root=DIR does not
# work with podman 4.3: it passes the flag to create/start/kill/exec/state
# but not to `delete`, so every container's state would stay behind.
#
# Host constraints handled here: cgroupfs (no systemd), the file events
# backend (no journald), and ulimits podman would otherwise raise beyond the
# host's hard limits (CAP_SYS_RESOURCE is not in the bounding set and the
# hard RLIMIT_NOFILE is 20000), given as default_ulimits.
#
#   pm_setup_file       make $PM_DIR, the config files, and import a busybox
#                       rootfs tar as $PM_IMAGE
#   pm_init_test        per test: $PM_CGROUP_PARENT and $PM_RUN_FLAGS
#   pm RUNTIME ARGS...  podman with RUNTIME (an absolute path, or a name such
#                       as runc that podman resolves) and our isolation flags
#   rt_state RUNTIME ID the runtime's own `state` of a podman container
#   pm_cleanup RUNTIME  remove every container of that runtime; kill a
#                       leftover conmon only by its recorded pid
#   pm_teardown_file    unmount whatever is left under $PM_DIR, rm -rf it,
#                       remove our cgroup parent

PM_IMAGE=localhost/sn-podman-busybox:test

pm_setup_file() {
  PM_DIR=$(mktemp -d /tmp/sn-podman.XXXXXX)
  export PM_DIR
  mkdir -p "$PM_DIR"/{root,runroot,tmp}
  cat > "$PM_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  cat > "$PM_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$PM_DIR/root"
runroot = "$PM_DIR/runroot"
EOF
  export CONTAINERS_CONF=$PM_DIR/containers.conf
  export CONTAINERS_STORAGE_CONF=$PM_DIR/storage.conf
  make_busybox_rootfs "$PM_DIR/rootfs"
  tar -C "$PM_DIR/rootfs" -cf "$PM_DIR/busybox.tar" .
  rm -rf "$PM_DIR/rootfs"
  pm runc import -q "$PM_DIR/busybox.tar" "$PM_IMAGE" >/dev/null
}

# The runtime's state directory (its default root, see above).
pm_state_dir() {
  case $(basename "$1") in
    runc) echo /run/runc ;;
    crun) echo /run/crun ;;
    *) echo /run/subrun ;;
  esac
}

pm() {
  local rt=$1; shift
  podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
    --runtime "$rt" "$@"
}

# Flags every container gets (the ulimits are also in containers.conf; given
# here too so a test does not depend on podman reading it). The cgroup
# parent is ours, derived from $PM_DIR (exported by setup_file; arrays are
# not, so each test calls this).
pm_init_test() {
  PM_CGROUP_PARENT=/sn-podtest-${PM_DIR##*.}
  PM_RUN_FLAGS=(--network none --cgroup-parent "$PM_CGROUP_PARENT"
                --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
}

rt_state() {
  local rt=$1 id=$2 bin=$1
  [[ "$bin" == /* ]] || bin=$(command -v "$bin")
  "$bin" --root "$(pm_state_dir "$rt")" state "$id"
}

pm_cleanup() {
  local rt=$1 c pids=()
  [ -n "${PM_DIR:-}" ] || return 0
  for c in $(pm "$rt" ps -aq 2>/dev/null); do
    pids+=("$(pm "$rt" inspect --format '{{.State.ConmonPid}}' "$c" 2>/dev/null)")
  done
  pm "$rt" rm -a -f -t 0 >/dev/null 2>&1 || true
  local p
  for p in "${pids[@]}"; do
    [[ "$p" =~ ^[1-9][0-9]*$ ]] || continue
    # only a conmon that is still ours (its command line names $PM_DIR)
    if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF "$PM_DIR"; then
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
}

pm_teardown_file() {
  [ -n "${PM_DIR:-}" ] && [ -d "$PM_DIR" ] || return 0
  local m
  for m in $(awk -v p="$PM_DIR/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  # our cgroup parent (podman puts conmon in <parent>/conmon); a conmon
  # that is just exiting still holds it for a moment
  local d i cg=sn-podtest-${PM_DIR##*.}
  for i in $(seq 30); do
    for d in /sys/fs/cgroup/*/"$cg"; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    compgen -G "/sys/fs/cgroup/*/$cg" >/dev/null || break
    sleep 0.1
  done
  rm -rf "$PM_DIR"
}
