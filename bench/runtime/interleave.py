#!/usr/bin/env python3
"""interleave.py — compare variants of one command on a noisy, shared machine.

hyperfine runs each command in one block, so load from other tenants that
comes and goes lands on whichever command runs at that time. Here every
round runs each variant once, in a new random order, and we report medians
of wall time and of CPU time (user+sys of the command and the children it
reaped, from wait4), which drift shifts alike for all variants.

  interleave.py ROUNDS WARMUP NAME::COMMAND...   (COMMAND run by sh -c)
Prints a JSON list: name, wall_ms_median, wall_ms_p25, cpu_ms_median, runs.
"""
import json, os, random, statistics, subprocess, sys, tempfile, time

def once(cmd):
    with tempfile.TemporaryFile() as errf:
        t0 = time.perf_counter_ns()
        p = subprocess.Popen(["sh", "-c", "exec " + cmd], stdout=subprocess.DEVNULL, stderr=errf)
        _, status, ru = os.wait4(p.pid, 0)
        wall = (time.perf_counter_ns() - t0) / 1e6
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            errf.seek(0)
            sys.exit(f"interleave: `{cmd}` exited {p.returncode}: {errf.read().decode(errors='replace')}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1000

def main():
    rounds, warmup = int(sys.argv[1]), int(sys.argv[2])
    variants = [a.split("::", 1) for a in sys.argv[3:]]
    for _ in range(warmup):
        for _, c in variants:
            once(c)
    res = {n: ([], []) for n, _ in variants}
    for _ in range(rounds):
        order = variants[:]
        random.shuffle(order)
        for n, c in order:
            w, cpu = once(c)
            res[n][0].append(w)
            res[n][1].append(cpu)
    out = []
    for n, _ in variants:
        w, cpu = res[n]
        out.append({"name": n, "wall_ms_median": round(statistics.median(w), 2),
                    "wall_ms_p25": round(statistics.quantiles(w, n=4)[0], 2),
                    "cpu_ms_median": round(statistics.median(cpu), 2), "runs": len(w)})
    print(json.dumps(out))

main()
