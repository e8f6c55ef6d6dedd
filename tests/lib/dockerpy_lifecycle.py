#!/usr/bin/env python3
"""dockerpy_lifecycle.py — docker-py (the Docker SDK for Python) drives a node.

Run by node_dockerpy.bats against a real subnoded: DOCKER_HOST names its
socket. The lifecycle a Python tool runs: version negotiation, run
(detached, with env, labels and a size label), logs, exec_run, stats,
top, stop, wait, remove; a refused create raises APIError with the field.
Each check prints what it saw; any mismatch exits 1 naming it. Every
container it makes has a unique name and is removed at the end, also on
failure.
"""
import os
import sys
import time
import uuid

import docker

failures = []


def check(what, got, want):
    ok = got == want if not callable(want) else want(got)
    print(f"{'ok' if ok else 'FAIL'}: {what}: {got!r}")
    if not ok:
        failures.append(what)


def main():
    client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version="auto", timeout=60)
    tag = uuid.uuid4().hex[:8]
    made = []
    try:
        check("negotiated API version", client.api.api_version, "1.41")
        check("server version", client.version()["ApiVersion"], "1.41")
        check("image list", [t for i in client.images.list() for t in i.tags],
              lambda t: any(x.endswith("busybox:latest") for x in t))

        c = client.containers.run("busybox", ["sh", "-c", 'echo "hello $WHO"; echo err >&2; exec sleep 1000'],
                                  name=f"py-{tag}", detach=True, environment={"WHO": "python"},
                                  labels={"io.subnode.size": "medium", "team": "py"})
        made.append(c)
        c.reload()
        check("status", c.status, "running")
        check("name", c.name, f"py-{tag}")
        check("label", c.labels.get("team"), "py")
        for _ in range(100):
            if b"hello python" in c.logs():
                break
            time.sleep(0.1)
        check("logs stdout", c.logs(stdout=True, stderr=False), b"hello python\n")
        check("logs stderr", c.logs(stdout=False, stderr=True), b"err\n")
        check("logs timestamps", c.logs(stdout=True, stderr=False, timestamps=True).split(b" ", 1)[1],
              b"hello python\n")

        r = c.exec_run(["sh", "-c", "echo out-$((6*7)); exit 4"])
        check("exec exit code", r.exit_code, 4)
        check("exec output", r.output, b"out-42\n")
        r = c.exec_run("hostname", environment={"A": "1"}, workdir="/tmp")
        check("exec simple", r.exit_code, 0)

        s = c.stats(stream=False)
        check("stats name", s["name"], f"/py-{tag}")
        check("stats pids", s["pids_stats"]["current"], lambda v: v >= 1)
        check("stats memory limit", s["memory_stats"]["limit"], lambda v: v > 0)
        check("stats cpu", s["cpu_stats"]["cpu_usage"]["total_usage"], lambda v: v > 0)

        t = c.top()
        check("top titles", t["Titles"][-1], "CMD")
        check("top sleep", [p[-1] for p in t["Processes"]], lambda p: "sleep 1000" in p)

        check("listed", [x.name for x in client.containers.list(filters={"label": "team=py"})], [f"py-{tag}"])

        c.stop(timeout=1)
        c.reload()
        check("stopped", c.status, "exited")
        check("wait", c.wait(timeout=30)["StatusCode"], 137)
        c.remove()
        made.remove(c)
        check("removed", [x.name for x in client.containers.list(all=True, filters={"name": f"py-{tag}"})], [])

        try:
            made.append(client.containers.create("busybox", "true", privileged=True))
            check("privileged refused", "created", "refused")
        except docker.errors.APIError as e:
            check("privileged refused", e.status_code, 400)
            check("privileged message", str(e.explanation), lambda m: "HostConfig.Privileged" in m)
    finally:
        for c in made:
            try:
                c.remove(force=True)
            except docker.errors.APIError as e:
                print(f"cleanup: {e}")
    if failures:
        print("failed: " + ", ".join(failures))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
