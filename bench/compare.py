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
    python3 bench/compare.py --tls            # S1, S2, S5 over TLS 1.3 (no floors)
    python3 bench/compare.py --scenarios S1 --runs 5 --baseline /tmp/load-old --with-trace
                                              # A/B: an older `load` and a no-op trace, same run

With --tls, nginx also listens with TLS 1.3 on a second port, with a leaf
certificate for 127.0.0.1 and localhost signed by a CA made for the run
(openssl, EC P-256); every client gets the URL https://127.0.0.1:PORT/... and
`--cacert CA`. `load` is then built with the rustls feature (aws-lc-rs) and
bench_hyper uses hyper-rustls on the same rustls and provider. The floors do no
TLS and are skipped.
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
TLS_PORT = free_port()

SCENARIOS = {
    # id: (path, connections, requests, method, body bytes, close)
    "S1": ("/small", 1, 20_000, "GET", 0, False),
    "S2": ("/small", 64, 100_000, "GET", 0, False),
    "S3": ("/1m", 4, 2_000, "GET", 0, False),
    "S4": ("/echo", 16, 20_000, "POST", 64 * 1024, False),
    "S5": ("/small", 8, 5_000, "GET", 0, True),
}

CLIENTS = {
    "roundtrip": [os.path.join(TARGET, "load"), "--json"],
    "roundtrip (smol)": [os.path.join(TARGET, "load"), "--json", "--runtime", "smol"],
    "hyper-util (mt, 1 worker)": [os.path.join(TARGET, "examples", "bench_hyper"), "--threads", "1"],
    "hyper-util (current-thread)": [os.path.join(TARGET, "examples", "bench_hyper"), "--threads", "0"],
    "floor (tokio)": [os.path.join(TARGET, "examples", "bench_floor")],
    "floor (smol)": [os.path.join(TARGET, "examples", "bench_floor"), "--runtime", "smol"],
}


def is_floor(client):
    return client.startswith("floor")


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
{tls_server}}}
"""

# Same locations as the plain server; /status stays on the plain port, and
# nginx's accept count covers both servers, so it counts TLS handshakes.
NGINX_TLS_SERVER = """    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_protocols TLSv1.3;
        ssl_certificate {prefix}/chain.pem;
        ssl_certificate_key {prefix}/leaf.key;
        ssl_session_cache shared:SSL:10m;
        ssl_session_tickets on;
        root {prefix}/www;
        location /echo {{ return 200; }}
    }}
"""

CA_CONF = """[req]
distinguished_name = dn
prompt = no
x509_extensions = ca
[dn]
CN = roundtrip bench CA
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""

