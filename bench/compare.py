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
    python3 bench/compare.py --all --runs 5   # everything below, and bench/RESULTS.md written

--all runs S1-S5 and S1-TLS, S2-TLS, S5-TLS interleaved; then, once per client
and scenario, the syscalls per request (perf stat's raw_syscalls:sys_enter count,
or strace -f -c where perf cannot count, on two run lengths, the difference
divided by the extra requests, so startup cancels); then S6, idle
memory per pooled connection on both runtimes (conformance's idle_memory
example, 10,000 connections); and writes bench/RESULTS.md with the date, the
commit and the command, keeping the hand-written analysis below its
`<!-- analysis -->` line. `--smoke` is the same with tiny counts and no file
written, for CI.

With --tls, nginx also listens with TLS 1.3 on a second port, with a leaf
certificate for 127.0.0.1 and localhost signed by a CA made for the run
(openssl, EC P-256); every client gets the URL https://127.0.0.1:PORT/... and
`--cacert CA`. `load` is then built with the rustls feature (aws-lc-rs) and
bench_hyper uses hyper-rustls on the same rustls and provider. The floors do no
TLS and are skipped.
"""
import argparse
import functools
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
# nginx on the first CPU this process may use and the client on the second; with
# only one (a CI runner, a container), both on it.
CPUS = sorted(os.sched_getaffinity(0))
NGINX_CPU, CLIENT_CPU = str(CPUS[0]), str(CPUS[1] if len(CPUS) > 1 else CPUS[0])

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
    smol = "smol" in client or "smol" in CLIENTS.get(client, [])
    return "floor (smol)" if smol else "floor (tokio)"

NGINX_CONF = """
daemon off;
worker_processes 1;
worker_rlimit_nofile 40000;
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
    process = subprocess.Popen(["taskset", "-c", NGINX_CPU, nginx, "-c", conf, "-p", prefix], preexec_fn=lambda: raise_open_files(40000),
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


def raise_open_files(want):
    """In a child before exec: open files up to `want`, or as many as allowed."""
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def accepts():
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/status", timeout=2).read().decode()
    # "server accepts handled requests\n A H R"
    return int(text.splitlines()[2].split()[0])


def is_tls(scenario):
    return scenario.endswith("-TLS")


def client_args(command, scenario, requests, cacert):
    """The client's command line for `scenario` with `requests` requests."""
    path, connections, _, method, body, close = SCENARIOS[scenario.removesuffix("-TLS")]
    url = f"https://127.0.0.1:{TLS_PORT}{path}" if is_tls(scenario) else f"http://127.0.0.1:{PORT}{path}"
    args = command + [
        "--url", url,
        "--connections", str(connections), "--requests", str(requests),
        "--method", method, "--body-bytes", str(body)]
    if close:
        args.append("--close")
    if is_tls(scenario):
        args += ["--cacert", cacert]
    return args


def requests_of(scenario, divisor):
    _, connections, requests, *_ = SCENARIOS[scenario.removesuffix("-TLS")]
    return max(requests // divisor, connections)


def run_client(command, scenario, divisor, cacert):
    """One run of `command` in `scenario` with a `divisor`-th of its requests."""
    path = SCENARIOS[scenario.removesuffix("-TLS")][0]
    requests = requests_of(scenario, divisor)
    args = ["taskset", "-c", CLIENT_CPU] + client_args(command, scenario, requests, cacert)
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


@functools.cache
def syscall_counter():
    """"perf" where `perf stat` can count the raw_syscalls:sys_enter tracepoint
    (installed, tracepoints readable), else "strace": strace stops the client at
    every syscall, which changes how often a read finds the answer already there,
    so its counts for a client that races the server (smol's) wander."""
    if shutil.which("perf") is None:
        return "strace"
    with tempfile.NamedTemporaryFile(mode="r", suffix=".perf") as out:
        done = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o", out.name, "true"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        counted = any(line.split(",")[0].isdigit() for line in out.read().splitlines())
        return "perf" if done.returncode == 0 and counted else "strace"


def count_syscalls(args):
    """Syscalls made by `args` and its threads: perf stat's raw_syscalls:sys_enter
    count, or strace -f -c's total where perf cannot count them."""
    pinned = ["taskset", "-c", CLIENT_CPU] + args
    with tempfile.NamedTemporaryFile(mode="r", suffix=".count") as out:
        if syscall_counter() == "perf":
            command = ["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o", out.name] + pinned
        else:
            command = ["strace", "-f", "-c", "-o", out.name] + pinned
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed with {done.returncode}")
        lines = out.read().splitlines()
        if syscall_counter() == "perf":
            # "12345,,raw_syscalls:sys_enter,...": the count first.
            counts = [line.split(",")[0] for line in lines if "raw_syscalls:sys_enter" in line]
            return int(counts[-1]) if counts and counts[-1].isdigit() else 0
        total = [line for line in lines if line.strip().endswith("total")]
        # "100.00    0.001234           1      1234        12 total": the calls column.
        return int(total[-1].split()[3]) if total else 0


def syscalls_per_request(command, scenario, cacert, divisor):
    """(calls at 2n requests - calls at n) / n: the per-request syscalls, startup
    cancelled; the median of three such pairs, as the count of a client whose
    reads race the server (smol's) varies from run to run."""
    n = requests_of(scenario, divisor)
    pairs = []
    for _ in range(3):
        one = count_syscalls(client_args(command, scenario, n, cacert))
        two = count_syscalls(client_args(command, scenario, 2 * n, cacert))
        pairs.append((two - one) / n)
    return statistics.median(pairs)


def idle_memory(runtime, n):
    """S6 on one runtime: conformance's idle_memory example, its JSON line."""
    args = ["taskset", "-c", CLIENT_CPU, os.path.join(TARGET, "examples", "idle_memory"),
            f"http://127.0.0.1:{PORT}/small", str(n), runtime]
    done = subprocess.run(args, capture_output=True, text=True, preexec_fn=lambda: raise_open_files(n + 1024))
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


HYPER = "hyper-util (mt, 1 worker)"
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")
ANALYSIS_MARK = "<!-- analysis -->"


def ratio(results, scenario, client, reference):
    """The paired ratio: each run's figure over the reference's, median over the runs."""
    pairs = zip(results[(scenario, client)], results[(scenario, reference)])
    return statistics.median(a["cpu_us"] / b["cpu_us"] for a, b in pairs)


def per_run(results, scenario, client, reference):
    pairs = zip(results[(scenario, client)], results[(scenario, reference)])
    return " ".join(f"{a['cpu_us'] / b['cpu_us']:.2f}" for a, b in pairs)


def table(results, scenarios, clients_of, runs):
    lines = [f"| scenario | client | CPU us/req | connections | errors | vs hyper (mt) | per run | vs floor (same runtime) | per run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for scenario in scenarios:
        for client in clients_of(scenario):
            cpu = [r["cpu_us"] for r in results[(scenario, client)]]
            floor = None if is_tls(scenario) else floor_of(client)
            lines.append(
                f"| {scenario} | {client} | {statistics.median(cpu):.1f} [{min(cpu):.1f}-{max(cpu):.1f}] | "
                f"{max(r['opened'] for r in results[(scenario, client)])} | "
                f"{sum(r['errors'] for r in results[(scenario, client)])} | "
                f"{ratio(results, scenario, client, HYPER):.2f} | {per_run(results, scenario, client, HYPER)} | "
                f"{'-' if floor is None else format(ratio(results, scenario, client, floor), '.2f')} | "
                f"{'-' if floor is None else per_run(results, scenario, client, floor)} |")
    return "\n".join(lines)


def targets(results, scenarios, syscalls, memory):
    """Each target of docs/bench.md with the measured figure: met or missed."""
    out = []
    def check(name, value, limit, fmt="{:.2f}"):
        out.append(f"- {'met' if value <= limit else '**missed**'}: {name}: {fmt.format(value)} (target {fmt.format(limit)})")
    for scenario in scenarios:
        for client in ("roundtrip", "roundtrip (smol)"):
            if (scenario, client) not in results:
                continue
            if is_tls(scenario):
                limit = 0.9 if scenario == "S5-TLS" else 0.85
                check(f"{scenario} {client} vs hyper (mt)", ratio(results, scenario, client, HYPER), limit)
                continue
            if scenario != "S3":
                check(f"{scenario} {client} vs hyper (mt)", ratio(results, scenario, client, HYPER), 0.85)
            check(f"{scenario} {client} vs {floor_of(client)}", ratio(results, scenario, client, floor_of(client)), 1.15)
    for (scenario, client), calls in sorted(syscalls.items()):
        if client == "roundtrip" and scenario == "S1":
            check("S1 syscalls per request (Tokio)", calls, 3.0)
        if client == "roundtrip (smol)" and scenario == "S1":
            check("S1 syscalls per request (smol, at most the smol floor)", calls, syscalls[("S1", "floor (smol)")])
        if client.startswith("roundtrip") and scenario == "S3":
            check(f"S3 syscalls per MiB ({client})", calls, 25.0, "{:.1f}")
    for runtime, m in memory.items():
        check(f"S6 live heap per idle connection ({runtime}), KiB", m["heap_kib_per_conn"], 2.0)
        check(f"S6 RSS per idle connection ({runtime}), KiB", m["rss_kib_per_conn"], 2.0)
    return "\n".join(out)


def write_results(command, commit, runs, body):
    analysis = ""
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            text = f.read()
        if ANALYSIS_MARK in text:
            analysis = text[text.index(ANALYSIS_MARK):]
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    machine = f"{os.cpu_count()} CPUs, Linux {os.uname().release}, {nginx}"
    with open(RESULTS, "w") as f:
        f.write(f"# Comparison results\n\nCommand: `{command}`, run on {time.strftime('%Y-%m-%d')} at commit "
                f"{commit} ({runs} runs), on {machine}; nginx pinned to CPU {NGINX_CPU}, the clients to CPU {CLIENT_CPU}.\n"
                "How to read it: docs/bench.md. The figure is the client process's CPU time (user + system, "
                "from `wait4`, startup included) per request, median [min-max]; the ratios are paired per "
                "run (listed), then the median.\n\n" + body + "\n\n" + (analysis or ANALYSIS_MARK + "\n"))


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
                        help="also run this `load` binary (an older build) as 'roundtrip (baseline)', "
                             "with any arguments after it ('/tmp/load --runtime smol')")
    parser.add_argument("--with-trace", action="store_true",
                        help="also run `load --trace`: a trace callback on every request that only counts")
    parser.add_argument("--all", action="store_true",
                        help="S1-S5, the TLS scenarios, syscalls, S6; writes bench/RESULTS.md")
    parser.add_argument("--smoke", action="store_true", help="--all with tiny counts, writing nothing (CI)")
    args = parser.parse_args()
    if args.baseline:
        binary, *extra = args.baseline.split()
        CLIENTS["roundtrip (baseline)"] = [os.path.abspath(binary), "--json"] + extra
    if args.with_trace:
        CLIENTS["roundtrip (no-op trace)"] = [os.path.join(TARGET, "load"), "--json", "--trace"]
    everything = args.all or args.smoke
    if everything:
        scenarios = ["S1", "S2", "S3", "S4", "S5", "S1-TLS", "S2-TLS", "S5-TLS"]
    elif args.scenarios:
        scenarios = [s.strip() + ("-TLS" if args.tls else "") for s in args.scenarios.split(",")]
    else:
        scenarios = ["S1-TLS", "S2-TLS", "S5-TLS"] if args.tls else ["S1", "S2", "S3", "S4", "S5"]
    divisor = 1000 if args.smoke else 10 if args.quick else 1
    runs = 1 if args.smoke else args.runs
    tls = any(is_tls(s) for s in scenarios)

    def clients_of(scenario):
        return [c for c in CLIENTS if not (is_tls(scenario) and is_floor(c))]

    if not args.no_build:
        # Two builds: features must not unify between the tool and the references.
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "roundtrip-conformance",
                        "--example", "bench_hyper", "--example", "bench_floor", "--example", "idle_memory"],
                       check=True, cwd=ROOT)
        # `load` as shipped: roundtrip-cli's default features (rustls with aws-lc-rs).
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "roundtrip-cli", "--bin", "load"],
                       check=True, cwd=ROOT)
    if everything and syscall_counter() == "strace" and shutil.which("strace") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "strace"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    prefix = tempfile.mkdtemp(prefix="roundtrip-bench-")
    cacert = None
    if tls:
        make_certificates(prefix)
        cacert = os.path.join(prefix, "ca.pem")
    nginx = start_nginx(prefix, tls)
    results = {(s, c): [] for s in scenarios for c in clients_of(s)}
    syscalls, memory = {}, {}
    try:
        for run in range(runs):
            for scenario in scenarios:
                for client in clients_of(scenario):
                    results[(scenario, client)].append(run_client(CLIENTS[client], scenario, divisor, cacert))
                print(f"run {run + 1}/{runs} {scenario} done", file=sys.stderr)
        if everything:
            for scenario in scenarios:
                for client in clients_of(scenario):
                    syscalls[(scenario, client)] = syscalls_per_request(
                        CLIENTS[client], scenario, cacert, 10_000 if args.smoke else 20)
            print("syscalls done", file=sys.stderr)
            for runtime in ("tokio", "smol"):
                memory[runtime] = idle_memory(runtime, 100 if args.smoke else 10_000)
            print("S6 done", file=sys.stderr)
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(prefix, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"commit": commit, "date": time.strftime("%Y-%m-%d"), "divisor": divisor,
                       "results": {f"{s}|{c}": r for (s, c), r in results.items()},
                       "syscalls": {f"{s}|{c}": v for (s, c), v in syscalls.items()}, "memory": memory}, f, indent=1)
    body = table(results, scenarios, clients_of, runs)
    if everything:
        how = "perf stat -e raw_syscalls:sys_enter" if syscall_counter() == "perf" else "strace -f -c"
        body += f"\n\nSyscalls per request ({how}; S3: per MiB), the median of three run pairs per client:\n\n"
        body += "| scenario | " + " | ".join(CLIENTS) + " |\n|---|" + "---|" * len(CLIENTS) + "\n"
        for scenario in scenarios:
            cells = [f"{syscalls[(scenario, c)]:.2f}" if (scenario, c) in syscalls else "-" for c in CLIENTS]
            body += f"| {scenario} | " + " | ".join(cells) + " |\n"
        body += "\nS6, idle pooled connections (conformance's idle_memory example):\n\n"
        body += "| runtime | requests | failed | idle | VmRSS KiB per connection | live heap KiB per connection |\n|---|---|---|---|---|---|\n"
        for runtime, m in memory.items():
            body += (f"| {runtime} | {m['requests']} | {m['failed']} | {m['idle']} | "
                     f"{m['rss_kib_per_conn']:.2f} | {m['heap_kib_per_conn']:.2f} |\n")
        body += "\nTargets (docs/bench.md):\n\n" + targets(results, scenarios, syscalls, memory)
    for extra in ("roundtrip (baseline)", "roundtrip (no-op trace)"):
        for scenario in scenarios:
            if (scenario, extra) in results:
                for ours in ("roundtrip", "roundtrip (smol)"):
                    body += (f"\n\n{scenario}: {extra} / {ours} = "
                             f"{ratio(results, scenario, extra, ours):.3f} (paired median)")
    print(body)
    if args.all and not args.smoke:
        command = "python3 bench/compare.py " + " ".join(sys.argv[1:])
        write_results(command, commit, runs, body)
        print(f"\nwrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
