#!/usr/bin/env bats
# subrun terminals: the pty made inside the container and sent over
# --console-socket (the way podman's conmon receives it), for create and
# for exec --tty; and run in the foreground with a terminal of its own.

load ../lib/common

setup() {
  subrun_setup tty
  SOCK="$B/console.sock"
  RECV_PID=""
}

teardown() {
  [ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null || true
  subrun_teardown
}

# start_receiver OUT [INPUT]: recvtty.py on $SOCK, wait until it listens
start_receiver() {
  rm -f "$SOCK"
  python3 "$REPO/tests/lib/recvtty.py" "$SOCK" "$1" "${2:-}" > "$B/recv.ready" &
  RECV_PID=$!
  for i in $(seq 50); do grep -q ready "$B/recv.ready" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

@test "create sends the container's terminal over the console socket" {
  edit_config "$B" '.process.terminal = true | .process.args = ["sh","-c","tty; echo term-ok; stty size"]
                    | .process.consoleSize = {"height": 33, "width": 101}'
  start_receiver "$B/out"
  cd "$B"
  sr create --console-socket "$SOCK" "$ID"
  sr start "$ID"
  wait "$RECV_PID"; RECV_PID=""
  grep -q term-ok "$B/out"
  grep -q '/dev/console\|/dev/pts/' "$B/out"
  grep -q '33 101' "$B/out"
}

@test "input written to the terminal reaches the container's shell" {
  edit_config "$B" '.process.terminal = true | .process.args = ["sh"]'
  start_receiver "$B/out" 'echo typed-$((6*7))\nexit\n'
  cd "$B"
  sr create --console-socket "$SOCK" "$ID"
  sr start "$ID"
  wait "$RECV_PID"; RECV_PID=""
  grep -q typed-42 "$B/out"
}

@test "create with terminal true and no console socket is refused, nothing left" {
  edit_config "$B" '.process.terminal = true'
  cd "$B"
  run sr create "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"console-socket"* ]]
  [ ! -e "$SUBRUN_ROOT/$ID" ]
}

@test "exec --tty gives a process its own terminal through the console socket" {
  cd "$B"
  sr run -d "$ID"
  start_receiver "$B/out" 'echo exec-$((2+3)); tty; exit\n'
  sr exec --tty --detach --console-socket "$SOCK" "$ID" sh
  wait "$RECV_PID"; RECV_PID=""
  grep -q exec-5 "$B/out"
  grep -q '/dev/pts/' "$B/out"
}

@test "run in the foreground relays its own terminal" {
  edit_config "$B" '.process.terminal = true | .process.args = ["sh","-c","tty; echo fg-ok"]'
  cd "$B"
  run script -qec "$SUBRUN --root $SUBRUN_ROOT run $ID" /dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *fg-ok* ]]
  [[ "$output" == */dev/* ]]
}
