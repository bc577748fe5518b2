#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Load beside an upload (test/bench/load.sh runs this; see there).

load.py PORT TOKEN CA BUNDLE DAEMON_PID SECONDS SLOW_ADDRS

1. unloaded: seven PUT /bundle of BUNDLE with curl, median time;
2. loaded: 100 /status pollers (one keep-alive TLS connection each, one
   request a second, like the web UI) and 20 /events readers, while
   uploads run back to back for SECONDS; their median, the pollers' and
   readers' errors;
3. slowloris: 200 connections spread over SLOW_ADDRS loopback addresses
   (half open TCP that send nothing, half TLS that dribble one header
   line every 5 s), then one upload from 127.0.0.1 must succeed.
The daemon's memory (VmRSS, VmHWM, smaps_rollup Pss and Private_Dirty)
is read after each phase, and the daemon's CPU seconds (utime+stime)
in each upload phase. LOAD_NICE=N runs the pollers and readers at nice
N and the uploads at the caller's priority (separates the load
generator's own CPU, on the same cores, from the daemon's contention);
LOAD_CPU=N keeps the pollers and readers on CPU N, the uploads on all.
Prints one JSON object.
"""
import os
import http.client
import json
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

port, token, ca, bundle, dpid, secs, naddr = sys.argv[1:8]
UNLOADED = 7	# uploads alone: the noise of 3 was as large as the effect
port, dpid, secs, naddr = int(port), int(dpid), int(secs), int(naddr)
auth = {"Authorization": "Bearer " + token}
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False


def memory():
    out = {}
    for line in open(f"/proc/{dpid}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0])
    for line in open(f"/proc/{dpid}/smaps_rollup"):
        k, _, v = line.partition(":")
        if k in ("Pss", "Private_Dirty"):
            out[k] = int(v.split()[0])
    return {k + "_kB": v for k, v in out.items()}


def cpu_s():
    f = open(f"/proc/{dpid}/stat").read().rpartition(")")[2].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


load_nice = int(os.environ.get("LOAD_NICE", "0"))
if load_nice:
    os.nice(load_nice)
# LOAD_CPU=N: the generator on CPU N only, the uploads on every CPU
all_cpus = os.sched_getaffinity(0)
if os.environ.get("LOAD_CPU"):
    os.sched_setaffinity(0, {int(os.environ["LOAD_CPU"])})


def upload_preexec():
    if load_nice:
        os.nice(-load_nice)
    os.sched_setaffinity(0, all_cpus)


def upload():
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
                        "--cacert", ca, "-H", "Authorization: Bearer " + token,
                        "-T", bundle, f"https://127.0.0.1:{port}/api/v1/bundle"],
                       capture_output=True, text=True,
                       preexec_fn=upload_preexec)
    code, t = r.stdout.split()
    if code != "200":
        raise SystemExit(f"load: upload answered {code}: {r.stderr}")
    return float(t)


stop = threading.Event()
counts = {"polls": 0, "poll_errors": 0, "events": 0, "event_errors": 0}
lock = threading.Lock()


def count(k, n=1):
    with lock:
        counts[k] += n


def poller(i):
    conn = None
    next_t = time.monotonic() + (i % 100) / 100
    while not stop.is_set():
        time.sleep(max(0, next_t - time.monotonic()))
        next_t += 1.0
        try:
            if conn is None:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
            conn.request("GET", "/api/v1/status", headers=auth)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200 or not json.loads(body).get("state"):
                count("poll_errors")
            else:
                count("polls")
        except Exception:
            count("poll_errors")
            conn = None


def reader(i):
    try:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=secs + 30)
        conn.request("GET", "/api/v1/events", headers=auth)
        r = conn.getresponse()
        if r.status != 200:
            count("event_errors")
            return
        while not stop.is_set():
            line = r.fp.readline()
            if not line:
                if not stop.is_set():
                    count("event_errors")
                return
            if line.startswith(b"data:"):
                count("events")
    except Exception:
        if not stop.is_set():
            count("event_errors")


def loaded():
    threads = [threading.Thread(target=poller, args=(i,), daemon=True) for i in range(100)]
    threads += [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(20)]
    for t in threads:
        t.start()
    time.sleep(2)
    times, end = [], time.monotonic() + secs
    while time.monotonic() < end:
        times.append(upload())
    stop.set()
    return times


def slowloris():
    socks = []
    for i in range(200):
        addr = f"127.0.0.{2 + i % naddr}"
        s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                     source_address=(addr, 0))
        if i % 2:
            s = ctx.wrap_socket(s)
            s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    return socks


def dribble(socks, until):
    while time.monotonic() < until and not stop2.is_set():
        for s in socks:
            if isinstance(s, ssl.SSLSocket):
                try:
                    s.sendall(b"X-a: b\r\n")
                except OSError:
                    pass
        stop2.wait(5)


result = {"mem_idle": memory()}
c0 = cpu_s()
result["unloaded_s"] = statistics.median(upload() for _ in range(UNLOADED))
result["daemon_cpu_s_per_upload_unloaded"] = (cpu_s() - c0) / UNLOADED
c0 = cpu_s()
times = loaded()
result["daemon_cpu_s_per_upload_loaded"] = (cpu_s() - c0) / len(times)
result["loaded_s"] = statistics.median(times)
result["loaded_uploads"] = len(times)
result["throughput_ratio"] = result["unloaded_s"] / result["loaded_s"]
result.update(counts)
result["mem_loaded"] = memory()
stop2 = threading.Event()
socks = slowloris()
time.sleep(1)
open_before = sum(1 for s in socks if s.fileno() >= 0)
dr = threading.Thread(target=dribble, args=(socks, time.monotonic() + 600), daemon=True)
dr.start()
try:
    result["slowloris_upload_s"] = upload()
except SystemExit as e:
    result["slowloris_upload_s"] = None
    result["slowloris_error"] = str(e)
result["mem_slowloris"] = memory()
stop2.set()
for s in socks:
    s.close()
result["slowloris_connections"] = open_before
print(json.dumps(result, indent=1))
