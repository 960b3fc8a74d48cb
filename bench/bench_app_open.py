#!/usr/bin/env python3
"""Opening a lab in the desktop app, measured (a benchmark, not a test).

Starts `ticketlab LAB.db` on the offscreen platform and samples its CPU time and memory from
/proc until it has been idle (under 2% of a core) for 2 s: prints the wall time to idle, the
CPU seconds used, the resident memory then and its peak.

    bench/bench_app_open.py build/app/ticketlab LAB.db [--timeout 120]
"""
import os
import subprocess
import sys
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out.get("VmRSS", 0), out.get("VmHWM", 0)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    app, lab = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 120.0
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    start = time.monotonic()
    p = subprocess.Popen([app, lab], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []  # (time, cpu)
    idle_at = None
    try:
        while time.monotonic() - start < timeout:
            time.sleep(0.25)
            now, cpu = time.monotonic() - start, cpu_seconds(p.pid)
            samples.append((now, cpu))
            window = [s for s in samples if s[0] >= now - 2.0]
            if now > 2.0 and window[-1][1] - window[0][1] < 0.02 * (window[-1][0] - window[0][0]):
                idle_at = window[0][0]
                break
        rss, peak = memory_mb(p.pid)
        cpu = cpu_seconds(p.pid)
    finally:
        p.terminate()
        p.wait()
    if idle_at is None:
        print(f"{lab}: still busy after {timeout:.0f} s: {cpu:.1f} CPU-s, {rss:.0f} MB resident (peak {peak:.0f} MB)")
    else:
        print(f"{lab}: idle after {idle_at:.1f} s: {cpu:.1f} CPU-s, {rss:.0f} MB resident (peak {peak:.0f} MB)")


if __name__ == "__main__":
    main()
