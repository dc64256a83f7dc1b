#!/usr/bin/env python3
"""What stays of Latchkey with its window closed, side by side with a blank Tauri 2 window and
KeePassXC measured the same way in the same run (issue 16's footprint target: <= 60 MiB PSS, i.e.
<= 0.76x KeePassXC), and the window's start from the tray. Run by bench/resident.sh inside
scripts/desktop-session.sh; uses bench/run.py's helpers (PSS of a process tree, window probes)."""

import argparse
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as b  # noqa: E402


def keepassxc_run(settle):
    """KeePassXC launched as a user would (its welcome window, no database), idle `settle` s."""
    home = tempfile.mkdtemp(prefix="kpxc-home-")
    env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config")}
    proc = subprocess.Popen(["keepassxc"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30 and not b.visible_window(proc.pid):
            time.sleep(0.05)
        time.sleep(max(0.0, settle - (time.monotonic() - t0)))
        total, parts = b.tree_pss(proc.pid)
        return {"pss": total, "parts": parts, "shown": b.visible_window(proc.pid)}
    finally:
        b.kill_tree(proc.pid)
        proc.wait()
        shutil.rmtree(home, ignore_errors=True)


def agent_listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--blank", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    root = tempfile.mkdtemp(prefix="latchkey-resident-bench-")
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    data = b.seed(args.seed, 20, root)
    env = b.app_env(data)
    port = b.free_port()
    env["LATCHKEY_AGENT_LISTEN"] = f"127.0.0.1:{port}"
    # One bot with a placeholder, so the resident runs its signing agent as a user with bots has it.
    subprocess.run([args.cli, "agent", "issue", "bench-okx-0000", "--bot", "bench", "--json"],
                   env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL)

    runs = {"latchkey": [], "blank": [], "keepassxc": []}
    for i in range(args.runs):
        b.log(f"run {i + 1}/{args.runs}: Latchkey closed to the tray")
        r = b.tray_run(args.app, env, 20)
        runs["latchkey"].append(r)
        b.log(f"run {i + 1}/{args.runs}: blank Tauri window, 30 s idle")
        runs["blank"].append(b.idle_run(args.blank, {}, 30))
        b.log(f"run {i + 1}/{args.runs}: KeePassXC, 30 s idle")
        runs["keepassxc"].append(keepassxc_run(30))

    # The agent really ran in those residents: one more, probed while it runs.
    proc = subprocess.Popen([os.path.join(os.path.dirname(args.app), "latchkey-resident")],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not agent_listening(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        agent_seen = agent_listening(port)
    finally:
        b.kill_tree(proc.pid)
        proc.wait()
    load_after = os.getloadavg()
    shutil.rmtree(root, ignore_errors=True)

    raw = {"started": started.isoformat(), "load_before": load_before, "load_after": load_after,
           "runs": runs, "agent_listening": agent_seen}
    with open(args.out, "w") as f:
        json.dump(raw, f, indent=1)

    def rounded(parts):
        return {k: round(v, 1) for k, v in parts.items()}

    def med(values):
        values = sorted(values)
        return values[len(values) // 2]

    lk = med([r["tray"] for r in runs["latchkey"]])
    blank = med([r["pss"] for r in runs["blank"]])
    kp = med([r["pss"] for r in runs["keepassxc"]])
    print(f"Measured {started:%Y-%m-%d %H:%M} UTC; load {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f} "
          f"before, {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} after; medians of {args.runs} runs; "
          f"signing agent listening in the resident: {'yes' if agent_seen else 'NO'}.\n")
    print("| Measure | Latchkey | Blank Tauri window | KeePassXC 2.7 | Latchkey / KeePassXC | Target |")
    print("|---|---:|---:|---:|---:|---|")
    verdict = "met" if lk <= 60 else "**missed**"
    print(f"| PSS of what stays, window closed 20 s (Latchkey: latchkey-resident with 20 keys and one agent bot; "
          f"others: idle 30 s after launch) | {b.fmt_mib([r['tray'] for r in runs['latchkey']])} | "
          f"{b.fmt_mib([r['pss'] for r in runs['blank']])} | {b.fmt_mib([r['pss'] for r in runs['keepassxc']])} | "
          f"{lk / kp:.2f}× | ≤ 60 MiB (≤ 0.76×): {verdict} |")
    print(f"| Window open 5 s, PSS of the tree (window + resident) | {b.fmt_mib([r['open'] for r in runs['latchkey']])} "
          f"| {b.fmt_mib([r['pss'] for r in runs['blank']])} |  |  |  |")
    reopened = [r["reopened"] for r in runs["latchkey"] if r["reopened"]]
    verdict = "met" if reopened and med(reopened) <= 300 else "**missed**"
    print(f"| Open from the tray (window program started) → window mapped | {b.fmt_ms(reopened)} |  |  |  | "
          f"≤ 0.3 s: {verdict} |")
    print(f"\nBlank window / KeePassXC: {blank:.0f} / {kp:.0f} MiB. "
          f"By process (last run, MiB): Latchkey {rounded(runs['latchkey'][-1]['parts'])}; "
          f"KeePassXC {rounded(runs['keepassxc'][-1]['parts'])}.")


if __name__ == "__main__":
    main()
