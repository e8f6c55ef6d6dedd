#!/usr/bin/env bats
# The API's threads: dozens of streaming clients (logs -f, events, stats,
# wait, exec sessions) at once hold no thread each, stay live, and do not
# starve short requests; the daemon stops cleanly with streams still open;
# the TLS listener (a thread per connection) serves the same in place.

load ../lib/common
load ../lib/node

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }
setup() { node_start; CLIENTS=(); }
teardown() {
  local p
  for p in "${CLIENTS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${CLIENTS[@]}"; do wait "$p" 2>/dev/null || true; done
  node_teardown
}

stream() { # NAME PATH [curl args]: a client in the background, output in $NODE_DIR/NAME
  local name=$1 path=$2; shift 2
  curl -sN --unix-socket "$NODE_SOCK" "$@" "http://x$path" > "$NODE_DIR/$name" 2>/dev/null &
  CLIENTS+=($!)
}

threads() { ls "/proc/$NODE_PID/task" | wc -l; }

@test "70 streams at once: each stays live, none holds a thread, short requests are answered" {
  sn run -d --name talker busybox sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
  sn run -d --name sleeper busybox sleep 1000 >/dev/null
  local i
  for i in $(seq 40); do stream "f$i" "/containers/talker/logs?stdout=1&follow=1"; done
  for i in $(seq 10); do stream "e$i" "/events"; done
  for i in $(seq 10); do stream "s$i" "/containers/talker/stats"; done
  for i in $(seq 6); do stream "w$i" "/containers/sleeper/wait" -X POST; done
  # four exec sessions, each waiting for a line on its stdin
  for i in $(seq 4); do
    (sleep 4; echo "hi$i") | "$NODE_BIN/subnode" exec -i sleeper sh -c 'read x; echo "got-$x"' > "$NODE_DIR/x$i" 2>&1 &
    CLIENTS+=($!)
  done
  sleep 1.5
  # short requests do not queue behind the streams
  for i in $(seq 5); do
    run timeout 5 "$NODE_BIN/subnode" ps -q
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | wc -l)" = 2 ]
  done
  run timeout 20 "$NODE_BIN/subnode" run -d --name newcomer busybox sleep 1000
  [ "$status" -eq 0 ]
  run timeout 5 "$NODE_BIN/subnode" inspect talker
  [ "$status" -eq 0 ]
  # 70 open streams, and the daemon has its few threads: main, notify, hub,
  # 2 HTTP, at most 8 + 8 workers, one relay per exec session
  local t
  t=$(threads)
  echo "threads with 70 streams open: $t" >&3
  [ "$t" -le 25 ]
  # every stream is live
  for i in $(seq 40); do wait_for grep -q tick "$NODE_DIR/f$i"; done
  for i in $(seq 10); do grep -q newcomer "$NODE_DIR/e$i"; done
  for i in $(seq 10); do wait_for bash -c "[ \$(wc -l < '$NODE_DIR/s$i') -ge 2 ]"; done
  for i in $(seq 4); do wait_for grep -q "got-hi$i" "$NODE_DIR/x$i"; done
  # the waits end when their subnode does, with its code
  [ ! -s "$NODE_DIR/w1" ]
  sn kill sleeper >/dev/null
  for i in $(seq 6); do wait_for bash -c "jq -e '.StatusCode == 137' '$NODE_DIR/w$i' >/dev/null"; done
  # clients that leave are noticed: back to the idle threads
  for i in "${CLIENTS[@]}"; do kill "$i" 2>/dev/null || true; done
  WAIT_TRIES=100 wait_for bash -c "[ \$(ls /proc/$NODE_PID/task | wc -l) -le 9 ]"
  sn rm -f talker sleeper newcomer >/dev/null
}

@test "the daemon stops cleanly with streams, a wait and an exec session still open" {
  sn run -d --name talker busybox sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
  local i
  for i in $(seq 5); do stream "f$i" "/containers/talker/logs?stdout=1&follow=1"; done
  stream ev "/events"
  stream st "/containers/talker/stats"
  stream w "/containers/talker/wait" -X POST
  (sleep 30; echo late) | "$NODE_BIN/subnode" exec -i talker sh -c 'read x' > /dev/null 2>&1 &
  CLIENTS+=($!)
  sleep 1.5
  wait_for grep -q tick "$NODE_DIR/f5"
  kill -TERM "$NODE_PID"
  local rc=0
  wait "$NODE_PID" || rc=$?
  [ "$rc" -eq 0 ] || { cat "$NODE_DIR/daemon.log"; return 1; }
  not grep -qi "panic\|suspended connections" "$NODE_DIR/daemon.log"
  # the subnode runs on under its supervisor; the next daemon adopts it
  node_daemon
  [ "$(sn inspect talker | jq -r '.[0].State.Status')" = running ]
  sn rm -f talker >/dev/null
}

@test "the TLS listener (a thread per connection) serves operations, streams and waits in place" {
  node_tcp_daemon tls
  local u=https://127.0.0.1:$NODE_PORT
  tls() { curl -s --max-time 20 --cacert "$NODE_DIR/cert.pem" -H "Authorization: Bearer $NODE_TOKEN" "$@"; }
  run tls -X POST -H 'Content-Type: application/json' -w '\n%{http_code}' \
    -d '{"Image":"busybox","Cmd":["sh","-c","echo one; sleep 2; echo two; exit 7"]}' "$u/containers/create?name=t1&start=1"
  [ "${lines[-1]}" = 201 ]
  run tls -X POST "$u/containers/t1/wait"
  [ "$(echo "$output" | jq .StatusCode)" = 7 ]
  run tls "$u/containers/t1/logs?stdout=1&follow=1&raw=1"
  [ "$output" = "$(printf 'one\ntwo')" ]
  run tls -o /dev/null -w '%{http_code}' "$u/containers/t1/stats?stream=0"
  [ "$output" = 200 ]
  tls "$u/events?since=0&until=$(date +%s)" | jq -e 'select(.Action == "die")' >/dev/null
  run tls -X DELETE -o /dev/null -w '%{http_code}' "$u/containers/t1"
  [ "$output" = 204 ]
  run sn ps -a -q
  [ -z "$output" ]
}
