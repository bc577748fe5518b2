#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""check.py LOGDIR: judge memcheck's logs (vg.PID.log) of one test run.

A process passes when its log reports no error, a definite leak counting
as one (--errors-for-leak-kinds=definite), and no system call valgrind
does not know (the program would take another path than on a kernel)
but openat2 (KNOWN_UNHANDLED).

Forked children need two exceptions, both because a fork copies only the
forking thread:
 - a child that exec()s another program (mkfs, reboot_command) leaves a
   log without a summary: accepted when it reports no error;
 - a child's leak check also sees the parent's heap, where blocks held
   only by the parent's other threads (an MHD connection's TLS buffer)
   look definitely lost. A child's definite leak counts when its
   allocation stack runs through the child's own code (CHILD_CODE:
   tar.c's extract(), the only fork that runs on without exec), so a
   block the child allocated and did not free still fails the test.
Prints one line per failing log and the log itself; exits 1 if any.
"""
import glob
import os
import re
import sys

# openat2 (437): valgrind 3.19 (Debian 12) answers ENOSYS, as a kernel
# before 5.6 would; beneath_open() then walks the path itself (its
# unit test, test_beneath, drives that walk on any kernel).
KNOWN_UNHANDLED = {"437"}
CHILD_CODE = re.compile(r"\bby 0x[0-9A-F]+: extract \(tar\.c:")
logs = sorted(glob.glob(os.path.join(sys.argv[1], "vg.*.log")))
pids = {int(re.search(r"vg\.(\d+)\.log$", p).group(1)) for p in logs}
bad = 0

for path in logs:
    text = open(path, errors="replace").read()
    lines = [re.sub(r"^==\d+== ?", "", l) for l in text.splitlines()]
    m = re.search(r"^==\d+== Parent PID: (\d+)", text, re.M)
    forked = bool(m) and int(m.group(1)) in pids
    s = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    why = []
    unknown = set(re.findall(r"WARNING: unhandled \S+ syscall: (\d+)", text))
    if unknown - KNOWN_UNHANDLED:
        why.append("a system call valgrind does not know: "
                   + ", ".join(sorted(unknown - KNOWN_UNHANDLED)))
    # each report: from a line saying what, to the next blank line
    reports, cur = [], None
    for l in lines:
        if cur is None and l and not l.startswith(" ") and (
                re.match(r"(Invalid|Conditional|Use of|Syscall param|"
                         r"Mismatched|Source and destination|Argument|"
                         r"Jump|Process terminating)", l)
                or "definitely lost in" in l):
            cur = [l]
        elif cur is not None:
            if not l:
                reports.append(cur)
                cur = None
            else:
                cur.append(l)
    leaks = [r for r in reports if "definitely lost in" in r[0]]
    others = [r for r in reports if "definitely lost in" not in r[0]]
    if forked:
        leaks = [r for r in leaks if any(CHILD_CODE.search(x) for x in r)]
    if not s:
        if not forked:
            why.append("no ERROR SUMMARY (killed?)")
        elif others or leaks:
            why.append("errors, and no ERROR SUMMARY")
    else:
        n = int(s.group(1))
        if forked:
            # the summary counts the parent's blocks too: count ours
            inherited = sum(1 for r in reports if "definitely lost in" in r[0]) - len(leaks)
            n -= inherited
        if n:
            why.append(f"{n} errors ({len(leaks)} definite leaks)")
    if why:
        bad += 1
        print(f"FAIL: valgrind: {path}{' (forked child)' if forked else ''}: "
              + "; ".join(why), file=sys.stderr)
        sys.stderr.write(text)
print(f"valgrind: {len(logs)} processes, {bad} with errors")
sys.exit(1 if bad or not logs else 0)
