# browser.bash — headless Chromium for the dashboard's tests, driven by
# Debian's chromedriver over WebDriver (tests/lib/webdriver.py, plain HTTP
# on loopback).
#
# browser_require skips the test, saying why, when chromium or chromedriver
# is missing; browser_start runs chromedriver on a free loopback port, its
# own profile directory, and opens a session; browser_stop ends the session
# and stops that chromedriver (by its PID only; Chromium is its child and
# goes with the session). Every call is under `timeout`.

BROWSER_PY=$REPO/tests/lib/webdriver.py
BROWSER_PIDS=()

browser_require() {
  command -v chromium >/dev/null || skip "chromium is not installed (scripts/deps.sh test installs it)"
  command -v chromedriver >/dev/null || skip "chromedriver is not installed (Debian's chromium-driver)"
}

# wd ARGS...: one WebDriver command (webdriver.py), at most 90 s.
wd() { timeout 90 python3 "$BROWSER_PY" "$@"; }

browser_start() {
  BROWSER_DIR=$(mktemp -d /tmp/sn-browser-XXXXXX)
  local port
  port=$(free_port)
  export WD_URL=http://127.0.0.1:$port WD_PROFILE=$BROWSER_DIR/profile
  chromedriver --port="$port" --allowed-ips=127.0.0.1 >"$BROWSER_DIR/chromedriver.log" 2>&1 &
  BROWSER_PIDS+=("$!")
  WAIT_TRIES=100 wait_for curl -sf --max-time 2 "$WD_URL/status" -o /dev/null
  WD_SESSION=$(wd start)
  export WD_SESSION
}

browser_stop() {
  local pid
  [ -z "${WD_SESSION:-}" ] || wd quit >/dev/null 2>&1 || true
  WD_SESSION=
  for pid in "${BROWSER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  BROWSER_PIDS=()
  [ -z "${BROWSER_DIR:-}" ] || rm -rf "$BROWSER_DIR"
  return 0
}

# wd_wait SECS SCRIPT: until the page's SCRIPT returns something truthy.
wd_wait() { timeout $(( $1 + 30 )) python3 "$BROWSER_PY" wait "$@"; }
