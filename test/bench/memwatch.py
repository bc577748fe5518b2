#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# memwatch.py PID OUT.json LOG MARKER [EXCLUDE...]: sample the memory of
# PID (a PID namespace's init, seen from the host) and of its
# descendants every 10 ms until PID is gone, for test/bench/handover.sh.
# Each sample: the uptime (the clock /proc/uptime and the console log
# use), PID's VmHWM, VmRSS, RssAnon, RssFile and RssShmem, and for each
# descendant its start time (s since boot) and RssAnon, VmRSS. When a
# line matching the regex MARKER first shows in the file LOG (stage 2
# is writing), the ramfs is measured once through /proc/PID/root, its
# one filesystem only: the bytes its files take (st_blocks, so holes
# are free, as on tmpfs), in all and each, those of the EXCLUDE paths
# (the staged bundle) apart, and statvfs of the tmpfs holding it.
import json
import os
import re
import sys
import time

pid, out, log, marker = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
exclude = sys.argv[5:]
HZ = os.sysconf("SC_CLK_TCK")
FIELDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")


def status(p):
    got = {}
    try:
        with open("/proc/%s/status" % p) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in FIELDS:
                    got[k] = int(v.split()[0])
    except OSError:
        return None
    return got


def start_time(p):
    try:
        with open("/proc/%s/stat" % p) as f:
            s = f.read()
    except OSError:
        return None
    return int(s[s.rindex(")") + 2:].split()[19]) / HZ


def children(p):
    kids = []
    try:
        for t in os.listdir("/proc/%s/task" % p):
            with open("/proc/%s/task/%s/children" % (p, t)) as f:
                kids += f.read().split()
    except OSError:
        pass
    return kids


def descendants(p):
    seen, pending = [], children(p)
    while pending:
        k = pending.pop()
        if k not in seen:
            seen.append(k)
            pending += children(k)
    return seen


def ramfs(root):
    top = os.stat(root).st_dev
    files = excluded = 0
    each = {}
    skip = {os.path.normpath(root + "/" + e) for e in exclude}
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs
                   if os.lstat(os.path.join(d, x)).st_dev == top]
        for n in names:
            path = os.path.join(d, n)
            st = os.lstat(path)
            if path in skip:
                excluded += st.st_blocks * 512
            else:
                files += st.st_blocks * 512
                each[path[len(root):]] = st.st_blocks * 512
    fs = os.statvfs(root)
    return {"files": files, "excluded": excluded, "each": each,
            "tmpfs_used": (fs.f_blocks - fs.f_bfree) * fs.f_frsize}


def uptime():
    return time.clock_gettime(time.CLOCK_BOOTTIME)


samples, measured = [], None
pattern = re.compile(marker)
while os.path.exists("/proc/%s" % pid):
    s = status(pid)
    if s is None:
        break
    kids = []
    for k in descendants(pid):
        ks, kt = status(k), start_time(k)
        if ks is not None and kt is not None:
            kids.append({"start": kt, "anon": ks.get("RssAnon", 0),
                         "rss": ks.get("VmRSS", 0)})
    samples.append({"t": uptime(), "pid1": s, "kids": kids})
    if measured is None:
        try:
            with open(log, errors="replace") as f:
                if pattern.search(f.read()):
                    measured = ramfs("/proc/%s/root" % pid)
        except OSError:
            pass
    time.sleep(0.01)
with open(out, "w") as f:
    json.dump({"samples": samples, "ramfs": measured}, f)
