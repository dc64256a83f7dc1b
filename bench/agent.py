#!/usr/bin/env python3
"""The signing agent under load (issue 16): (1) the latency it adds per request, real CCXT bots
straight at exchange-sim against the same bots through `latchkey agent`, measured the same way in
the same run (target: <= 1 ms added at p99, 200 requests/s); (2) the agent's own memory over a
million requests from a Rust load client (crates/core/examples/agent_load.rs), sampled after a 1k
warm-up and every 250k (target: no growth beyond noise), side by side with exchange-sim's.

Run by bench/agent.sh inside scripts/desktop-session.sh (the CLI needs a Secret Service). Keys
from exchange-sim's example seed, a bench-only data folder and keychain namespace; no secret or
placeholder is ever printed or written to the JSON."""

import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as b  # noqa: E402

SERVICE = "latchkey-bench-agent"
# (seed label, exchange): OKX, Bybit, Binance and a second OKX, as the agent's CCXT load test has them.
BOTS = [
    ("okx-bot-trade", "okx"),
    ("bybit-bot-trade", "bybit"),
    ("binance-bot-trade", "binance"),
    ("okx-bot-withdraw", "okx"),
]
# The memory run's bot: its own placeholders on the first OKX key.
MEMORY_KEY = "okx-bot-trade"


