#!/usr/bin/env python3
"""Reads the agent's CLEF log (one compact JSON event a line) for bench/agent-notice.

  agent_log.py has <rundir> committed <Kind>      exit 0 once a "Backup (<Kind>) committed" (3001) is logged
  agent_log.py has <rundir> interruption-done     exit 0 once 3201 (durable) or 3202 (not saved) is logged
  agent_log.py has <rundir> started-after-baseline  exit 0 if a backup started (3000) after the first periodic commit
  agent_log.py get <rundir> snapshot|baseline-seconds
  agent_log.py brief <rundir>
  agent_log.py notice-row <rundir> <clock ticks per s>   tab-separated figures of one notice run
  agent_log.py report <workdir> --command ... --sdb ... --tree ... --change ... --machine ... --server ...
"""
import argparse
import datetime as dt
import glob
import json
import os
import statistics
import sys


def event_id(e):
    v = e.get("EventId")
    if isinstance(v, dict):
        return v.get("Id")
    return v


def load(rd):
    events = []
    for path in sorted(glob.glob(os.path.join(rd, "log", "agent-*.clef"))):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a line being written
    return events


def ts(s):
    # CLEF @t and DateTimeOffset properties: ISO 8601 with up to 7 fractional digits
    s = s.replace("Z", "+00:00")
    if "." in s:
        head, rest = s.split(".", 1)
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        s = head + "." + rest[:i][:6].ljust(6, "0") + rest[i:]
    return dt.datetime.fromisoformat(s).timestamp()


def first(events, eid, pred=lambda e: True):
    return next((e for e in events if event_id(e) == eid and pred(e)), None)


def baseline(events):
    return first(events, 3001, lambda e: e.get("Kind") == "Periodic")


def summary(rd):
    ev = load(rd)
    out = {}
    notice = first(ev, 3200)
    saved = first(ev, 3201)
    failed = first(ev, 3202)
    committed = first(ev, 3001, lambda e: e.get("Kind") == "Interruption")
    engine = None
    if saved is not None:
        # the engine's "Snapshot ... saved" (1100) just before the interruption's commit
        cands = [e for e in ev if event_id(e) == 1100 and ts(e["@t"]) <= ts(saved["@t"]) + 1]
        engine = cands[-1] if cands else None
    try:
        with open(os.path.join(rd, "imds-state.json"), encoding="utf-8") as fh:
            imds = json.load(fh)
    except (OSError, json.JSONDecodeError):
        imds = {}
    served = imds.get("first_served_at")
    out["served"] = served
    out["seen"] = ts(notice["@t"]) if notice else None
    out["durable"] = ts(saved["DurableAt"]) if saved else None
    out["spare"] = saved.get("SecondsToSpare") if saved else None
    out["partial"] = saved.get("Partial") if saved else None
    out["incomplete"] = saved.get("Incomplete") if saved else None
    out["snapshot"] = saved.get("SnapshotId") if saved else None
    out["failed"] = failed.get("Reason") if failed else None
    out["bytes_uploaded"] = committed.get("BytesUploaded") if committed else None
    if engine:
        out["files_changed"] = (engine.get("FilesChanged") or 0) + (engine.get("FilesNew") or 0)
        out["engine_s"] = engine.get("DurationSeconds")
    b = baseline(ev)
    start = ev[0] if ev else None
    b_engine = None
    if b is not None:
        c = [e for e in ev if event_id(e) == 1100 and ts(e["@t"]) <= ts(b["@t"]) + 1]
        b_engine = c[-1] if c else None
    out["baseline_s"] = b_engine.get("DurationSeconds") if b_engine else None
    out["start"] = ts(start["@t"]) if start else None
    return out


def fmt(v, spec="{:.2f}"):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return spec.format(v)
    return str(v)


def notice_row(rd, ticks):
    s = summary(rd)
    d = lambda a, b: (s[b] - s[a]) if s.get(a) is not None and s.get(b) is not None else None
    cpu_s = pct = hwm = None
    try:
        with open(os.path.join(rd, "cpu"), encoding="utf-8") as fh:
            c0, c1, t0, t1, hwm = fh.read().split()
        cpu_s = (int(c1) - int(c0)) / ticks
        # CPU over the window notice armed -> outcome logged (what the agent used for the final backup)
        pct = 100 * cpu_s / (float(t1) - float(t0))
        hwm = int(hwm)
    except (OSError, ValueError):
        pass
    bytes_read = "-"
    return "\t".join([
        fmt(d("served", "durable")), fmt(d("seen", "durable")), fmt(d("served", "seen")),
        fmt(s["spare"], "{:.1f}"), fmt(s["partial"]), fmt(s["incomplete"]), fmt(s["bytes_uploaded"]),
        fmt(s.get("files_changed")), bytes_read, fmt(s.get("engine_s")), fmt(cpu_s), fmt(pct, "{:.0f}"),
        fmt(hwm)])


