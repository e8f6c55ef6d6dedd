#!/usr/bin/env bats
# GET /metrics: Prometheus text exposition checked by Debian's promtool
# with 0, 1 and 128 subnodes (that one during the creates: no scrape fails
# or shows a half-made subnode), the figures agree with the stats API, and
# a real Prometheus server (its own config and data dir, a free loopback
# port, killed by pid) scrapes the node over TCP with the node's token and
# answers queries on a spinning, an idle and an allocating subnode.

load ../lib/common
load ../lib/node

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }
setup() {
  command -v promtool >/dev/null || skip "promtool (Debian's prometheus) is not installed"
  PROM_PID= TEST_NETNS=
}
teardown() {
  [ -z "$TEST_NETNS" ] || ip netns del "$TEST_NETNS" 2>/dev/null || true
  if [ -n "$PROM_PID" ]; then
    kill "$PROM_PID" 2>/dev/null || true
    wait "$PROM_PID" 2>/dev/null || true
  fi
  node_teardown
}

metrics() { curl -sf --max-time 30 --unix-socket "$NODE_SOCK" http://x/metrics; }

# promtool on stdin; prints its complaints and fails on any.
promtool_clean() {
  local out
  out=$(promtool check metrics 2>&1 < "$1") || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}

# Names of subnodes shown in family $2 of file $1.
names_in() { grep "^$2{" "$1" | sed -n 's/.*[{,]name="\([^"]*\)".*/\1/p' | sort; }

@test "no subnode: /metrics is promtool-clean, text 0.0.4, with the node's and the daemon's families" {
  node_start
  local f=$NODE_DIR/m.txt
  run curl -sf -D "$NODE_DIR/h.txt" -o "$f" --unix-socket "$NODE_SOCK" http://x/metrics
  [ "$status" -eq 0 ]
  grep -qi '^Content-Type: text/plain; version=0.0.4' "$NODE_DIR/h.txt"
  promtool_clean "$f"
  grep -q '^subnode_units{kind="total"} 128$' "$f"
  grep -q '^subnode_units{kind="free"} 128$' "$f"
  grep -q '^subnode_subnodes{state="running"} 0$' "$f"
  grep -q '^# TYPE process_resident_memory_bytes gauge$' "$f"
  local rss=$(awk '/^process_resident_memory_bytes / {print $2}' "$f")
  [ "$rss" -gt 1000000 ]
  [ "$(awk '/^process_open_fds / {print $2}' "$f")" -gt 3 ]
  ! grep -q '^container_' "$f"
  # every family has its HELP and TYPE
  local fam
  for fam in $(grep -v '^#' "$f" | sed 's/[{ ].*//; s/_\(bucket\|sum\|count\)$//' | sort -u); do
    grep -q "^# HELP $fam " "$f"
    grep -q "^# TYPE $fam " "$f"
  done
  # bad method: refused, state intact
  run curl -s -o /dev/null -w '%{http_code}' -X POST --unix-socket "$NODE_SOCK" http://x/metrics
  [ "$output" = 404 ]
}

@test "one subnode: cAdvisor's families with id, name, image and container_label_*; the stats API agrees" {
  node_start
  local id
  id=$(sn run -d --name one -l chain.name=alpha -l 'odd-key=say "hi"' busybox sleep 100000)
  local f=$NODE_DIR/m.txt
  metrics > "$f"
  promtool_clean "$f"
  local sel="id=\"$NODE_CG/$id\",name=\"one\",image=\"busybox\""
  local fam
  for fam in container_cpu_usage_seconds_total container_cpu_user_seconds_total \
             container_cpu_system_seconds_total container_cpu_cfs_throttled_seconds_total \
             container_cpu_cfs_throttled_periods_total container_memory_usage_bytes \
             container_memory_working_set_bytes container_memory_rss container_memory_cache \
             container_spec_memory_limit_bytes container_spec_cpu_quota container_spec_cpu_period \
             container_spec_cpu_shares container_processes container_threads \
             container_oom_events_total container_start_time_seconds container_last_seen \
             subnode_restarts_total subnode_info; do
    grep "^$fam{" "$f" | grep -F "$sel" | grep -F 'container_label_chain_name="alpha"' \
      | grep -qF 'container_label_odd_key="say \"hi\""' || { echo "missing: $fam"; return 1; }
  done
  grep -q '^subnode_subnodes{state="running"} 1$' "$f"
  grep -q '^subnode_units{kind="used"} 1$' "$f"
  grep -q "^container_processes{.*name=\"one\".*} 1$" "$f"
  grep -q "^container_spec_cpu_period{.*name=\"one\".*} 100000$" "$f"
  grep -q "^container_spec_cpu_shares{.*name=\"one\".*} 64$" "$f"
  # lo is not a network device of the metrics (as in cAdvisor)
  ! grep -q 'interface="lo"' "$f"
  # the stats API reads through the same reader: the limits are the same
  # figures, the counters never go back
  local st
  st=$(curl -sf --unix-socket "$NODE_SOCK" "http://x/containers/one/stats?stream=false")
  local lim=$(awk '/^container_spec_memory_limit_bytes{.*name="one"/ {print $NF}' "$f")
  [ "$lim" -gt 0 ]
  [ "$(jq .memory_stats.limit <<<"$st")" = "$lim" ]
  [ "$(jq .pids_stats.limit <<<"$st")" = 64 ]
  local cpu_m=$(awk '/^container_cpu_usage_seconds_total{.*name="one"/ {print $NF}' "$f")
  local cpu_s=$(jq .cpu_stats.cpu_usage.total_usage <<<"$st")
  awk -v m="$cpu_m" -v s="$cpu_s" 'BEGIN { exit !(s / 1e9 >= m && s > 0) }'
  [ "$(jq -r '.networks | keys | join(",")' <<<"$st")" = lo ]
  # stopped: no container_* series, still a subnode_info, exited
  sn stop -t 1 one >/dev/null
  metrics > "$f"
  promtool_clean "$f"
  ! grep -q '^container_cpu_usage_seconds_total{' "$f"
  grep -q '^subnode_info{.*name="one".*state="exited"' "$f"
  grep -q '^subnode_subnodes{state="exited"} 1$' "$f"
}

# The daemon's fds on subnodes' counter files: cgroup files and net/dev.
counter_fds() { ls -l "/proc/$NODE_PID/fd" | grep -c -e ' /sys/fs/cgroup/' -e '/net/dev$' || true; }
# The value of family $2 for subnode $3 in file $1.
value_of() { awk -v fam="$2" -v name="$3" 'index($0, fam "{") == 1 && index($0, "name=\"" name "\"") { print $NF }' "$1"; }

@test "counters come through files kept open: they move between scrapes; a stopped or removed subnode's files are closed" {
  node_start
  metrics >/dev/null
  [ "$(counter_fds)" = 0 ]
  sn run -d --name busy busybox sh -c 'while :; do :; done' >/dev/null
  sn run -d --name grow busybox sh -c 'a=x; i=0; while [ $i -lt 23 ]; do a="$a$a"; i=$((i+1)); sleep 0.3; done; sleep 100000' >/dev/null
  local f1=$NODE_DIR/m1.txt f2=$NODE_DIR/m2.txt
  metrics > "$f1"
  sleep 2
  metrics > "$f2"
  promtool_clean "$f2"
  # every scrape reads current counters: busy's CPU rose (within its one
  # unit's quota), grow's memory moved
  local c1 c2 m1 m2
  c1=$(value_of "$f1" container_cpu_usage_seconds_total busy)
  c2=$(value_of "$f2" container_cpu_usage_seconds_total busy)
  awk -v a="$c1" -v b="$c2" 'BEGIN { exit !(b > a && a > 0) }' || { echo "cpu $c1 -> $c2"; return 1; }
  m1=$(value_of "$f1" container_memory_usage_bytes grow)
  m2=$(value_of "$f2" container_memory_usage_bytes grow)
  [ -n "$m1" ] && [ "$m1" != "$m2" ] || { echo "memory $m1 -> $m2"; return 1; }
  [ "$(value_of "$f2" container_processes busy)" = 1 ]
  # two running subnodes: their files are held, at most 10 each
  local n2 n3
  n2=$(counter_fds)
  [ "$n2" -ge 14 ] && [ "$n2" -le 20 ] || { echo "counter fds: $n2"; ls -l "/proc/$NODE_PID/fd"; return 1; }
  # the stopped one's files close at once, the removed one's too
  sn stop -t 1 busy >/dev/null
  local i
  for i in $(seq 50); do   # the supervisor's exit reaches the daemon's notify thread
    n3=$(counter_fds)
    [ "$n3" -gt 10 ] || break
    sleep 0.1
  done
  [ "$n3" -ge 7 ] && [ "$n3" -le 10 ] || { echo "counter fds after stop: $n3"; return 1; }
  sn rm -f grow >/dev/null
  [ "$(counter_fds)" = 0 ] || { echo "counter fds after remove: $(counter_fds)"; ls -l "/proc/$NODE_PID/fd"; return 1; }
  metrics >/dev/null
  [ "$(counter_fds)" = 0 ]
}

@test "network devices of the subnode's namespace: bytes, packets by interface; lo left out" {
  node_start
  sn run -d --name net busybox sleep 100000 >/dev/null
  local pid v=vm$RANDOM
  pid=$(sn inspect net | jq -r '.[0].State.Pid')
  # a veth from a namespace of the test's own into the subnode's: traffic
  # stays between the two namespaces
  TEST_NETNS=$(sn_unique mns)
  ip netns add "$TEST_NETNS"
  ip link add "${v}a" type veth peer name "${v}b"
  ip link set "${v}a" netns "$TEST_NETNS"
  ip link set "${v}b" netns "$pid"
  ip -n "$TEST_NETNS" addr add 10.251.7.1/30 dev "${v}a"
  ip -n "$TEST_NETNS" link set "${v}a" up
  nsenter -t "$pid" -n ip addr add 10.251.7.2/30 dev "${v}b"
  nsenter -t "$pid" -n ip link set "${v}b" up
  ip netns exec "$TEST_NETNS" "$BUSYBOX" ping -c 3 -W 2 10.251.7.2 >/dev/null
  local f=$NODE_DIR/m.txt
  metrics > "$f"
  promtool_clean "$f"
  ! grep -q 'interface="lo"' "$f"
  local sel="name=\"net\".*interface=\"${v}b\""
  local rxp=$(grep "^container_network_receive_packets_total{.*$sel" "$f" | awk '{print $NF}')
  local txp=$(grep "^container_network_transmit_packets_total{.*$sel" "$f" | awk '{print $NF}')
  local rxb=$(grep "^container_network_receive_bytes_total{.*$sel" "$f" | awk '{print $NF}')
  [ "$rxp" -ge 3 ]
  [ "$txp" -ge 3 ]
  [ "$rxb" -ge $((3 * 84)) ]   # three ICMP echo requests of 84 bytes at least
  grep -q "^container_network_receive_errors_total{.*$sel.*} 0$" "$f"
  grep -q "^container_network_transmit_packets_dropped_total{.*$sel" "$f"
  # the stats API shows the same device, lo too
  run curl -sf --unix-socket "$NODE_SOCK" "http://x/containers/net/stats?stream=0&one-shot=1"
  [ "$(jq -r ".networks | has(\"lo\") and has(\"${v}b\")" <<<"$output")" = true ]
  [ "$(jq ".networks[\"${v}b\"].rx_packets" <<<"$output")" -ge "$rxp" ]
}

@test "API requests by route template, method and status, as a histogram" {
  node_start
  sn run -d --name r1 busybox sleep 100000 >/dev/null
  sn inspect r1 >/dev/null
  sn inspect r1 >/dev/null
  run sn inspect nosuch
  [ "$status" -ne 0 ]
  curl -sf --unix-socket "$NODE_SOCK" http://x/v1.41/containers/json >/dev/null
  local f=$NODE_DIR/m.txt
  metrics > "$f"
  promtool_clean "$f"
  grep -q '^# TYPE subnoded_api_request_duration_seconds histogram$' "$f"
  local fam=subnoded_api_request_duration_seconds_count
  [ "$(awk -v k="$fam{route=\"/containers/{id}/json\",method=\"GET\",code=\"200\"}" '$1 == k {print $2}' "$f")" -ge 2 ]
  grep -q "^$fam{route=\"/containers/{id}/json\",method=\"GET\",code=\"404\"} 1$" "$f"
  grep -q "^$fam{route=\"/containers/create\",method=\"POST\",code=\"201\"} 1$" "$f"
  grep -q "^$fam{route=\"/containers/json\",method=\"GET\",code=\"200\"} [1-9]" "$f"
  # no raw id or name in a route
  ! grep '^subnoded_api' "$f" | grep -q 'r1\|route="/containers/[0-9a-f]'
  # the +Inf bucket is the count
  local inf=$(awk -v k="subnoded_api_request_duration_seconds_bucket{route=\"/containers/{id}/json\",method=\"GET\",code=\"200\",le=\"+Inf\"}" '$1 == k {print $2}' "$f")
  [ "$inf" -ge 2 ]
}

@test "health checks: state and last check's duration as metrics" {
  node_start
  sn run -d --name hc --health-cmd 'true' --health-interval 1s busybox sleep 100000 >/dev/null
  wait_for bash -c "curl -sf --unix-socket '$NODE_SOCK' http://x/metrics | grep -q '^subnode_health_status{.*name=\"hc\".*status=\"healthy\"} 1'"
  local f=$NODE_DIR/m.txt
  metrics > "$f"
  promtool_clean "$f"
  grep -q '^subnode_health_status{.*name="hc".*status="unhealthy"} 0$' "$f"
  grep -q '^subnode_health_check_duration_seconds{.*name="hc".*} [0-9]' "$f"
}

@test "scrapes during 128 creates never fail nor show a half-made subnode; 128 promtool-clean" {
  [ -z "${NODE_SCALE_SKIP:-}" ] || skip "NODE_SCALE_SKIP is set"
  NODE_BIN=$REPO/build/bin   # the node, not the sanitizers (as node_scale.bats)
  node_start
  seq 128 | xargs -P 16 -I{} "$NODE_BIN/subnode" run -d --name s{} -l chain=c{} busybox sleep 100000 \
    > /dev/null 2> "$NODE_DIR/create.err" &
  local creator=$! n=0 f=$NODE_DIR/m.txt
  # stats requests at the same time: the runtime's cgroup reader is used
  # from several of the daemon's threads while mounts change
  ( while kill -0 "$creator" 2>/dev/null; do
      curl -s --max-time 10 --unix-socket "$NODE_SOCK" "http://x/containers/s1/stats?stream=0&one-shot=1" >/dev/null
    done ) &
  local statser=$!
  mkdir "$NODE_DIR/scrapes"
  while kill -0 "$creator" 2>/dev/null; do
    metrics > "$NODE_DIR/scrapes/$n" || { echo "scrape $n failed"; return 1; }
    n=$((n + 1))
  done
  wait "$creator"
  wait "$statser"
  kill -0 "$NODE_PID"
  [ ! -s "$NODE_DIR/create.err" ] || { cat "$NODE_DIR/create.err"; return 1; }
  echo "# $n scrapes during the creates" >&3
  [ "$n" -ge 2 ]
  local s
  for s in "$NODE_DIR"/scrapes/*; do
    promtool_clean "$s"
    # no subnode half there: every subnode shown has its image and its
    # labels, is in no transient state, and is in every family of its kind
    ! grep -q '^subnode_info{.*state="\(creating\|removing\)"' "$s"
    ! grep '^container_\|^subnode_info\|^subnode_restarts' "$s" | grep -v 'image="busybox"' | grep -q .
    ! grep '^container_\|^subnode_info' "$s" | grep 'name="s' | grep -vq 'container_label_chain="c'
    [ "$(names_in "$s" container_cpu_usage_seconds_total)" = "$(names_in "$s" container_memory_usage_bytes)" ]
    [ "$(names_in "$s" container_cpu_usage_seconds_total)" = "$(names_in "$s" container_last_seen)" ]
  done
  metrics > "$f"
  promtool_clean "$f"
  [ "$(grep -c '^container_last_seen{' "$f")" = 128 ]
  [ "$(grep -c '^subnode_info{' "$f")" = 128 ]
  grep -q '^subnode_subnodes{state="running"} 128$' "$f"
  grep -q '^subnode_units{kind="free"} 0$' "$f"
  echo "# 128 subnodes: $(wc -c < "$f") bytes, $(grep -vc '^#' "$f") series" >&3
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# promql QUERY: the first value of an instant query, or nothing.
promql() {
  curl -sf --max-time 10 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" \
    | jq -r '.data.result[0].value[1] // empty'
}

@test "a real Prometheus scrapes the node over TCP with the token: CPU rate of a busy and an idle subnode, memory of an allocation" {
  node_start
  # a size that lets a subnode use a whole core, and every core for subnodes
  node_tcp_daemon
  node_stop_daemon
  printf 'reserve_cpus = 0\nsize.small = 1\nsize.core = 64\n' >> "$NODE_DIR/conf"
  node_daemon --config "$NODE_DIR/conf"
  # The machine is shared: give the node's cgroup parent the largest CPU
  # weight, so the spinning subnode gets its core from the host's other
  # load (node_teardown removes the parent).
  if [ -d /sys/fs/cgroup/cpu ]; then
    mkdir -p "/sys/fs/cgroup/cpu$NODE_CG"
    echo 262144 > "/sys/fs/cgroup/cpu$NODE_CG/cpu.shares"
  elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir -p "/sys/fs/cgroup$NODE_CG"
    [ ! -e "/sys/fs/cgroup$NODE_CG/cpu.weight" ] || echo 10000 > "/sys/fs/cgroup$NODE_CG/cpu.weight"
  fi
  sn run -d --name busy --size core busybox sh -c 'while :; do :; done' >/dev/null
  sn run -d --name idle busybox sleep 100000 >/dev/null
  sn run -d --name alloc busybox sh -c 'head -c 50331648 /dev/zero > /dev/shm/x && exec sleep 100000' >/dev/null
  # without the token: refused
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NODE_PORT/metrics"
  [ "$output" = 401 ]
  PROM_PORT=$(free_port)
  mkdir -p "$NODE_DIR/prom/data"
  cat > "$NODE_DIR/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: subnode
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: $NODE_DIR/token
    static_configs:
      - targets: ['127.0.0.1:$NODE_PORT']
EOF
  prometheus --config.file="$NODE_DIR/prom/prometheus.yml" --storage.tsdb.path="$NODE_DIR/prom/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" > "$NODE_DIR/prom/log" 2>&1 &
  PROM_PID=$!
  # the target is up and scraped
  WAIT_TRIES=600 wait_for bash -c "[ \"\$(curl -sf 'http://127.0.0.1:$PROM_PORT/api/v1/query' --data-urlencode 'query=up{job=\"subnode\"}' | jq -r '.data.result[0].value[1] // empty')\" = 1 ]" \
    || { cat "$NODE_DIR/prom/log"; return 1; }
  local i busy idle mem
  for i in $(seq 60); do
    busy=$(promql 'rate(container_cpu_usage_seconds_total{name="busy"}[5s])')
    idle=$(promql 'rate(container_cpu_usage_seconds_total{name="idle"}[5s])')
    mem=$(promql 'container_memory_usage_bytes{name="alloc"}')
    [ -n "$busy" ] && [ -n "$idle" ] && [ -n "$mem" ] && \
      awk -v b="$busy" -v m="$mem" 'BEGIN { exit !(b > 0.5 && m >= 50331648) }' && break
    sleep 1
  done
  echo "# busy $busy cores, idle $idle cores, alloc $mem bytes" >&3
  awk -v b="$busy" 'BEGIN { exit !(b > 0.5) }'
  awk -v i="$idle" 'BEGIN { exit !(i < 0.05) }'
  # 48 MiB in its tmpfs, plus the shell and sleep: within 8 MiB above
  awk -v m="$mem" 'BEGIN { exit !(m >= 50331648 && m < 50331648 + 8388608) }'
  # the scrape is of this node, through the token, with every family typed
  [ "$(promql 'subnode_units{kind="used"}')" = 66 ]
  [ "$(promql 'count(up{job="subnode"} == 1)')" = 1 ]
}