def pct(values, p):
    """Nearest-rank percentile."""
    values = sorted(values)
    if not values:
        return float("nan")
    rank = max(1, -(-len(values) * p // 100))
    return values[int(min(rank, len(values))) - 1]


def med(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def memory_kb(pid):
    """Rss and Pss of one process in KiB (/proc/PID/smaps_rollup)."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                out[name.lower()] = int(rest.split()[0])
    return out


def cpu_s(pid):
    """User + system CPU time of one process so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / b.CLK_TCK


def wait_listening(port, proc, secs=20):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: the process for port {port} exited ({proc.returncode})")
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"bench: nothing listens on port {port} after {secs} s")


class Sim:
    """exchange-sim on a fixed port (so a restarted one serves the keys' base URL still)."""

    def __init__(self, binary, port, logdir):
        self.binary, self.port, self.logdir, self.proc = binary, port, logdir, None

    def start(self):
        for _ in range(50):
            err = open(os.path.join(self.logdir, "exchange-sim.log"), "a")
            self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--no-rate-limits"],
                                         stdout=subprocess.PIPE, stderr=err, text=True)
            line = self.proc.stdout.readline().strip()
            if line:
                return line
            self.proc.wait()
            time.sleep(0.2)  # the old one's port not free yet
        raise SystemExit("bench: exchange-sim did not start")

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                b.kill_tree(self.proc.pid)
                self.proc.wait()
            self.proc = None


class Cli:
    def __init__(self, binary, data):
        self.binary = binary
        self.env = {**os.environ, "LATCHKEY_DATA_DIR": data, "LATCHKEY_KEYCHAIN_SERVICE": SERVICE, "RUST_LOG": "warn"}
        for name in ("LATCHKEY_API_KEY", "LATCHKEY_API_SECRET", "LATCHKEY_API_PASSPHRASE"):
            self.env.pop(name, None)

    def run(self, args, stdin=""):
        """Runs `latchkey ARGS` and returns its stdout; its output is never printed (it may hold placeholders)."""
        p = subprocess.run([self.binary, *args], input=stdin, env=self.env, capture_output=True, text=True)
        if p.returncode != 0:
            # stderr only: Latchkey prints no secret there.
            raise SystemExit(f"bench: `latchkey {args[0]} ...` failed ({p.returncode}): {p.stderr.strip()[:500]}")
        return p.stdout

    def agent(self, listen, logdir):
        err = open(os.path.join(logdir, "agent.log"), "a")
        return subprocess.Popen([self.binary, "agent", "--listen", listen], env=self.env,
                                stdin=subprocess.DEVNULL, stdout=err, stderr=err)


def stop_agent(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        b.kill_tree(proc.pid)
        proc.wait()
        return None


class Bot:
    """tests/bots/ccxt_bot.py: one real CCXT instance, driven line by line."""

    def __init__(self, script, exchange, base, key, secret, passphrase):
        args = [sys.executable, script, "--exchange", exchange, "--base", base, "--key", key, "--secret", secret]
        if passphrase:
            args += ["--passphrase", passphrase]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def answer(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("bench: a CCXT bot exited")
        return json.loads(line)

    def quit(self):
        try:
            self.send("quit")
            self.proc.wait(10)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            b.kill_tree(self.proc.pid)
            self.proc.wait()


def latency_arm(script, creds, count, rate):
    """All bots at once, `count` requests each at `rate`/s after a short warm-up."""
    bots = [Bot(script, *c) for c in creds]
    try:
        # Warm-up, not counted: CCXT's import and first connection, the agent's clock sync.
        for bot in bots:
            bot.send(f"loop 20 {rate}")
        for bot in bots:
            warm = bot.answer()
            if warm["ok"] != 20:
                raise SystemExit(f"bench: warm-up failed: {warm['errors']}")
        load = os.getloadavg()
        t0 = time.monotonic()
        t0_epoch = time.time()
        for bot in bots:
            bot.send(f"loop {count} {rate}")
        answers = [bot.answer() for bot in bots]
        wall = time.monotonic() - t0
    finally:
        for bot in bots:
            bot.quit()
    lat = [x for a in answers for x in a["latencies_ms"]]
    errors = {}
    for a in answers:
        for k, n in a["errors"].items():
            errors[k] = errors.get(k, 0) + n
    return {
        "requests": len(lat), "ok": sum(a["ok"] for a in answers), "errors": errors, "wall_s": round(wall, 2),
        "per_s": round(len(lat) / wall, 1), "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
        "p999_ms": pct(lat, 99.9), "max_ms": max(lat), "load_at_start": load,
        "per_bot": [{"p50_ms": pct(a["latencies_ms"], 50), "p99_ms": pct(a["latencies_ms"], 99)} for a in answers],
        # The slowest requests and when they were due (each bot sends request i at start + i/rate):
        # slow answers of all bots at one moment point at the agent or the machine, not at one bot.
        "started_epoch": t0_epoch,
        "slowest": sorted(({"bot": j, "due_s": round(i / rate, 3), "ms": x}
                           for j, a in enumerate(answers) for i, x in enumerate(a["latencies_ms"])),
                          key=lambda e: -e["ms"])[:40],
    }


def sequential(load_bin, issued, count):
    """The Rust client on one connection, one request at a time: latency without CCXT's own."""
    p = subprocess.run([load_bin, "--connections", "1", "--phases", f"200,{count}"],
                       input=json.dumps(issued) + "\ngo\ngo\n", capture_output=True, text=True, check=True)
    result = json.loads(p.stdout.splitlines()[-1])
    return {k: result[k] for k in ("requests", "ok", "non200", "notOk", "failed", "p50Ms", "p99Ms", "perSec")}


def memory_run(load_bin, issued, agent_pid, sim_pid, phases, connections):
    """The load client's phases; after each, both processes sampled with the client idle."""
    proc = subprocess.Popen([load_bin, "--connections", str(connections), "--phases", ",".join(map(str, phases))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    samples = []
    try:
        proc.stdin.write(json.dumps(issued) + "\n")
        proc.stdin.flush()
        for i in range(len(phases)):
            cpu0 = (cpu_s(agent_pid), cpu_s(sim_pid))
            proc.stdin.write("go\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("bench: the load client exited")
            result = json.loads(line)
            cpu = (cpu_s(agent_pid) - cpu0[0], cpu_s(sim_pid) - cpu0[1])
            time.sleep(2)  # what was in flight is answered and dropped
            # Counted past the warm-up (the first phase): 0, 250k, 500k, 750k, 1M.
            samples.append({"requests": result["total"] - phases[0], "phase": result, "agent": memory_kb(agent_pid),
                            "sim": memory_kb(sim_pid), "load": os.getloadavg(),
                            "agent_cpu_us_per_req": round(cpu[0] / result["requests"] * 1e6, 1),
                            "sim_cpu_us_per_req": round(cpu[1] / result["requests"] * 1e6, 1)})
            b.log(f"memory: {samples[-1]['requests']} requests past the warm-up ({result['perSec']:.0f}/s), agent "
                  f"{samples[-1]['agent']['pss'] / 1024:.1f} MiB PSS")
    finally:
        proc.stdin.close()
        proc.wait(30)
    return samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--load", required=True)
    ap.add_argument("--bot", required=True, help="tests/bots/ccxt_bot.py")
    ap.add_argument("--seed-file", required=True, help="crates/exchange-sim/seed.example.json")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--secs", type=int, default=60)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--sequential", type=int, default=10_000, help="requests per arm, one at a time")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    seed = {k["label"]: k for k in json.load(open(args.seed_file))["keys"]}
    root = tempfile.mkdtemp(prefix="latchkey-agent-bench-")
    data = os.path.join(root, "data")
    os.makedirs(data)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    sim = Sim(args.sim, b.free_port(), root)
    cli = Cli(args.cli, data)
    agent_port = b.free_port()
    listen = f"127.0.0.1:{agent_port}"
    agent = None
    try:
        sim_url = sim.start()
        direct, placeholders = [], []
        for i, (label, exchange) in enumerate(BOTS):
            k = seed[label]
            lines = f"API_KEY={k['apiKey']}\nAPI_SECRET={k['secret']}\n"
            if k.get("passphrase"):
                lines += f"API_PASSPHRASE={k['passphrase']}\n"
            cli.run(["add", "--exchange", exchange, "--label", label, "--env", "custom", "--base-url", sim_url,
                     "--json"], lines)
            issued = json.loads(cli.run(["agent", "issue", label, "--bot", f"bench-{i}", "--listen", listen, "--json"]))
            direct.append((exchange, sim_url, k["apiKey"], k["secret"], k.get("passphrase")))
            placeholders.append((exchange, issued["baseUrl"], issued["apiKey"], issued["secret"], issued["passphrase"]))
        mem_issued = json.loads(cli.run(["agent", "issue", MEMORY_KEY, "--bot", "bench-memory", "--listen", listen,
                                         "--json"]))

        # (1) Added latency: the two arms alternate which goes first.
        agent = cli.agent(listen, root)
        wait_listening(agent_port, agent)
        # The agent writes its counts to the audit log every 60 s from its start (server::FLUSH_EVERY).
        agent_listening_epoch = time.time()
        count = int(args.secs * args.rate)
        runs = []
        for r in range(args.runs):
            order = ["direct", "agent"] if r % 2 == 0 else ["agent", "direct"]
            run = {"order": order}
            for arm in order:
                b.log(f"latency run {r + 1}/{args.runs}: {arm}, 4 CCXT bots x {args.rate:g}/s x {args.secs} s")
                run[arm] = latency_arm(args.bot, direct if arm == "direct" else placeholders, count, args.rate)
                b.log(f"  p50 {run[arm]['p50_ms']:.2f} ms, p99 {run[arm]['p99_ms']:.2f} ms, "
                      f"{run[arm]['per_s']:.0f}/s, errors {run[arm]['errors']}")
            runs.append(run)
        # The same on one connection from the Rust client, one request at a time (OKX only).
        okx = seed[BOTS[0][0]]
        to_sim = {"baseUrl": sim_url, "apiKey": okx["apiKey"], "secret": okx["secret"],
                  "passphrase": okx["passphrase"]}
        to_agent = {"baseUrl": placeholders[0][1], "apiKey": placeholders[0][2], "secret": placeholders[0][3],
                    "passphrase": placeholders[0][4]}
        seq = []
        for r in range(args.runs):
            order = ["direct", "agent"] if r % 2 == 0 else ["agent", "direct"]
            one = {"order": order}
            for arm in order:
                one[arm] = sequential(args.load, to_sim if arm == "direct" else to_agent, args.sequential)
            b.log(f"sequential run {r + 1}/{args.runs}: p50/p99 direct {one['direct']['p50Ms']}/{one['direct']['p99Ms']} "
                  f"ms, agent {one['agent']['p50Ms']}/{one['agent']['p99Ms']} ms")
            seq.append(one)
        load_mid = os.getloadavg()
        latency_rc = stop_agent(agent)
        agent = None

        # (2) Memory: a fresh simulator and a fresh agent, a million requests.
        sim.stop()
        sim.start()
        agent = cli.agent(listen, root)
        wait_listening(agent_port, agent)
        time.sleep(1)
        idle = {"agent": memory_kb(agent.pid), "sim": memory_kb(sim.proc.pid)}
        per = args.requests // 4
        phases = [1000, per, per, per, args.requests - 3 * per]
        b.log(f"memory: {args.requests} requests over {args.connections} keep-alive connections")
        samples = memory_run(args.load, mem_issued, agent.pid, sim.proc.pid, phases, args.connections)
        memory_rc = stop_agent(agent)
        agent = None
    finally:
        if agent:
            stop_agent(agent)
        sim.stop()
    load_after = os.getloadavg()
    shutil.rmtree(root, ignore_errors=True)

    raw = {"started": started.isoformat(), "load_before": load_before, "load_after_latency": load_mid,
           "load_after": load_after, "rate_per_bot": args.rate, "secs": args.secs, "latency_runs": runs,
           "agent_listening_epoch": agent_listening_epoch,
           "sequential_runs": seq,
           "agent_exit_after_latency": latency_rc, "memory_connections": args.connections,
           "memory_idle_before_load": idle, "memory_samples": samples, "agent_exit_after_memory": memory_rc}
    with open(args.out, "w") as f:
        json.dump(raw, f, indent=1)
    report(raw)


def report(raw):
    runs = raw["latency_runs"]
    lb, lm, la = raw["load_before"], raw["load_after_latency"], raw["load_after"]
    started = datetime.datetime.fromisoformat(raw["started"])
    fmt_load = lambda t: "/".join(f"{x:.2f}" for x in t)  # noqa: E731
    print(f"Measured {started:%Y-%m-%d %H:%M} UTC; load {fmt_load(lb)} before, {fmt_load(lm)} after the latency "
          f"runs, {fmt_load(la)} after the memory run.\n")

    def rng(values, fmt="{:.2f}"):
        return f"{fmt.format(med(values))} ms ({fmt.format(min(values))}–{fmt.format(max(values))})"

    total = int(4 * raw["rate_per_bot"])
    print(f"Added latency, 4 CCXT bots x {raw['rate_per_bot']:g}/s = {total} requests/s for {raw['secs']} s; "
          f"medians of {len(runs)} runs (min–max), each run's percentiles over all "
          f"{runs[0]['direct']['requests']} requests of its arm:\n")
    print("| Arm | p50 | p99 | p99.9 | Rate reached | Errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for arm, name in (("direct", "CCXT → exchange-sim (real keys)"),
                      ("agent", "CCXT → `latchkey agent` → exchange-sim (placeholders)")):
        errs = sum(r[arm]["requests"] - r[arm]["ok"] for r in runs)
        print(f"| {name} | {rng([r[arm]['p50_ms'] for r in runs])} | {rng([r[arm]['p99_ms'] for r in runs])} | "
              f"{rng([r[arm]['p999_ms'] for r in runs])} | {med([r[arm]['per_s'] for r in runs]):.0f}/s | {errs} |")
    add50 = [r["agent"]["p50_ms"] - r["direct"]["p50_ms"] for r in runs]
    add99 = [r["agent"]["p99_ms"] - r["direct"]["p99_ms"] for r in runs]
    verdict = "met" if med(add99) <= 1.0 else "**missed**"
    print(f"| Added by the agent (agent − direct, per run) | {rng(add50)} | {rng(add99)} |  |  | "
          f"target ≤ 1 ms at p99: {verdict} |")
    print("\nBy run (order, p50/p99 ms direct → agent): " + "; ".join(
        f"{i + 1}: {'→'.join(r['order'])}, {r['direct']['p50_ms']:.2f}/{r['direct']['p99_ms']:.2f} → "
        f"{r['agent']['p50_ms']:.2f}/{r['agent']['p99_ms']:.2f}" for i, r in enumerate(runs)))

    if "agent_listening_epoch" in raw:
        t_agent = raw["agent_listening_epoch"]

        def phase(arm):
            out = []
            for r in runs:
                top = r[arm]["slowest"][:12]
                out.append(",".join(f"{(r[arm]['started_epoch'] + e['due_s'] - t_agent) % 60:.0f}" for e in top))
            return "; ".join(out)
        print("\nThe 12 slowest requests of each arm, each run: seconds since the agent's last minute tick (its "
              f"audit flush; the agent runs through both arms, so the direct arm is the control): agent arm "
              f"{phase('agent')} | direct arm {phase('direct')}.")

    seq = raw["sequential_runs"]
    n = seq[0]["direct"]["requests"]
    print(f"\nOne request at a time on one keep-alive connection from the Rust load client (OKX, {n:,} per arm, "
          f"balance and order alternating; medians of {len(seq)} runs, min–max):\n")
    print("| Arm | p50 | p99 | Failed |")
    print("|---|---:|---:|---:|")
    for arm, name in (("direct", "Rust client → exchange-sim"), ("agent", "Rust client → agent → exchange-sim")):
        failed = sum(r[arm]["requests"] - r[arm]["ok"] for r in seq)
        print(f"| {name} | {rng([r[arm]['p50Ms'] for r in seq], '{:.3f}')} | "
              f"{rng([r[arm]['p99Ms'] for r in seq], '{:.3f}')} | {failed} |")
    print(f"| Added by the agent | {rng([r['agent']['p50Ms'] - r['direct']['p50Ms'] for r in seq], '{:.3f}')} | "
          f"{rng([r['agent']['p99Ms'] - r['direct']['p99Ms'] for r in seq], '{:.3f}')} |  |")

    samples = raw["memory_samples"]
    base = samples[0]
    print(f"\nMemory over {samples[-1]['requests']:,} requests ({raw['memory_connections']} keep-alive connections, "
          "balance and order alternating), sampled with the load client idle 2 s after each step; growth against "
          "the sample after the 1k warm-up:\n")
    print("| Requests past the warm-up | Requests/s (step) | Failed (step) | Agent CPU per request (step) | "
          "Agent RSS | Agent PSS | Agent PSS growth | exchange-sim RSS | exchange-sim PSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    idle = raw["memory_idle_before_load"]
    mib = lambda kb: f"{kb / 1024:.1f} MiB"  # noqa: E731
    print(f"| agent started, no request yet | | | | {mib(idle['agent']['rss'])} | {mib(idle['agent']['pss'])} | | "
          f"{mib(idle['sim']['rss'])} | {mib(idle['sim']['pss'])} |")
    for s in samples:
        p = s["phase"]
        failed = sum(p["non200"].values()) + p["notOk"] + p["failed"]
        grow = (s["agent"]["pss"] - base["agent"]["pss"]) / 1024
        what = f"0 (after the {p['requests']:,}-request warm-up)" if s is base else f"{s['requests']:,}"
        print(f"| {what} | {p['perSec']:.0f} | {failed} | {s['agent_cpu_us_per_req']:.0f} µs | "
              f"{mib(s['agent']['rss'])} | {mib(s['agent']['pss'])} | {grow:+.1f} MiB | {mib(s['sim']['rss'])} | "
              f"{mib(s['sim']['pss'])} |")
    print(f"\nAgent exit status after SIGTERM: {raw['agent_exit_after_latency']} (latency), "
          f"{raw['agent_exit_after_memory']} (memory).")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        report(json.load(open(sys.argv[2])))
    else:
        main()