def has(rd, what, arg=None):
    ev = load(rd)
    if what == "committed":
        return first(ev, 3001, lambda e: e.get("Kind") == arg) is not None
    if what == "interruption-done":
        return first(ev, 3201) is not None or first(ev, 3202) is not None
    if what == "started-after-baseline":
        b = baseline(ev)
        if b is None:
            return False
        tb = ts(b["@t"])
        return any(event_id(e) == 3000 and ts(e["@t"]) > tb for e in ev)
    raise SystemExit(f"unknown query {what}")


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def read_tsv(path):
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [l.rstrip("\n").split("\t") for l in fh if l.strip()]
    except OSError:
        return []
    head, rows = lines[0], lines[1:]
    return [dict(zip(head, r)) for r in rows]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def report(wd, a):
    notice = read_tsv(os.path.join(wd, "raw-notice.tsv"))
    rest = read_tsv(os.path.join(wd, "raw-rest.tsv"))
    o = []
    o.append(f"## bench/agent-notice results\n")
    o.append(f"Command: `{a.command}`. {a.sdb}. Machine: {a.machine}. S3 peer: {a.server}.\n")
    o.append(f"Tree: {a.tree}. Change before the notice: {a.change}.\n")
    if notice:
        o.append("### Notice -> snapshot durable (target: under 15 s)\n")
        o.append("| run | status | load 1/5/15 min before | served -> durable s | seen -> durable s | served -> seen s | s to spare | partial | MB uploaded | files changed | agent CPU s | CPU % of one core | peak RSS MiB | restore vs tree |")
        o.append("|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|")
        for r in notice:
            mb = num(r["bytes_uploaded"])
            hwm = num(r["vm_hwm_kb"])
            o.append(f"| {r['run']} | {r['status']} | {r['load_before']} | {r['served_to_durable_s']} | {r['seen_to_durable_s']} | "
                     f"{r['served_to_seen_s']} | {r['seconds_to_spare']} | {r['partial']} | {fmt(mb / 1e6 if mb is not None else None, '{:.1f}')} | "
                     f"{r['files_changed']} | {r['cpu_s']} | {r['cpu_pct_one_core']} | {fmt(hwm / 1024 if hwm is not None else None, '{:.0f}')} | {r['verify']} |")
        ok = [r for r in notice if r["status"] == "ok"]
        m_served = median(num(r["served_to_durable_s"]) for r in ok)
        m_seen = median(num(r["seen_to_durable_s"]) for r in ok)
        m_spare = median(num(r["seconds_to_spare"]) for r in ok)
        o.append("")
        o.append(f"Median of {len(ok)} verified run(s): served -> durable **{fmt(m_served)} s**, seen -> durable {fmt(m_seen)} s, "
                 f"{fmt(m_spare, '{:.1f}')} s to spare before the action time. Target under 15 s: "
                 f"**{'met' if m_served is not None and m_served < 15 else 'not met'}**.\n")
        for r in notice:
            if r.get("note") not in (None, "", "-"):
                o.append(f"- run {r['run']}: {r['note']}")
    if rest:
        r = rest[0]
        o.append("\n### At rest (targets: RSS under 60 MB, CPU under 0.5% of one core)\n")
        o.append("| status | load before | load after | settle s | window s | RSS max MiB | RSS median MiB | RSS min MiB | VmHWM MiB (since start, restore included) | RssAnon / RssFile MiB at the end | CPU ticks | CPU % of one core | IMDS reads in window |")
        o.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        mib = lambda v: fmt(num(v) / 1024 if num(v) is not None else None, "{:.1f}")
        o.append(f"| {r['status']} | {r['load_before']} | {r['load_after']} | {r['settle_s']} | {r['sample_s']} | {mib(r['rss_max_kb'])} | "
                 f"{mib(r['rss_median_kb'])} | {mib(r['rss_min_kb'])} | {mib(r['vm_hwm_kb'])} | {mib(r.get('rss_anon_kb'))} / {mib(r.get('rss_file_kb'))} | {r['cpu_ticks']} | {r['cpu_pct_one_core']} | {r['imds_gets']} |")
        rss = num(r["rss_max_kb"])
        cpu = num(r["cpu_pct_one_core"])
        if rss is not None and cpu is not None:
            o.append("")
            o.append(f"RSS under 60 MB (max {rss * 1024 / 1e6:.1f} MB): **{'met' if rss * 1024 < 60e6 else 'not met'}**; "
                     f"CPU under 0.5%: **{'met' if cpu < 0.5 else 'not met'}** ({cpu:.3f}%).")
        if r.get("note") not in (None, "", "-"):
            o.append(f"- {r['note']}")
    print("\n".join(o))


def main():
    cmd = sys.argv[1]
    if cmd == "has":
        sys.exit(0 if has(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None) else 1)
    if cmd == "get":
        s = summary(sys.argv[2])
        key = sys.argv[3]
        v = s.get("snapshot") if key == "snapshot" else s.get("baseline_s") if key == "baseline-seconds" else None
        print(fmt(v) if v is not None else "")
        return
    if cmd == "brief":
        s = summary(sys.argv[2])
        d = lambda a, b: (s[b] - s[a]) if s.get(a) is not None and s.get(b) is not None else None
        print(f"served->durable {fmt(d('served', 'durable'))} s, seen->durable {fmt(d('seen', 'durable'))} s, "
              f"spare {fmt(s['spare'], '{:.1f}')} s, partial {fmt(s['partial'])}, uploaded {fmt(s['bytes_uploaded'])} B"
              + (f", NOT SAVED: {s['failed']}" if s.get("failed") else ""))
        return
    if cmd == "notice-row":
        print(notice_row(sys.argv[2], int(sys.argv[3])))
        return
    if cmd == "report":
        ap = argparse.ArgumentParser()
        ap.add_argument("wd")
        for k in ("command", "sdb", "tree", "change", "machine", "server"):
            ap.add_argument("--" + k, default="?")
        a = ap.parse_args(sys.argv[2:])
        report(a.wd, a)
        return
    raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
