#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# follow-events.py URL TOKEN CAFILE OUT SECONDS: follow GET /events like
# a web UI across the handover: on every disconnect reconnect (every
# 0.2 s) with Last-Event-ID, until a "rebooting" state was seen and the
# server is gone, or SECONDS passed. OUT gets one line per event:
# "ID STATE CONNECTION".
import json, ssl, sys, time, urllib.request

url, token, cafile, out, limit = sys.argv[1:6]
deadline = time.monotonic() + float(limit)
ctx = ssl.create_default_context(cafile=cafile)
last = None
conn = 0
rebooting = False
with open(out, "w", buffering=1) as f:
    while time.monotonic() < deadline:
        headers = {"Authorization": "Bearer " + token}
        if last is not None:
            headers["Last-Event-ID"] = str(last)
        try:
            req = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
                conn += 1
                ev_id = None
                for raw in r:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("id: "):
                        ev_id = int(line[4:])
                    elif line.startswith("data: ") and ev_id is not None:
                        state = json.loads(line[6:])["state"]
                        f.write("%d %s %d\n" % (ev_id, state, conn))
                        last = ev_id
                        rebooting |= state == "rebooting"
        except Exception:
            if rebooting:
                break
        time.sleep(0.2)
