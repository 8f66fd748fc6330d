#!/usr/bin/env python3
"""chitieu beside a peer: PostGraphile 4 over PostgreSQL 15.

The same read-model shapes on both sides (PEER_INDICATORS indicators,
default 10,000, each with 2 targets, 3 results and 20 history entries), the
same three queries, the same wrk settings (PEER_THREADS threads,
PEER_CONNECTIONS connections, PEER_SECONDS seconds: 2, 32, 10), in one run;
prints each figure and the ratio chitieu / PostGraphile. See BENCHMARKS.md.

    python3 crates/server/benches/peer/run.py

Sets up what it needs: wrk and PostgreSQL 15 from Debian's packages (when
missing, with apt-get as root), PostGraphile 4.14 from npm (into
target/peer), chitieu's release binary (cargo build --release), a private
PostgreSQL cluster and a chitieu data directory in a temporary directory,
removed at the end. Once both are loaded, PostgreSQL is checkpointed and
chitieu left to settle (under 5 % of a core) before anything is measured.
chitieu runs with its response cache off (cold
reads: every request resolved in full) unless PEER_CACHE=on. PEER_MEMORY
adds a [memory] section to chitieu's config (its page caches, its view
cache: "log_cache_mib = 32\nread_model_cache_mib = 64").
"""

import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
PG_BIN = os.environ.get("PEER_PG_BIN", "/usr/lib/postgresql/15/bin")
N = int(os.environ.get("PEER_INDICATORS", "10000"))
SECONDS = int(os.environ.get("PEER_SECONDS", "10"))
THREADS = int(os.environ.get("PEER_THREADS", "2"))
CONNECTIONS = int(os.environ.get("PEER_CONNECTIONS", "32"))
CACHE = os.environ.get("PEER_CACHE", "off")
# PostGraphile is one Node.js process unless told otherwise: one worker per
# core gives it the machine, as chitieu has it.
WORKERS = int(os.environ.get("PEER_GRAPHILE_WORKERS", str(os.cpu_count() or 1)))
WARM_UP = int(os.environ.get("PEER_WARM_UP", "2"))
ORGS = ["LA.CAN-DUOC", "TV.TIEU-CAN", "AG.CHO-MOI", "HG.PHUNG-HIEP"]


