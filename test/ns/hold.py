#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ns.inplace-busy's holder: keep a file open, which pins its mount.

  hold.py PATH CONSOLE UNTIL LOG
      open PATH, write "holding PATH: <its first line>" to LOG, and hold
      it until the file UNTIL exists or, with UNTIL "-", until CONSOLE
      says that stage 2 found the old root busy; 120 s at most (then
      "never told to let go"). Then close it and write "let go".
"""
import os
import sys
import time


def told(console, until):
    if until != '-':
        return os.path.exists(until)
    with open(console, errors='replace') as c:
        return 'under /oldroot busy; trying again' in c.read()


def main(path, console, until, out):
    held = open(path)
    with open(out, 'w') as log:
        print('holding %s: %s' % (path, held.readline().strip()), file=log, flush=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not told(console, until):
            time.sleep(0.05)
        if not told(console, until):
            print('never told to let go', file=log, flush=True)
        held.close()
        print('let go', file=log, flush=True)


if __name__ == '__main__':
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
