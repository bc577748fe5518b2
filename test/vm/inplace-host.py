#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host side of test/vm/inplace.sh: talk to a guest through qemu's
forwarded loopback ports.

  inplace-host.py port
      print a free TCP port on 127.0.0.1
  inplace-host.py info URL CAFILE VERSION SECONDS PID T0 OUT
      poll GET URL (/api/v1/info, over HTTPS, CAFILE) every 0.1 s until
      it answers with "version" VERSION; write that answer to OUT.
      Prints a timeline, one line per change of what /info says
      ("version state", or "down" while nothing answers), in seconds
      since T0 (a time.time() value, e.g. `date +%s.%N`). Fails after
      SECONDS, or when process PID (the VM's run.sh) has ended.
  inplace-host.py knock PORT SECONDS
      connect to 127.0.0.1:PORT until the guest's listener answers
      "done" (qemu accepts a forwarded connection at once and drops it
      while nothing listens in the guest), for up to SECONDS.
"""
import json
import os
import socket
import ssl
import sys
import time
import urllib.request


def fail(msg):
    print('inplace-host: ' + msg)
    sys.exit(1)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def info(url, cafile, version, limit, pid, t0, out):
    ctx = ssl.create_default_context(cafile=cafile)
    deadline = time.monotonic() + limit
    last = None
    while True:
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=3) as r:
                body = r.read()
            got = json.loads(body)
            now = (got.get('version'), got.get('state'))
        except (OSError, ValueError) as e:
            got, now = None, ('down', type(e).__name__)
        if now != last:
            print('inplace-host: %7.2f s  /info: %s %s'
                  % (time.time() - t0, now[0], now[1]), flush=True)
            last = now
        if got and got.get('version') == version:
            with open(out, 'wb') as f:
                f.write(body)
            return
        if time.monotonic() > deadline:
            fail('/info did not answer version %s within %d s'
                 % (version, limit))
        if not alive(pid):
            fail('the VM ended before /info answered version %s' % version)
        time.sleep(0.1)


def knock(port, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(('127.0.0.1', port), 3) as s:
                s.settimeout(3)
                if s.recv(16).startswith(b'done'):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    fail('nothing answered on port %d within %d s' % (port, limit))


if __name__ == '__main__':
    a = sys.argv[1:]
    if a == ['port']:
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        print(s.getsockname()[1])
    elif len(a) == 8 and a[0] == 'info':
        info(a[1], a[2], a[3], float(a[4]), int(a[5]), float(a[6]), a[7])
    elif len(a) == 3 and a[0] == 'knock':
        knock(int(a[1]), float(a[2]))
    else:
        sys.exit(__doc__)
