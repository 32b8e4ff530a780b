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
    a = ap.parse_args()

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


if __name__ == "__main__":
    main()
