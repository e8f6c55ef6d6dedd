#!/usr/bin/env bats
# demochain.bats — the demo chain workload (src/workload/demochain) as four
# processes on loopback, member i on 127.0.0.(i+1), no containers: blocks
# become final and every member holds the same hashes; a member killed
# with -9 leaves three, which go on (3 > 2/3 of 4); brought back on a copy
# of another member's data it resumes from the copied height, not from 0,
# and agrees on every hash; with two of four dead no block is final and
# the two left still answer, round after round.

load ../lib/common

: "${DEMOCHAIN:=$REPO/build-asan/bin/demochain}"

setup() {
  T=$(mktemp -d /tmp/sn-demochain.XXXXXX)
  # a port block free on all four addresses (UDP port, TCP port + 1)
  PORT=$(python3 - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000, 2)
    try:
        socks = []
        for i in range(1, 5):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.%d" % i, p)); socks.append(u)
            t = socket.socket(); t.bind(("127.0.0.%d" % i, p + 1)); socks.append(t)
        for s in socks: s.close()
        print(p); break
    except OSError:
        for s in socks: s.close()
EOF
)
  [ -n "$PORT" ]
  PEERS="0=127.0.0.1:$PORT,1=127.0.0.2:$PORT,2=127.0.0.3:$PORT,3=127.0.0.4:$PORT"
}

