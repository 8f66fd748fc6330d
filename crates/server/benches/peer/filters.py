#!/usr/bin/env python3
"""chitieu's filtered lists: a page of 50 for each kind of filter.

Grows chitieu as the peer bench does (PEER_INDICATORS indicators, default
10,000, through its API; the grown ones are all ECONOMY, period 2025, and
settle EXCEEDED; the demo's own 183 differ), then runs the same wrk
(PEER_SECONDS, 2 threads, 32 connections, after 2 s of warm-up) on a page
of 50 with each filter below, cache off, and prints req/s, latency and the
total each answers. See BENCHMARKS.md ("Lists by any filter").

    python3 crates/server/benches/peer/filters.py [path/to/chitieu]

Without a path it builds and uses target/release/chitieu.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the peer bench's helpers)

FIELDS = "{ totalCount edges { node { id name targets { track value } latestActual { figure status } } } }"
FILTERS = {
    "category, most of the store": "{category: ECONOMY}",
    "status, most of the store": "{status: EXCEEDED}",
    "category, the demo's 122": "{category: SOCIETY}",
    "category and status, one match": "{category: ECONOMY, status: NOT_MET}",
    "unit, period, category and status": '{orgUnit: "TV.TIEU-CAN", period: "2025", category: ECONOMY, status: EXCEEDED}',
}


def main():
    if len(sys.argv) > 1:
        binary = sys.argv[1]
    else:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "chitieu-server", "--bin", "chitieu"], cwd=run.ROOT, check=True)
        binary = os.path.join(run.ROOT, "target", "release", "chitieu")
    tmp = tempfile.mkdtemp(prefix="chitieu-filters-")
    child, url, tokens = run.start_chitieu(binary, tmp, 0)
    try:
        run.grow_chitieu(url, tokens)
        viewer = tokens["ubkt"]
        run.say(f"| page of 50 ({run.N:,} grown indicators, cache off) | matches | req/s | p50 / p99 |")
        run.say("|---|---|---|---|")
        for name, filter in FILTERS.items():
            body = json.dumps({"query": f"{{ indicators(first: 50, filter: {filter}) {FIELDS} }}"})
            total = run.check(url, body, viewer)["data"]["indicators"]["totalCount"]
            path = os.path.join(tmp, "body")
            with open(path, "w") as f:
                f.write(body + "\n")
            if run.WARM_UP:
                run.wrk(url, path, viewer, run.WARM_UP)
            rate, p50, p99 = run.wrk(url, path, viewer)
            run.say(f"| {name} | {total:,} | {rate:,.0f} | {p50:.2f} / {p99:.2f} ms |")
        run.say(f"chitieu's memory after the run: {run.memory(child.pid)}")
    finally:
        run.stop_chitieu(child, tmp)


if __name__ == "__main__":
    main()
