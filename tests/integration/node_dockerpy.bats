#!/usr/bin/env bats
# docker-py, Docker's SDK for Python, drives a node through the same
# lifecycle as the docker CLI (node_docker.bats): tests/lib/dockerpy_lifecycle.py runs
# against a real subnoded and prints each check. Skipped, saying so,
# without python3's docker module (Debian: python3-docker).

load ../lib/common
load ../lib/node

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }
setup() {
  python3 -c 'import docker' 2>/dev/null || skip "no python3 docker module (Debian: python3-docker)"
  node_start
}
teardown() { node_teardown; }

@test "docker-py: run, logs, exec, stats, top, stop, wait, remove; a refused create names the field" {
  run timeout 120 env DOCKER_HOST="unix://$NODE_SOCK" python3 "$REPO/tests/lib/dockerpy_lifecycle.py"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"all passed"* ]]
  [ -z "$(sn ps -a -q)" ]
  [ -z "$(node_leftovers)" ]
}
