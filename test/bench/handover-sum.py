#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The figures of test/bench/handover.sh (see its header):
#   handover-sum.py one MODE RUN T0 T_END CONSOLE MEM.json   one JSON line
#   handover-sum.py show RESULTS.jsonl    each run, one line
#   handover-sum.py table RESULTS.jsonl   medians per mode, ratios to peer
import json
import re
import statistics
import sys

MiB = 1048576.0


def find(text, pattern, cast=float):
    m = re.search(pattern, text)
    if not m:
        sys.exit("handover-sum: no %r in the console log" % pattern)
    return cast(m.group(1))


def one(mode, run, t0, t_end, console, mem):
    text = open(console, errors="replace").read()
    r = {"mode": mode, "run": int(run)}
    t0 = float(t0)
    if mode == "peer":
        r["stop"] = find(text, r"peer: stop_command took ([\d.]+) s")
        trigger = find(text, r"peer: PID 1 takes over from here, at uptime ([\d.]+) s")
        start = pid1 = find(text, r"peer stage 2: PID 1 at uptime ([\d.]+) s")
        serve = None
        first = find(text, r"peer stage 2: writing at uptime ([\d.]+) s")
        r["closure_bytes"] = None
        r["self"] = None
    else:
        r["stop"] = find(text, r"stop_command took ([\d.]+) s")
        trigger = find(text, r"PID 1 takes over from here, at uptime ([\d.]+) s")
        start = find(text, r"stage 2: PID 1 at uptime ([\d.]+) s, from the old root")
        pid1 = find(text, r"stage 2: PID 1 at uptime ([\d.]+) s, in the ramfs")
        serve = find(text, r"stage 2: serving; installing \S+ at uptime ([\d.]+) s")
        first = find(text, r"stage 2: first bytes written at uptime ([\d.]+) s")
        r["closure_bytes"] = find(text, r"handover needs \d+ bytes \(ramfs (\d+)", int)
        m = re.search(r"stage 2: memory:(.*)", text)
        r["self"] = dict((k, int(v)) for k, v in
                         re.findall(r"(\w+) (\d+) kB", m.group(1))) if m else None
    r["downtime"] = first - t0
    r["to_trigger"] = trigger - t0
    r["to_pid1"] = start - t0
    r["to_ramfs"] = pid1 - t0
    r["to_serve"] = serve - t0 if serve is not None else None
    r["to_end"] = float(t_end) - t0
    m = json.load(open(mem))
    # stage 2: PID 1 from its first exec of stage 2 on, and what it
    # started since (never the old root's processes)
    anon = rss = 0
    hwm = None
    for s in m["samples"]:
        if s["t"] < pid1:
            continue
        kids = [k for k in s["kids"] if k["start"] >= start - 0.01]
        a = s["pid1"].get("RssAnon", 0) + sum(k["anon"] for k in kids)
        v = s["pid1"].get("VmRSS", 0) + sum(k["rss"] for k in kids)
        anon, rss = max(anon, a), max(rss, v)
        hwm = max(hwm or 0, s["pid1"].get("VmHWM", 0))
    r["anon_kb"], r["rss_kb"], r["hwm_kb"] = anon, rss, hwm
    r["samples"] = sum(1 for s in m["samples"] if s["t"] >= pid1)
    fs = m["ramfs"]
    if not fs:
        sys.exit("handover-sum: the ramfs was not measured (no marker seen)")
    r["ramfs"] = fs["files"]
    r["bundle"] = fs["excluded"]
    r["tmpfs"] = fs["tmpfs_used"] - fs["excluded"]
    r["total"] = r["tmpfs"] + anon * 1024
    print(json.dumps(r))


def line(r):
    serve = "%.2f" % r["to_serve"] if r["to_serve"] is not None else "-"
    cb = "%.2f" % (r["closure_bytes"] / MiB) if r["closure_bytes"] else "-"
    return ("%-7s run %d: downtime %.2f s (stop %.3f, trigger %.2f, pid1 %.2f, ramfs %.2f, serve %s), "
            "end %.2f s; ramfs %.2f MiB (closure_bytes %s), tmpfs-bundle %.2f MiB, "
            "anon %.2f MiB, hwm %.2f MiB, total %.2f MiB (%d samples)" % (
                r["mode"], r["run"], r["downtime"], r["stop"], r["to_trigger"], r["to_pid1"],
                r["to_ramfs"], serve, r["to_end"], r["ramfs"] / MiB, cb,
                r["tmpfs"] / MiB, r["anon_kb"] / 1024.0,
                (r["hwm_kb"] or 0) / 1024.0, r["total"] / MiB, r["samples"]))


def show(path):
    for l in open(path):
        print(line(json.loads(l)))


def med(rows, key, scale=1.0):
    vals = [r[key] / scale for r in rows if r[key] is not None]
    if not vals:
        return None, "-"
    m = statistics.median(vals)
    return m, "%.2f (%.2f-%.2f)" % (m, min(vals), max(vals))


def table(path):
    rows = [json.loads(l) for l in open(path)]
    modes = []
    for r in rows:
        if r["mode"] not in modes:
            modes.append(r["mode"])
    cols = [("downtime s", "downtime", 1), ("stop s", "stop", 1),
            ("to trigger s", "to_trigger", 1), ("to PID 1 s", "to_pid1", 1), ("to serving s", "to_serve", 1),
            ("to reboot s", "to_end", 1), ("ramfs MiB", "ramfs", MiB),
            ("tmpfs-bundle MiB", "tmpfs", MiB),
            ("stage-2 anon MiB", "anon_kb", 1024.0),
            ("stage-2 VmHWM MiB", "hwm_kb", 1024.0), ("total MiB", "total", MiB)]
    print("| mode | runs | " + " | ".join(c[0] for c in cols) + " |")
    print("|---" * (len(cols) + 2) + "|")
    meds = {}
    for mode in modes:
        mr = [r for r in rows if r["mode"] == mode]
        cells = []
        for _, key, scale in cols:
            m, s = med(mr, key, scale)
            meds[(mode, key)] = m
            cells.append(s)
        print("| %s | %d | %s |" % (mode, len(mr), " | ".join(cells)))
    if "peer" in modes:
        for mode in modes:
            if mode == "peer":
                continue
            ratios = []
            for name, key in (("downtime", "downtime"), ("ramfs", "ramfs"),
                              ("anon", "anon_kb"), ("total", "total")):
                a, b = meds.get((mode, key)), meds.get(("peer", key))
                ratios.append("%s %.2f" % (name, a / b) if a and b else "%s -" % name)
            print("ratio %s/peer (medians): %s" % (mode, ", ".join(ratios)))
    cb = [r["closure_bytes"] for r in rows if r["closure_bytes"]]
    if cb:
        print("closure_bytes (stage 1's plan): %.2f MiB" % (statistics.median(cb) / MiB))
    self = [r["self"] for r in rows if r.get("self")]
    if self:
        print("stage 2's own memory line before reboot (median kB): " + ", ".join(
            "%s %d" % (k, statistics.median(s[k] for s in self if k in s))
            for k in self[0]))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "one":
        one(*sys.argv[2:9])
    elif cmd == "show":
        show(sys.argv[2])
    elif cmd == "table":
        table(sys.argv[2])
    else:
        sys.exit("usage: handover-sum.py one|show|table ...")
