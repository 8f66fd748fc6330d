#!/usr/bin/env python3
"""chitieu alone, one scenario of the peer bench: for A/B runs of two builds.

    python3 crates/server/benches/peer/solo.py BINARY one|page|write

Installs wrk when missing (Debian's package, as root), starts BINARY's
demo on a fresh data directory, grows it as run.py does
(PEER_INDICATORS indicators, default 2,000 here), warms up, then runs wrk
(run.py's settings) ROUNDS times (default 2) on one scenario: `one` (one
indicator with 20 history entries, random indicators), `page` (a page of
50, no filter), or `write` (durable reportActual at PEER_WRITE_CONNECTIONS
connections, each to the next indicator in turn). With RESTART=1, the
server is then restarted on the same data and measured again (memory at
start, then the same rounds, memory after each). With PERF=<file>, the
server is recorded with `perf record --call-graph dwarf` during the rounds
(PERF_CALLGRAPH=fp for a build with frame pointers: whole async stacks).
With DATA=<dir>, the data directory is <dir>, kept afterwards: a first
run grows it, later runs (of any build reading the same log) start on it
as it is, so that two builds' memory is compared on the same data.
PEER_CACHE_MIB sets the response cache (default 0: every read cold; the
server's own default is 64).
Prints req/s, p50 and p99 (ms), the server's CPU per request (in total
and by its busiest groups of threads: a steadier figure than the rate
when wrk shares the cores), its context switches and the bytes it had
written to the disk per request, wrk's own CPU per request (the load
generator's share of the two cores), for writes the log's appends per
flush and per group and its mean flush (from /metrics), then the
server's memory. Run two builds
alternately (A B A B) and compare like with like: no PostgreSQL here, so
no ratio; run.py gives the ratio against PostGraphile.
"""

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("PEER_INDICATORS", "2000")
import run  # noqa: E402  (reads PEER_INDICATORS when imported)


def cpu_seconds(usage):
    return usage.ru_utime + usage.ru_stime


def log_commits(url, token):
    """The log's commit counters from the server's /metrics (appends,
    groups, flushes, flush_seconds); empty if it does not answer."""
    request = urllib.request.Request(url.rsplit("/", 1)[0] + "/metrics", headers={"Authorization": f"Bearer {token}"})
    try:
        text = urllib.request.urlopen(request, timeout=5).read().decode()
    except OSError:
        return {}
    found = re.findall(r"^chitieu_log_(appends|groups|flushes|flush_seconds)_total ([0-9.e+]+)$", text, re.M)
    return {k: float(v) for k, v in found}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("one", "page", "write"):
        sys.exit(__doc__)
    binary, what = sys.argv[1], sys.argv[2]
    if not shutil.which("wrk"):
        # run.py's ensure_tools also sets up PostgreSQL and PostGraphile,
        # which this script does not use: wrk alone.
        if os.geteuid() != 0:
            sys.exit("solo: install wrk (Debian package) first")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)
    perf = os.environ.get("PERF")
    kept = os.environ.get("DATA")
    cache_mib = int(os.environ.get("PEER_CACHE_MIB", "0"))
    tmp = kept or tempfile.mkdtemp(prefix="solo-")
    os.makedirs(tmp, exist_ok=True)
    grown = os.path.join(tmp, "ids")
    child, url, tokens = run.start_chitieu(binary, tmp, cache_mib)
    if kept and os.path.exists(grown):
        print(os.path.basename(binary), "memory when ready:", run.memory(child.pid), flush=True)
    try:
        if kept and os.path.exists(grown):
            with open(grown) as f:
                ids = f.read().split()
        else:
            ids = run.grow_chitieu(url, tokens)
            run.settle(child.pid, "chitieu")
            if kept:
                with open(grown, "w") as f:
                    f.write("\n".join(ids) + "\n")
        if what == "write":
            lines = run.write_bodies(run.WRITES[0], ids)
            who, connections, order = "pkt-tieu-can", run.WRITE_CONNECTIONS, "turn"
        else:
            query = list(run.QUERIES.values())[0 if what == "one" else 1][0]
            lines = run.bodies(query, ids, run.ORGS)
            who, connections, order = "ubkt", None, "random"
        token = tokens[who]
        path = os.path.join(tmp, "bodies")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        run.wrk(url, path, token, run.WARM_UP, connections=connections, order=order)
        recorder = None
        if perf:
            recorder = subprocess.Popen(
                ["perf", "record", "-F", "400", "--call-graph", os.environ.get("PERF_CALLGRAPH", "dwarf,16384"), "-o", perf, "-p", str(child.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        name = os.path.basename(binary)

        def rounds(label, memory_each=False):
            for _ in range(int(os.environ.get("ROUNDS", "2"))):
                before = run.cpu_by_thread(child.pid)
                commits = log_commits(url, token)
                load = resource.getrusage(resource.RUSAGE_CHILDREN)
                rate, p50, p99 = run.wrk(url, path, token, connections=connections, order=order)[:3]
                requests = rate * run.SECONDS
                cpu = run.cpu_per_request(before, run.cpu_by_thread(child.pid), requests)
                load = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN)) - cpu_seconds(load)
                memory = f"; {run.memory(child.pid)}" if memory_each else ""
                log = ""
                if what == "write":
                    done = log_commits(url, token)
                    moved = {k: done.get(k, 0) - commits.get(k, 0) for k in done}
                    if moved.get("flushes"):
                        log = (
                            f"; log: {moved['appends'] / moved['flushes']:.1f} appends a flush"
                            f" ({moved['appends'] / max(1, moved['groups']):.1f} a group),"
                            f" flush {1000 * moved['flush_seconds'] / moved['flushes']:.2f} ms"
                        )
                print(
                    f"{name} {label}: {rate:,.0f} req/s p50 {p50:.2f} p99 {p99:.2f}; {cpu};"
                    f" wrk CPU {load / requests * 1e6:,.1f} us/request{log}{memory}",
                    flush=True,
                )

        rounds(what)
        if recorder:
            recorder.send_signal(2)
            recorder.wait()
        print(name, "memory:", run.memory(child.pid), flush=True)
        if os.environ.get("RESTART"):
            # The same data served by a fresh process, as after a
            # restart: what it holds once it has answered the same load.
            run.stop_chitieu(child)
            child, url, tokens = run.start_chitieu(binary, tmp, cache_mib)
            token = tokens.get(who, token)
            print(name, "memory after restart:", run.memory(child.pid), flush=True)
            run.wrk(url, path, token, run.WARM_UP, connections=connections, order=order)
            rounds(f"{what} after restart", memory_each=True)
    finally:
        run.stop_chitieu(child, None if kept else tmp)


if __name__ == "__main__":
    main()
