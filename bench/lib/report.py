#!/usr/bin/env python3
"""Turn one mode's raw TSV from bench/backup-vs-restic into a markdown report."""
import argparse
import csv
import datetime
import os
import statistics

OPS = [("backup1", "first backup", 1.0), ("backup2", "second backup (1% changed)", 0.5),
       ("restore", "restore", 0.5)]
TOOLS = [("restic", "restic"), ("spotdevbox", "SpotDevBox")]
MODES = {"direct": "direct (loopback, no added latency)",
         "latency20": "+{d} ms per request (latency proxy between TLS proxy and S3 server)"}


def fnum(x, nd=2):
    return f"{x:.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    for a in ("raw", "mode", "delay-ms", "rtt-ms", "copy-s", "tree", "mutation", "restic-version",
              "sdb-version", "nginx-version", "server", "machine", "command"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--compare", default="restic",
                    help="restic, or encryption:<commit that made the version 2 repository> (state)")
    a = ap.parse_args()
    if a.compare.startswith("encryption:"):
        return encryption_report(a)

    rows = list(csv.DictReader(open(a.raw), delimiter="\t"))
    runs = sorted({int(r["run"]) for r in rows})

    def ok(tool, op):
        return [r for r in rows if r["tool"] == tool and r["op"] == op and r["status"] == "ok"]

    def med(tool, op, field, scale=1.0):
        vals = [float(r[field]) * scale for r in ok(tool, op)]
        return statistics.median(vals) if vals else None

    def cell(v, tool, op, nd=2):
        if v is None:
            st = sorted({r["status"] for r in rows if r["tool"] == tool and r["op"] == op})
            return "n/a (error)" if st else "not run"
        n = len(ok(tool, op))
        total = len([r for r in rows if r["tool"] == tool and r["op"] == op])
        return fnum(v, nd) + ("" if n == total else f" (n={n} of {total})")

    def ratio(x, y):
        return fnum(x / y) if x is not None and y else "–"

    out = []
    mode_title = MODES[a.mode].format(d=a.delay_ms)
    out.append(f"### SpotDevBox vs restic: {mode_title}\n")
    out.append(f"- date: {datetime.date.today().isoformat()}; {len(runs)} run(s), medians; "
               "tools alternate (odd runs restic first, even runs SpotDevBox first); each tool "
               "gets a fresh server, bucket and tree copy per run")
    out.append(f"- machine: {a.machine}")
    out.append(f"- tree: {a.tree}")
    out.append(f"- change before the second backup: {a.mutation}")
    out.append(f"- restic: {a.restic_version}; defaults (repository v2, compression auto)")
    out.append(f"- SpotDevBox: {a.sdb_version}")
    out.append(f"- S3 server: {a.server}, behind {a.nginx_version} (TLS, self-signed, "
               "request and response buffering off)")
    out.append(f"- median round trip of a small request through the chain: {a.rtt_ms} ms")
    out.append(f"- `cp -a` of the tree on this disk (median; a floor for any restore, no tool involved): "
               f"{a.copy_s} s")
    out.append(f"- command: `{a.command}`\n")

    out.append("| operation | restic s | SpotDevBox s | time SpotDevBox/restic (target) "
               "| restic peak RSS MiB | SpotDevBox peak RSS MiB | RSS SpotDevBox/restic (target) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for op, label, target in OPS:
        rt, st = med("restic", op, "seconds"), med("spotdevbox", op, "seconds")
        rm, sm = (med("restic", op, "peak_rss_kb", 1 / 1024), med("spotdevbox", op, "peak_rss_kb", 1 / 1024))
        out.append(f"| {label} | {cell(rt, 'restic', op)} | {cell(st, 'spotdevbox', op)} | "
                   f"{ratio(st, rt)} (≤ {target:g}) | {cell(rm, 'restic', op, 0)} | "
                   f"{cell(sm, 'spotdevbox', op, 0)} | {ratio(sm, rm)} (≤ 1) |")
    out.append("")

    out.append("CPU time of the tool, user + system (medians; far less sensitive than wall time "
               "to other load on the machine):\n")
    out.append("| operation | restic CPU s | SpotDevBox CPU s | CPU SpotDevBox/restic |")
    out.append("|---|---:|---:|---:|")
    for op, label, _ in OPS:
        rc, sc = med("restic", op, "cpu_seconds"), med("spotdevbox", op, "cpu_seconds")
        out.append(f"| {label} | {cell(rc, 'restic', op)} | {cell(sc, 'spotdevbox', op)} | {ratio(sc, rc)} |")
    out.append("")

    loads = sorted({(r["run"], r["tool"]): float(r["load1"]) for r in rows if r.get("load1") not in (None, "", "-")}.values())
    cores = os.cpu_count() or 1
    if loads and statistics.median(loads) > cores:
        out.append(f"**Caution:** the machine was busy with other work during these runs (1-minute load "
                   f"average before a tool's run: median {statistics.median(loads):.1f}, max {max(loads):.1f}, "
                   f"on {cores} cores). Wall times are inflated and noisy; compare tools by the ratios of "
                   "alternating runs and by CPU time, and rerun on an idle machine for absolute figures.\n")

    out.append("Requests and bytes through the TLS proxy (medians):\n")
    out.append("| operation | restic requests | SpotDevBox requests | restic MB up / down "
               "| SpotDevBox MB up / down |")
    out.append("|---|---:|---:|---:|---:|")
    for op, label, _ in OPS:
        def rq(tool):
            v = med(tool, op, "requests")
            return cell(v, tool, op, 0)

        def mb(tool):
            u, d = med(tool, op, "bytes_up", 1e-6), med(tool, op, "bytes_down", 1e-6)
            return "–" if u is None else f"{u:.1f} / {d:.1f}"
        out.append(f"| {label} | {rq('restic')} | {rq('spotdevbox')} | {mb('restic')} | {mb('spotdevbox')} |")
    out.append("")

    out.append("<details><summary>every run</summary>\n")
    out.append("| run | order | tool | operation | status | s | CPU s | peak RSS MiB | requests | MB up | MB down | load |")
    out.append("|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    notes = {}
    for r in sorted(rows, key=lambda r: (int(r["run"]), int(r["position"]),
                                         [o for o, _, _ in OPS].index(r["op"]))):
        rss = f"{float(r['peak_rss_kb']) / 1024:.0f}" if r["peak_rss_kb"] not in ("-", "") else "-"
        out.append(f"| {r['run']} | {r['position']} | {r['tool']} | {r['op']} | {r['status']} | "
                   f"{r['seconds']} | {r['cpu_seconds']} | {rss} | {r['requests']} | {int(r['bytes_up']) / 1e6:.1f} | "
                   f"{int(r['bytes_down']) / 1e6:.1f} | {r['load1']} |")
        notes[(r["run"], r["tool"])] = r["note"]
    out.append("")
    for (run, tool), note in sorted(notes.items()):
        out.append(f"- run {run} {tool}: {note}")
    out.append("\n</details>\n")
    print("\n".join(out))


ENC_OPS = [("backup1", "first backup"), ("backup2", "second backup (1% changed)"),
           ("restore", "restore"), ("snapshots", "`snapshots` (opening only: per-command cost)")]


def encryption_report(a):
    """Version 3 (encrypted) against version 2 (plain), the same binary timing every command."""
    rows = list(csv.DictReader(open(a.raw), delimiter="\t"))
    runs = sorted({int(r["run"]) for r in rows})
    base, subj = "spotdevbox-plain", "spotdevbox"

    def ok(tool, op):
        return [r for r in rows if r["tool"] == tool and r["op"] == op and r["status"] == "ok"]

    def med(tool, op, field, scale=1.0):
        vals = [float(r[field]) * scale for r in ok(tool, op) if r[field] not in ("-", "")]
        return statistics.median(vals) if vals else None

    def cell(v, nd=2):
        return "n/a" if v is None else fnum(v, nd)

    def ratio(x, y, target=None):
        if x is None or not y:
            return "–"
        r = x / y
        txt = fnum(r)
        return f"**{txt}**" if target is not None and r > target else txt

    out = [f"### Encryption: version 3 against version 2, same binary ({MODES[a.mode].format(d=a.delay_ms)})\n"]
    out.append(f"- date: {datetime.date.today().isoformat()}; {len(runs)} run(s), medians; the two repositories "
               "alternate (odd runs version 2 first, even runs version 3 first); each gets a fresh server, bucket "
               "and tree copy per run")
    out.append(f"- machine: {a.machine}")
    out.append(f"- tree: {a.tree}")
    out.append(f"- change before the second backup: {a.mutation}")
    out.append(f"- every timed command: {a.sdb_version}; the version 2 repository made by `init` of commit "
               f"{a.compare.split(':', 1)[1]}, the version 3 one by the current `init` (passphrase, default Argon2id)")
    out.append(f"- S3 server: {a.server}, behind {a.nginx_version}; median round trip {a.rtt_ms} ms; "
               f"`cp -a` of the tree {a.copy_s} s")
    out.append(f"- command: `{a.command}`\n")
    out.append("| operation | v2 s | v3 s | v3/v2 (≤ 1.05) | v2 CPU s | v3 CPU s | v3/v2 (≤ 1.05) "
               "| v2 peak RSS MiB | v3 peak RSS MiB | v3/v2 (≤ 1) | requests v2 / v3 | MB up v2 / v3 | MB down v2 / v3 |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for op, label in ENC_OPS:
        t0, t1 = med(base, op, "seconds"), med(subj, op, "seconds")
        c0, c1 = med(base, op, "cpu_seconds"), med(subj, op, "cpu_seconds")
        m0, m1 = med(base, op, "peak_rss_kb", 1 / 1024), med(subj, op, "peak_rss_kb", 1 / 1024)
        q0, q1 = med(base, op, "requests"), med(subj, op, "requests")
        u0, u1 = med(base, op, "bytes_up", 1e-6), med(subj, op, "bytes_up", 1e-6)
        d0, d1 = med(base, op, "bytes_down", 1e-6), med(subj, op, "bytes_down", 1e-6)
        n = f" (n={len(ok(base, op))}/{len(ok(subj, op))})" if len(ok(base, op)) != len(runs) or len(ok(subj, op)) != len(runs) else ""
        out.append(f"| {label}{n} | {cell(t0)} | {cell(t1)} | {ratio(t1, t0, 1.05)} | {cell(c0)} | {cell(c1)} | "
                   f"{ratio(c1, c0, 1.05)} | {cell(m0, 0)} | {cell(m1, 0)} | {ratio(m1, m0, 1.0)} | "
                   f"{cell(q0, 0)} / {cell(q1, 0)} | {cell(u0, 1)} / {cell(u1, 1)} | {cell(d0, 1)} / {cell(d1, 1)} |")
    out.append("")
    loads = [float(r["load1"]) for r in rows if r["op"] == "backup1" and r.get("load1") not in (None, "", "-")]
    if loads:
        out.append(f"1-minute load average before each repository's run: {', '.join(f'{x:.2f}' for x in loads)} "
                   f"(median {statistics.median(loads):.1f}, {os.cpu_count()} cores).\n")
    out.append("<details><summary>every run</summary>\n")
    out.append("| run | order | repository | operation | status | s | CPU s | peak RSS MiB | requests | MB up | MB down | load |")
    out.append("|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    order = [o for o, _ in ENC_OPS]
    notes = {}
    for r in sorted(rows, key=lambda r: (int(r["run"]), int(r["position"]), order.index(r["op"]))):
        rss = f"{float(r['peak_rss_kb']) / 1024:.0f}" if r["peak_rss_kb"] not in ("-", "") else "-"
        repo = "v2" if r["tool"] == base else "v3"
        out.append(f"| {r['run']} | {r['position']} | {repo} | {r['op']} | {r['status']} | {r['seconds']} | "
                   f"{r['cpu_seconds']} | {rss} | {r['requests']} | {int(r['bytes_up']) / 1e6:.1f} | "
                   f"{int(r['bytes_down']) / 1e6:.1f} | {r['load1']} |")
        notes[(r["run"], repo)] = r["note"]
    out.append("")
    for (run, repo), note in sorted(notes.items()):
        out.append(f"- run {run} {repo}: {note}")
    out.append("\n</details>\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
