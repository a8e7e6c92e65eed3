#!/usr/bin/env python3
"""Comparison harness (docs/bench.md): roundtrip's `load` tool against
hyper-util's legacy client and the minimal async floor (on Tokio and on smol),
on nginx over loopback.

nginx runs one worker pinned to CPU 0, clients are pinned to CPU 1; scenarios
are run interleaved (client A, B, C, A, B, C ...) `--runs` times. The figure is
the client process's CPU time (user + system, from wait4's rusage, startup
included) per request; the table gives the median and the min-max.

    python3 bench/compare.py                  # S1-S5, 3 runs
    python3 bench/compare.py --scenarios S1 --runs 5
    python3 bench/compare.py --quick          # a tenth of the requests
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "target", "release")

def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()

SCENARIOS = {
    # id: (path, connections, requests, method, body bytes, close)
    "S1": ("/small", 1, 20_000, "GET", 0, False),
    "S2": ("/small", 64, 100_000, "GET", 0, False),
    "S3": ("/1m", 4, 2_000, "GET", 0, False),
    "S4": ("/echo", 16, 20_000, "POST", 64 * 1024, False),
    "S5": ("/small", 8, 5_000, "GET", 0, True),
}

CLIENTS = {
    "roundtrip": [os.path.join(TARGET, "examples", "load"), "--json"],
    "roundtrip (smol)": [os.path.join(TARGET, "examples", "load"), "--json", "--runtime", "smol"],
    "hyper-util (mt, 1 worker)": [os.path.join(TARGET, "examples", "bench_hyper"), "--threads", "1"],
    "hyper-util (current-thread)": [os.path.join(TARGET, "examples", "bench_hyper"), "--threads", "0"],
    "floor (tokio)": [os.path.join(TARGET, "examples", "bench_floor")],
    "floor (smol)": [os.path.join(TARGET, "examples", "bench_floor"), "--runtime", "smol"],
}


def floor_of(client):
    """Each client is judged against the floor on its own runtime (docs/bench.md)."""
    return "floor (smol)" if "smol" in client else "floor (tokio)"

NGINX_CONF = """
daemon off;
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    keepalive_requests 100000;
    client_body_buffer_size 128k;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
        location /echo {{ return 200; }}
        location /status {{ stub_status; }}
    }}
}}
"""


def start_nginx(prefix):
    if shutil.which("nginx") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    os.chmod(prefix, 0o755)  # nginx's worker runs as nobody
    www = os.path.join(prefix, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "small"), "wb") as f:
        f.write(b"x" * 100)
    with open(os.path.join(www, "1m"), "wb") as f:
        f.write(b"x" * (1 << 20))
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(prefix=prefix, port=PORT))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(["taskset", "-c", "0", nginx, "-c", conf, "-p", prefix],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if process.poll() is not None:
            raise SystemExit(f"nginx exited with {process.returncode}; see {prefix}/error.log")
        try:
            accepts()
            size = len(urllib.request.urlopen(f"http://127.0.0.1:{PORT}/1m", timeout=2).read())
            if size != 1 << 20:
                raise SystemExit(f"nginx served {size} bytes for /1m")
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"nginx did not start; see {prefix}/error.log")


def accepts():
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/status", timeout=2).read().decode()
    # "server accepts handled requests\n A H R"
    return int(text.splitlines()[2].split()[0])


def run_client(command, scenario, quick):
    path, connections, requests, method, body, close = SCENARIOS[scenario]
    if quick:
        requests = max(requests // 10, connections)
    args = ["taskset", "-c", "1"] + command + [
        "--url", f"http://127.0.0.1:{PORT}{path}",
        "--connections", str(connections), "--requests", str(requests),
        "--method", method, "--body-bytes", str(body)]
    if close:
        args.append("--close")
    before = accepts()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    opened = accepts() - before - 1  # the /status request itself
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed with {status}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    expected = requests * {"/small": 100, "/1m": 1 << 20, "/echo": 0}[path]
    if result["bytes"] != expected or result["requests"] != requests:
        raise SystemExit(f"{' '.join(args)}: {result} (expected {requests} requests, {expected} bytes)")
    cpu = usage.ru_utime + usage.ru_stime
    return {"cpu_us": cpu * 1e6 / result["requests"], "errors": result["errors"], "opened": opened}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="S1,S2,S3,S4,S5")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--save", metavar="FILE", help="also write every run's figures as JSON")
    args = parser.parse_args()
    scenarios = [s.strip() for s in args.scenarios.split(",")]
    if not args.no_build:
        # Two builds: features must not unify between the tool and the references.
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "roundtrip-conformance",
                        "--example", "bench_hyper", "--example", "bench_floor"], check=True, cwd=ROOT)
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "roundtrip-tokio", "--example", "load"],
                       check=True, cwd=ROOT)
    prefix = tempfile.mkdtemp(prefix="roundtrip-bench-")
    nginx = start_nginx(prefix)
    results = {(s, c): [] for s in scenarios for c in CLIENTS}
    try:
        for run in range(args.runs):
            for scenario in scenarios:
                for client, command in CLIENTS.items():
                    results[(scenario, client)].append(run_client(command, scenario, args.quick))
                print(f"run {run + 1}/{args.runs} {scenario} done", file=sys.stderr)
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(prefix, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"commit": commit, "date": time.strftime("%Y-%m-%d"), "quick": args.quick,
                       "results": {f"{s}|{c}": r for (s, c), r in results.items()}}, f, indent=1)
    print(f"# CPU us/request, median [min-max] of {args.runs} runs; {time.strftime('%Y-%m-%d')}, commit {commit}"
          f"{', quick' if args.quick else ''}\n")
    print("Ratios are paired: each run's figure over the reference's in the same run, then the median over")
    print("the runs, which cancels most of the machine's drift between runs.\n")
    print("| scenario | client | CPU us/req | connections | errors | vs hyper (mt) | vs floor (same runtime) |")
    print("|---|---|---|---|---|---|---|")
    for scenario in scenarios:
        def ratio(client, reference):
            pairs = zip(results[(scenario, client)], results[(scenario, reference)])
            return statistics.median(a["cpu_us"] / b["cpu_us"] for a, b in pairs)
        for client in CLIENTS:
            runs = results[(scenario, client)]
            cpu = [r["cpu_us"] for r in runs]
            print(f"| {scenario} | {client} | {statistics.median(cpu):.1f} [{min(cpu):.1f}-{max(cpu):.1f}] | "
                  f"{max(r['opened'] for r in runs)} | {sum(r['errors'] for r in runs)} | "
                  f"{ratio(client, 'hyper-util (mt, 1 worker)'):.2f} | {ratio(client, floor_of(client)):.2f} |")


if __name__ == "__main__":
    main()