LEAF_REQ_CONF = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
"""

LEAF_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_certificates(prefix):
    """A CA (ca.pem) and a leaf for 127.0.0.1 and localhost signed by it
    (leaf.key; chain.pem = leaf + CA, as nginx serves it), EC P-256 keys."""
    def write(name, text):
        with open(os.path.join(prefix, name), "w") as f:
            f.write(text)
    write("ca.cnf", CA_CONF)
    write("leaf.cnf", LEAF_REQ_CONF)
    write("leaf.ext", LEAF_EXT)
    for command in [
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"],
        ["req", "-x509", "-new", "-config", "ca.cnf", "-key", "ca.key", "-days", "2", "-sha256", "-out", "ca.pem"],
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf.key"],
        ["req", "-new", "-config", "leaf.cnf", "-key", "leaf.key", "-sha256", "-out", "leaf.csr"],
        ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "2",
         "-days", "2", "-sha256", "-extfile", "leaf.ext", "-out", "leaf.pem"],
    ]:
        done = subprocess.run(["openssl"] + command, cwd=prefix, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"openssl {' '.join(command)} failed:\n{done.stderr}")
    with open(os.path.join(prefix, "chain.pem"), "w") as chain:
        for name in ("leaf.pem", "ca.pem"):
            with open(os.path.join(prefix, name)) as f:
                chain.write(f.read())


def start_nginx(prefix, tls):
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
        tls_server = NGINX_TLS_SERVER.format(prefix=prefix, tls_port=TLS_PORT) if tls else ""
        f.write(NGINX_CONF.format(prefix=prefix, port=PORT, tls_server=tls_server))
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
            if tls:
                import ssl
                context = ssl.create_default_context(cafile=os.path.join(prefix, "ca.pem"))
                url = f"https://127.0.0.1:{TLS_PORT}/small"
                size = len(urllib.request.urlopen(url, timeout=2, context=context).read())
                if size != 100:
                    raise SystemExit(f"nginx served {size} bytes for {url}")
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"nginx did not start; see {prefix}/error.log")


def accepts():
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/status", timeout=2).read().decode()
    # "server accepts handled requests\n A H R"
    return int(text.splitlines()[2].split()[0])


def run_client(command, scenario, quick, cacert):
    path, connections, requests, method, body, close = SCENARIOS[scenario]
    if quick:
        requests = max(requests // 10, connections)
    url = f"https://127.0.0.1:{TLS_PORT}{path}" if cacert else f"http://127.0.0.1:{PORT}{path}"
    args = ["taskset", "-c", "1"] + command + [
        "--url", url,
        "--connections", str(connections), "--requests", str(requests),
        "--method", method, "--body-bytes", str(body)]
    if close:
        args.append("--close")
    if cacert:
        args += ["--cacert", cacert]
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
    parser.add_argument("--scenarios", help="default S1,S2,S3,S4,S5; with --tls S1,S2,S5")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--save", metavar="FILE", help="also write every run's figures as JSON")
    parser.add_argument("--tls", action="store_true",
                        help="over TLS 1.3 to nginx (no floors; load built with --features rustls)")
    parser.add_argument("--baseline", metavar="LOAD",
                        help="also run this `load` binary (an older build) as 'roundtrip (baseline)'")
    parser.add_argument("--with-trace", action="store_true",
                        help="also run `load --trace`: a trace callback on every request that only counts")
    args = parser.parse_args()
    if args.baseline:
        CLIENTS["roundtrip (baseline)"] = [os.path.abspath(args.baseline), "--json"]
    if args.with_trace:
        CLIENTS["roundtrip (no-op trace)"] = [os.path.join(TARGET, "load"), "--json", "--trace"]
    scenarios = [s.strip() for s in (args.scenarios or ("S1,S2,S5" if args.tls else "S1,S2,S3,S4,S5")).split(",")]
    clients = {c: command for c, command in CLIENTS.items() if not (args.tls and is_floor(c))}
    if not args.no_build:
        # Two builds: features must not unify between the tool and the references.
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "roundtrip-conformance",
                        "--example", "bench_hyper", "--example", "bench_floor"], check=True, cwd=ROOT)
        # `load` as shipped: roundtrip-cli's default features (rustls with aws-lc-rs).
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "roundtrip-cli", "--bin", "load"],
                       check=True, cwd=ROOT)
    prefix = tempfile.mkdtemp(prefix="roundtrip-bench-")
    cacert = None
    if args.tls:
        make_certificates(prefix)
        cacert = os.path.join(prefix, "ca.pem")
    nginx = start_nginx(prefix, args.tls)
    results = {(s, c): [] for s in scenarios for c in clients}
    try:
        for run in range(args.runs):
            for scenario in scenarios:
                for client, command in clients.items():
                    results[(scenario, client)].append(run_client(command, scenario, args.quick, cacert))
                print(f"run {run + 1}/{args.runs} {scenario} done", file=sys.stderr)
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(prefix, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"commit": commit, "date": time.strftime("%Y-%m-%d"), "quick": args.quick, "tls": args.tls,
                       "results": {f"{s}|{c}": r for (s, c), r in results.items()}}, f, indent=1)
    print(f"# CPU us/request, median [min-max] of {args.runs} runs; {time.strftime('%Y-%m-%d')}, commit {commit}"
          f"{', TLS 1.3 (aws-lc-rs; no floors)' if args.tls else ''}{', quick' if args.quick else ''}\n")
    print("Ratios are paired: each run's figure over the reference's in the same run, then the median over")
    print("the runs, which cancels most of the machine's drift between runs.\n")
    connections = "connections (TLS handshakes)" if args.tls else "connections"
    print(f"| scenario | client | CPU us/req | {connections} | errors | vs hyper (mt) | vs floor (same runtime) |")
    print("|---|---|---|---|---|---|---|")
    for scenario in scenarios:
        def ratio(client, reference):
            pairs = zip(results[(scenario, client)], results[(scenario, reference)])
            return statistics.median(a["cpu_us"] / b["cpu_us"] for a, b in pairs)
        for client in clients:
            runs = results[(scenario, client)]
            cpu = [r["cpu_us"] for r in runs]
            print(f"| {scenario} | {client} | {statistics.median(cpu):.1f} [{min(cpu):.1f}-{max(cpu):.1f}] | "
                  f"{max(r['opened'] for r in runs)} | {sum(r['errors'] for r in runs)} | "
                  f"{ratio(client, 'hyper-util (mt, 1 worker)'):.2f} | "
                  f"{'-' if args.tls else format(ratio(client, floor_of(client)), '.2f')} |")
    for scenario in scenarios:
        for other in ("roundtrip (baseline)", "roundtrip (no-op trace)"):
            if other in clients:
                pairs = zip(results[(scenario, other)], results[(scenario, "roundtrip")])
                print(f"\n{scenario}: {other} / roundtrip = "
                      f"{statistics.median(a['cpu_us'] / b['cpu_us'] for a, b in pairs):.3f} (paired median)")


if __name__ == "__main__":
    main()