teardown() {
  local f
  for f in "$T"/m*.pid "$T"/w*.pid; do
    [ -e "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
  done
  for f in "$T"/m*.pid "$T"/w*.pid; do
    [ -e "$f" ] && wait_gone "$(cat "$f")"
  done
  rm -rf "$T"
}

# wait_gone PID: until it has ended (5 s).
wait_gone() {
  local t
  for t in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

# start I: member I on its data dir $T/dI; its log in $T/mI.log. The
# watchdog `timeout` ends it if a test is cut short; mI.pid is demochain's.
start() {
  local i=$1 tpid
  env SUBNODE_INDEX="$i" SUBNODE_MEMBERS=4 SUBNODE_PEERS="$PEERS" SUBNODE_DATA="$T/d$i" \
    SUBNODE_CHAIN=bats DEMOCHAIN_BLOCK_MS=200 DEMOCHAIN_ROUND_MS=1000 \
    DEMOCHAIN_PEERS_FILE="$T/none.json" \
    timeout -s KILL 300 "$DEMOCHAIN" >>"$T/m$i.log" 2>&1 </dev/null 3>&- &
  tpid=$!
  disown # its kill -9 is the test's, not news
  echo "$tpid" > "$T/w$i.pid"
  wait_for child_of "$tpid" "$T/m$i.pid"
  wait_for curl -sf -m 2 -o /dev/null "http://127.0.0.$((i + 1)):$((PORT + 1))/status"
}

# child_of PID FILE: PID's child (demochain under its watchdog) into FILE.
child_of() {
  local c
  c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) && [ -n "$c" ] && echo "$c" > "$2"
}

start_all() { local i; for i in 0 1 2 3; do start "$i"; done; }

kill9() { kill -9 "$(cat "$T/m$1.pid")"; wait_gone "$(cat "$T/m$1.pid")"; rm -f "$T/m$1.pid"; }

rpc() { curl -sf -m 2 "http://127.0.0.$(($1 + 1)):$((PORT + 1))$2"; }
height() { rpc "$1" /status | jq -r .height; }

# at_least H I...: every member I is at height H or more (within 30 s).
at_least() {
  local h=$1 i t ok
  shift
  for t in $(seq 300); do
    ok=1
    for i in "$@"; do [ "$(height "$i" || echo 0)" -ge "$h" ] || ok=0; done
    [ "$ok" = 1 ] && return 0
    sleep 0.1
  done
  for i in "$@"; do echo "member $i at height $(height "$i"), not $h" >&2; tail -5 "$T/m$i.log" >&2; done
  return 1
}

# agree I...: the members' blocks (the first 500) have the same hash at
# every height they share, and link each to the one before.
agree() {
  local i files=()
  for i in "$@"; do
    rpc "$i" "/blocks?from=0&limit=500" | jq -c '[.[] | [.height, .hash, .prev]]' > "$T/b$i.json"
    files+=("$T/b$i.json")
  done
  jq -s -e '
    (map(length) | min) as $n | $n > 0 and
    ([range(0; $n) as $k | map(.[$k]) | unique | length] | max) == 1 and
    (.[0] | [range(1; length) as $k | .[$k][2] == .[$k - 1][1]] | all)' "${files[@]}" \
    >/dev/null 2>&1 || { for i in "$@"; do echo "member $i: $(head -c 300 "$T/b$i.json")" >&2; done; return 1; }
}

@test "demochain: four members finalise blocks, agree on every hash, and serve status, blocks and metrics" {
  start_all
  at_least 5 0 1 2 3
  local i
  for i in 0 1 2 3; do agree 0 "$i"; done
  run rpc 2 /status
  [ "$status" -eq 0 ]
  [ "$(jq -r '.index, .members, .quorum' <<<"$output" | tr '\n' ' ')" = "2 4 3 " ]
  [ "$(jq -r '.last_hash | length' <<<"$output")" = 64 ]
  [ "$(jq -r '.peers | length' <<<"$output")" = 3 ]
  run rpc 1 "/blocks?from=2&limit=2"
  [ "$(jq -r 'map(.height) | join(",")' <<<"$output")" = "3,4" ]
  run rpc 3 /metrics
  [ "$status" -eq 0 ]
  [[ "$output" =~ demochain_height\ [0-9]+ ]]
  [[ "$output" =~ demochain_rounds_total\ [1-9] ]]
  [[ "$output" =~ demochain_votes_total\ [1-9] ]]
  if command -v promtool >/dev/null; then promtool check metrics <<<"$output"; fi
  run curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((PORT + 1))/nothing"
  [ "$output" = 404 ]
  # the block file on the data volume is what the chain says
  [ "$(wc -l < "$T/d0/demochain.blocks")" -ge 5 ]
  grep -q "member 0 block 1 " "$T/m0.log"
}

@test "demochain: kill -9 of one member leaves three that finalise; a copy of another's data resumes at its height and agrees" {
  start_all
  at_least 3 0 1 2 3
  kill9 1
  local h
  h=$(height 0)
  at_least $((h + 3)) 0 2 3
  agree 0 2 3
  # the replacement: member 1 on a copy of member 0's /data (what the link
  # gives a moved member), taken while member 0 runs
  rm -rf "$T/d1"
  cp -a "$T/d0" "$T/d1"
  local copied
  copied=$(wc -l < "$T/d1/demochain.blocks")
  [ "$copied" -ge 3 ]
  : > "$T/m1.log"
  start 1
  # a copy taken in the middle of an append loses at most that last line
  run grep -o "member 1 of 4 on .* at height [0-9]*" "$T/m1.log"
  [ "${output##* }" -ge $((copied - 1)) ]
  grep -q "member 1 resumes from $T/d1" "$T/m1.log"
  h=$(height 0)
  at_least $((h + 2)) 0 1 2 3
  agree 0 1 2 3
  # it fetched only what came after the copy
  run rpc 1 /metrics
  local fetched
  fetched=$(grep '^demochain_blocks_final_total{how="fetched"}' <<<"$output" | awk '{print $2}')
  [ "$fetched" -lt "$(height 1)" ]
}

@test "demochain: with two of four members dead no block is final, and the two left still answer round after round" {
  start_all
  at_least 3 0 1 2 3
  kill9 2
  kill9 3
  sleep 1.5 # a block in flight at the kill is final or never
  local h0 h1 r0
  h0=$(height 0)
  h1=$(height 1)
  r0=$(rpc 0 /metrics | awk '$1 == "demochain_rounds_total" {print $2}')
  sleep 4
  run rpc 0 /status
  [ "$status" -eq 0 ]
  [ "$(jq -r .height <<<"$output")" = "$h0" ]
  [ "$(height 1)" = "$h1" ]
  [ "$(rpc 0 /metrics | awk '$1 == "demochain_rounds_total" {print $2}')" -ge $((r0 + 3)) ]
  [ "$(rpc 0 /metrics | awk '$1 == "demochain_peer_up{peer=\"2\"}" {print $2}')" = 0 ]
  # both back: the chain goes on
  start 2
  start 3
  at_least $((h0 + 2)) 0 1 2 3
  agree 0 1 2 3
}
