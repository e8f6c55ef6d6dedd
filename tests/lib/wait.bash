# wait.bash — wait_for, the one polling helper of the tests and the benches
# (common.bash and node.bash source it; the benches source node.bash alone).
#
# wait_for CMD...: retry CMD every 0.1 s, WAIT_TRIES times (default 100:
# 10 s when CMD is quick); then once more, so the test fails with what CMD
# says. With WAIT_SECS set, also stop once that many seconds of wall clock
# have passed, whatever each try costs: a check that waits out a timeout of
# its own (curl --max-time 3 against a dropped SYN) would otherwise stretch
# one failing wait to WAIT_TRIES × its timeout.
wait_for() {
  local i end=$((SECONDS + ${WAIT_SECS:-0}))
  for i in $(seq "${WAIT_TRIES:-100}"); do
    "$@" && return 0
    [ -z "${WAIT_SECS:-}" ] || [ "$SECONDS" -lt "$end" ] || break
    sleep 0.1
  done
  "$@"
}