def say(*args):
    print(*args, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_tools():
    missing = [p for p, path in (("wrk", shutil.which("wrk")), ("postgresql-15", os.path.exists(f"{PG_BIN}/initdb") or None)) if not path]
    if missing:
        if os.geteuid() != 0:
            sys.exit(f"peer: install {' '.join(missing)} (Debian packages) first")
        say(f"installing {' '.join(missing)} (apt-get)")
        run(["apt-get", "install", "-y", "-q", *missing], stdout=subprocess.DEVNULL)
    node_dir = os.path.join(ROOT, "target", "peer")
    graphile = os.path.join(node_dir, "node_modules", "postgraphile", "cli.js")
    if not os.path.exists(graphile):
        os.makedirs(node_dir, exist_ok=True)
        say("installing postgraphile@4.14 (npm)")
        run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", node_dir, "postgraphile@4.14"])
    say("building chitieu (cargo build --release)")
    run(["cargo", "build", "--release", "-q", "-p", "chitieu-server", "--bin", "chitieu"], cwd=ROOT)
    return graphile, os.path.join(ROOT, "target", "release", "chitieu")


def as_postgres(cmd):
    """Runs a PostgreSQL command as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start_postgres(tmp):
    data = os.path.join(tmp, "pg")
    os.makedirs(data)
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
    run(as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]), stdout=subprocess.DEVNULL)
    port = free_port()
    run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(data, "log"), "-w", "-o", f"-p {port} -h 127.0.0.1 -k {data} -c shared_buffers=512MB -c fsync=on", "start"]), stdout=subprocess.DEVNULL)
    return data, f"postgres://postgres@127.0.0.1:{port}/postgres"


def load_shapes(url):
    started = time.time()
    run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"n={N}", "-d", url, "-f", os.path.join(HERE, "shapes.sql")], stdout=subprocess.DEVNULL)
    say(f"PostgreSQL: {N} indicators with 2 targets, 3 results, 20 history rows each in {time.time() - started:.1f} s")


def wait_http(url, body=b'{"query":"{ __typename }"}', headers=None, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            post(url, body, headers or {})
            return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"peer: {url} did not answer")


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def start_postgraphile(graphile, url):
    port = free_port()
    env = dict(os.environ, NODE_ENV="production")
    child = subprocess.Popen(["node", graphile, "-c", url, "--schema", "peer", "--host", "127.0.0.1", "--port", str(port), "--disable-query-log", "--no-ignore-rbac", *(["--cluster-workers", str(WORKERS)] if WORKERS > 1 else [])], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    endpoint = f"http://127.0.0.1:{port}/graphql"
    wait_http(endpoint)
    return child, endpoint


def start_chitieu(binary, tmp, cache_mib):
    config = os.path.join(tmp, "chitieu.toml")
    with open(config, "w") as f:
        f.write(f"[limits]\nresponse_cache_mib = {cache_mib}\naliases = 30\n")
        # PEER_MEMORY: the server's [memory] settings, e.g.
        # "log_cache_mib = 32\nread_model_cache_mib = 64".
        if os.environ.get("PEER_MEMORY"):
            f.write("[memory]\n" + os.environ["PEER_MEMORY"] + "\n")
    child = subprocess.Popen([binary, "demo", "--listen", "127.0.0.1:0", "--config", config, "--data-dir", os.path.join(tmp, "chitieu")], stdout=subprocess.PIPE, env=dict(os.environ, RUST_LOG="warn"), text=True)
    url, tokens = None, {}
    # The banner: where it listens, the demo people's tokens, then "ready".
    for line in child.stdout:
        line = line.strip()
        if line.startswith("chitieu: GraphQL at "):
            url = line.removeprefix("chitieu: GraphQL at ").strip()
        elif line.startswith("chitieu: token "):
            who, token = line.removeprefix("chitieu: token ").split()[:2]
            tokens[who] = token
        elif line == "chitieu: ready":
            break
    if url is None:
        sys.exit("peer: chitieu did not say where it listens")
    threading.Thread(target=lambda: [None for _ in child.stdout], daemon=True).start()
    return child, url, tokens


def stop_chitieu(child, tmp=None):
    """Stops a server start_chitieu started; removes `tmp` if given."""
    child.terminate()
    child.wait()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


class Client:
    """One keep-alive connection, GraphQL errors are fatal."""

    def __init__(self, url, token):
        m = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
        self.host, self.port, self.path = m.group(1), int(m.group(2)), m.group(3)
        self.token = token
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, query, variables=None, token=None):
        body = json.dumps({"query": query, "variables": variables or {}})
        self.conn.request("POST", self.path, body, {"Content-Type": "application/json", "Authorization": f"Bearer {token or self.token}"})
        answer = json.loads(self.conn.getresponse().read())
        if answer.get("errors"):
            raise RuntimeError(f"{query[:80]}…: {answer['errors']}")
        return answer["data"]


DEFINE = 'mutation($org: ID!, $name: String!, $doc: ID!) { defineIndicator(input: {orgUnit: $org, period: "2025", category: ECONOMY, name: $name, unit: "tỷ đồng", measure: AMOUNT, document: $doc}) { indicator { id } } }'


def shape_mutations(docs):
    """After the definition (1): 2 targets and 14 revisions (the planner's
    request) and 3 results (the reporter's): 20 history entries, in two
    requests of aliased mutations."""
    parts = [
        f'a: setTarget(input: {{indicator: $id, track: RESOLUTION, target: {{kind: AT_LEAST, value: "1001"}}, document: "{docs[0]}"}}) {{ position }}',
        f'b: setTarget(input: {{indicator: $id, track: STRETCH, target: {{kind: AT_LEAST, value: "1002"}}, document: "{docs[0]}"}}) {{ position }}',
        'c: reportActual(input: {indicator: $id, value: {amount: "1010.5"}, refersTo: "2025-03-31", status: ESTIMATE}) { position }',
        'd: reportActual(input: {indicator: $id, value: {amount: "1021"}, refersTo: "2025-06-30", status: ESTIMATE}) { position }',
        'e: reportActual(input: {indicator: $id, value: {amount: "1031.5"}, refersTo: "2025-12-31", status: FINAL, reason: "Số liệu thống kê"}) { position }',
    ]
    results = "mutation($id: ID!) { " + " ".join(parts[2:]) + " }"
    parts = parts[:2]
    for r in range(14):
        track = "RESOLUTION" if r % 2 == 0 else "STRETCH"
        doc = docs[1 + r % (len(docs) - 1)]
        parts.append(f'r{r}: reviseTarget(input: {{indicator: $id, track: {track}, target: {{kind: AT_LEAST, value: "{1003 + r}"}}, document: "{doc}", reason: "Điều chỉnh"}}) {{ position }}')
    return "mutation($id: ID!) { " + " ".join(parts) + " }", results


def grow_chitieu(url, tokens):
    planner, reporter = tokens["vp-huyen-uy"], tokens["pkt-tieu-can"]
    first = Client(url, planner)
    docs = [d["id"] for d in first.call("{ documents { id number } }")["documents"]]
    targets, results = shape_mutations(docs)
    started = time.time()
    counter = iter(range(N))
    lock = threading.Lock()
    ids = []

    def worker():
        client = Client(url, planner)
        mine = []
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return mine
            defined = client.call(DEFINE, {"org": ORGS[n % 4], "name": f"Giá trị sản xuất ngành số {n}", "doc": docs[0]})
            ident = defined["defineIndicator"]["indicator"]["id"]
            client.call(targets, {"id": ident})
            client.call(results, {"id": ident}, token=reporter)
            mine.append(ident)
            if n % 1000 == 999:
                say(f"  chitieu: {n + 1}/{N} indicators")

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        for part in pool.map(lambda _: worker(), range(32)):
            ids.extend(part)
    say(f"chitieu: {len(ids)} indicators with 2 targets, 3 results, 20 history entries each ({20 * len(ids)} durable mutations) in {time.time() - started:.1f} s")
    return ids


QUERIES = {
    "one indicator: targets, latest result, 20 history entries": (
        'query($id: ID!) { indicator(id: $id) { id name version targets { track kind value revisions } latestActual { figure status refersTo } history(first: 20) { edges { node { position kind recordedAt actor { id name } before after reason } } } } }',
        'query($id: UUID!) { indicatorById(id: $id) { id name version targetsByIndicatorId { nodes { track kind value revisions } } actualsByIndicatorId(first: 1, orderBy: REPORTED_AT_DESC) { nodes { figure status refersTo } } historyEntriesByIndicatorId(first: 20, orderBy: POSITION_ASC) { edges { node { position kind recordedAt personByActorId { id name } before after reason } } } } }',
    ),
    "page of 50, no filter: targets, latest result, total": (
        '{ indicators(first: 50) { totalCount edges { node { id name targets { track value } latestActual { figure status } } } } }',
        '{ allIndicators(first: 50) { totalCount edges { node { id name targetsByIndicatorId { nodes { track value } } actualsByIndicatorId(first: 1, orderBy: REPORTED_AT_DESC) { nodes { figure status } } } } } }',
    ),
    "page of 50 of one org unit and period": (
        'query($org: ID!) { indicators(first: 50, filter: {orgUnit: $org, period: "2025"}) { totalCount edges { node { id name targets { track value } latestActual { figure status } } } } }',
        'query($org: String!) { allIndicators(first: 50, condition: {orgUnitId: $org, period: "2025"}) { totalCount edges { node { id name targetsByIndicatorId { nodes { track value } } actualsByIndicatorId(first: 1, orderBy: REPORTED_AT_DESC) { nodes { figure status } } } } } }',
    ),
}


# Durable writes, one per request, each to an indicator of its own in turn
# (a few reports per indicator, as a commune reports): a result through
# chitieu's command path (decided, appended durably, projected before the
# answer), a row through PostGraphile's generated create mutation
# (PostgreSQL commits it durably: synchronous_commit on).
WRITES = (
    'mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: "2025-12-31", status: ESTIMATE}) { position } }',
    'mutation($id: UUID!, $v: BigFloat!) { createActual(input: {actual: {indicatorId: $id, figure: $v, status: "ESTIMATE", refersTo: "2025-12-31", reportedAt: "2025-12-31T00:00:00Z"}}) { actual { id } } }',
)
WRITE_CONNECTIONS = int(os.environ.get("PEER_WRITE_CONNECTIONS", "64"))


def write_bodies(query, ids):
    return [json.dumps({"query": query, "variables": {"id": i, "v": f"{1000 + n % 97}.5"}}) for n, i in enumerate(ids)]


def bodies(query, ids, orgs):
    if "$id" in query:
        return [json.dumps({"query": query, "variables": {"id": i}}) for i in ids]
    if "$org" in query:
        return [json.dumps({"query": query, "variables": {"org": o}}) for o in orgs]
    return [json.dumps({"query": query})]


def wrk(url, body_file, token, seconds=None, connections=None, order="random"):
    out = subprocess.run(["wrk", f"-t{THREADS}", f"-c{connections or CONNECTIONS}", f"-d{seconds or SECONDS}s", "--latency", "-s", os.path.join(HERE, "wrk.lua"), url], env=dict(os.environ, PEER_BODIES=body_file, PEER_TOKEN=token or "", PEER_ORDER=order), check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"peer: errors under load:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return rate, ms(50), ms(99)


def memory(pid):
    """Resident memory now and at its peak (Linux)."""
    try:
        status = open(f"/proc/{pid}/status").read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        anon = int(re.search(r"RssAnon:\s+(\d+)", status).group(1)) / 1024
        return f"RSS {rss:,.0f} MiB (anonymous {anon:,.0f}), peak {hwm:,.0f} MiB"
    except (OSError, AttributeError):
        return "unknown"


def settle(pid, name, idle=0.05, at_most=60):
    """Waits until the process `pid` uses under `idle` of a core over a
    second (at most `at_most` seconds): what a load left running in the
    background (chitieu's archiver and sled's writes after growing its
    store; PostgreSQL's checkpoint and autovacuum) is not counted against
    the other side's reads, nor its own."""
    def cpu():
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    started = time.time()
    try:
        before = cpu()
        while time.time() - started < at_most:
            time.sleep(1)
            now = cpu()
            if now - before < idle:
                break
            before = now
    except OSError:
        return
    say(f"{name} settled after {time.time() - started:.0f} s")


def cpu_by_thread(pid):
    """CPU seconds each group of the server's threads has used so far
    (Linux), by thread name with its digits dropped (tokio-rt-worker,
    chitieu-project, sled-io-, ...), the context switches of all of
    them (under " switches") and the bytes the process has had written to
    the disk (under " written": /proc/<pid>/io's write_bytes)."""
    ticks = os.sysconf("SC_CLK_TCK")
    groups = {}
    switches = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return groups
    for task in tasks:
        try:
            stat = open(f"/proc/{pid}/task/{task}/stat").read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")].rstrip("0123456789")
        fields = stat[stat.rindex(")") + 2 :].split()
        groups[name] = groups.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
        try:
            status = open(f"/proc/{pid}/task/{task}/status").read()
            switches += sum(int(n) for n in re.findall(r"ctxt_switches:\s+(\d+)", status))
        except OSError:
            pass
    groups[" switches"] = switches
    try:
        io = open(f"/proc/{pid}/io").read()
        groups[" written"] = int(re.search(r"^write_bytes:\s+(\d+)", io, re.M).group(1))
    except (OSError, AttributeError):
        pass
    return groups


def cpu_per_request(before, after, requests):
    """The server's CPU per request between two `cpu_by_thread` readings,
    in microseconds, in total and by the largest groups of threads; then
    its context switches and the KiB it had written to the disk, per
    request."""
    used = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after if not name.startswith(" ")}
    switches = after.get(" switches", 0) - before.get(" switches", 0)
    written = after.get(" written", 0) - before.get(" written", 0)
    total = sum(used.values())
    if requests <= 0:
        return "unknown"
    parts = sorted(((v, k) for k, v in used.items() if v > 0), reverse=True)[:5]
    shares = ", ".join(f"{k} {v / requests * 1e6:,.0f}" for v, k in parts)
    return f"server CPU {total / requests * 1e6:,.0f} us/request ({shares}); {switches / requests:.1f} context switches/request; {written / requests / 1024:,.1f} KiB written to disk/request"


def check(url, body, token):
    answer = post(url, body.encode(), {"Authorization": f"Bearer {token}"} if token else {})
    if answer.get("errors") or not answer.get("data"):
        sys.exit(f"peer: {url} answered {json.dumps(answer.get('errors') or answer, ensure_ascii=False)[:600]}")
    return answer


def main():
    graphile, binary = ensure_tools()
    tmp = tempfile.mkdtemp(prefix="chitieu-peer-")
    children = []
    pg_data = None
    try:
        say(f"machine: {os.cpu_count()} cores; wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s after {WARM_UP} s of warm-up; chitieu's response cache {CACHE}; PostGraphile with {WORKERS} worker(s)")
        pg_data, pg_url = start_postgres(tmp)
        load_shapes(pg_url)
        pgl, pgl_url = start_postgraphile(graphile, pg_url)
        children.append(pgl)
        chitieu, url, tokens = start_chitieu(binary, tmp, 0 if CACHE == "off" else 64)
        children.append(chitieu)
        ids = grow_chitieu(url, tokens)
        pg_ids = [r[0] for r in map(lambda l: l.split("|"), subprocess.run(["psql", "-At", "-d", pg_url, "-c", "select id from peer.indicator"], check=True, capture_output=True, text=True).stdout.split())]
        # Both loaded: let each finish what the load left it to do before
        # anything is measured (PostgreSQL writes its dirty pages out at a
        # checkpoint; chitieu archives and flushes).
        subprocess.run(["psql", "-q", "-d", pg_url, "-c", "checkpoint"], check=True)
        settle(chitieu.pid, "chitieu")
        viewer = tokens["ubkt"]  # the auditors: history is theirs to read
        rows = []
        for name, (ours, theirs) in QUERIES.items():
            results = {}
            for side, query, side_ids, endpoint, token in (("chitieu", ours, ids, url, viewer), ("PostGraphile", theirs, pg_ids, pgl_url, None)):
                lines = bodies(query, side_ids, ORGS)
                answer = check(endpoint, lines[0], token)
                if "history" in query or "historyEntries" in query:
                    node = next(iter(answer["data"].values()))
                    history = node.get("history") or node.get("historyEntriesByIndicatorId")
                    assert len(history["edges"]) == 20, f"{side}: {len(history['edges'])} history entries"
                path = os.path.join(tmp, f"{side}.bodies")
                with open(path, "w") as f:
                    f.write("\n".join(lines) + "\n")
                if WARM_UP:
                    wrk(endpoint, path, token, WARM_UP)  # JIT, caches, pools: not counted
                results[side] = wrk(endpoint, path, token)
                say(f"  {name} — {side}: {results[side][0]:,.0f} req/s, p50 {results[side][1]:.2f} ms, p99 {results[side][2]:.2f} ms")
            rows.append((name, results["chitieu"], results["PostGraphile"]))
        # Writes last: they change what the reads above read.
        results = {}
        for side, query, side_ids, endpoint, token in (("chitieu", WRITES[0], ids, url, tokens["pkt-tieu-can"]), ("PostGraphile", WRITES[1], pg_ids, pgl_url, None)):
            lines = write_bodies(query, side_ids)
            check(endpoint, lines[0], token)
            path = os.path.join(tmp, f"{side}.writes")
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            results[side] = wrk(endpoint, path, token, connections=WRITE_CONNECTIONS, order="turn")
            say(f"  durable writes, {WRITE_CONNECTIONS} connections — {side}: {results[side][0]:,.0f} req/s, p50 {results[side][1]:.2f} ms, p99 {results[side][2]:.2f} ms")
        rows.append((f"durable write, one per request ({WRITE_CONNECTIONS} connections)", results["chitieu"], results["PostGraphile"]))
        say("")
        say(f"chitieu's memory after the run: {memory(chitieu.pid)}")
        say(f"| query ({N:,} indicators; chitieu cache {CACHE}) | chitieu | PostGraphile 4.14 | ratio |")
        say("|---|---|---|---|")
        for name, a, b in rows:
            say(f"| {name} | {a[0]:,.0f} req/s, p50 {a[1]:.2f} / p99 {a[2]:.2f} ms | {b[0]:,.0f} req/s, p50 {b[1]:.2f} / p99 {b[2]:.2f} ms | **{a[0] / b[0]:.1f}×** |")
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        if pg_data:
            subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", pg_data, "-m", "fast", "stop"]), stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
