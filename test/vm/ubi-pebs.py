#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Read the UBI headers of a raw flash image, for test/vm/ubi.sh.

  ubi-pebs.py dump IMAGE PEBSIZE > LIST
      one line per PEB: "PEB EC IMAGE_SEQ VOL_ID LNUM SHA256", with "-"
      for a PEB without an EC header ("UBI#") or without a VID header
      ("UBI!"); SHA256 is of the whole PEB.
  ubi-pebs.py compare BEFORE AFTER VOL_ID
      show that AFTER is BEFORE changed by UBI's own work (volume
      updates, creation, renames), not by a reformat:
        * every PEB that had an EC header still has one;
        * no erase counter went down;
        * every EC header carries the image sequence number it had
          (ubiformat writes a new one unless told not to);
        * not every erase counter changed (ubiformat adds one to all);
        * each PEB of volume VOL_ID, which nobody wrote, is unchanged
          to the byte (same EC, same LEB, same data).
      Prints a summary; exits 1 with the reason when one fails.

EC header: magic "UBI#", version, 3 bytes padding, EC (be64) at 8,
VID header offset (be32) at 16, data offset at 20, image seq at 24.
VID header: magic "UBI!", version, vol_type, copy_flag, compat, vol_id
(be32) at 8, lnum (be32) at 12.
"""
import hashlib
import struct
import sys


def dump(path, peb):
    with open(path, 'rb') as f:
        n = 0
        while True:
            blk = f.read(peb)
            if len(blk) < peb:
                break
            ec = seq = vol = lnum = '-'
            if blk[:4] == b'UBI#':
                ec, vid_off, _, seq = struct.unpack('>QIII', blk[8:28])
                vid = blk[vid_off:vid_off + 16]
                if vid[:4] == b'UBI!':
                    vol, lnum = struct.unpack('>II', vid[8:16])
            print(n, ec, seq, vol, lnum, hashlib.sha256(blk).hexdigest())
            n += 1


def load(path):
    pebs = {}
    with open(path) as f:
        for line in f:
            peb, ec, seq, vol, lnum, sha = line.split()
            pebs[int(peb)] = (ec, seq, vol, lnum, sha)
    return pebs


def fail(msg):
    print('ubi-pebs: ' + msg)
    sys.exit(1)


def compare(before_path, after_path, keep_vol):
    before, after = load(before_path), load(after_path)
    if set(before) != set(after):
        fail('the images differ in PEB count')
    seqs = {b[1] for b in before.values() if b[0] != '-'}
    if len(seqs) != 1:
        fail('the image before has image sequence numbers %s' % seqs)
    had = [p for p in before if before[p][0] != '-']
    changed = kept = 0
    for p in sorted(before):
        b, a = before[p], after[p]
        if b[0] != '-' and a[0] == '-':
            fail('PEB %d lost its EC header' % p)
        if a[0] == '-':
            continue
        if a[1] not in seqs:
            fail('PEB %d has image sequence %s, not %s: reformatted'
                 % (p, a[1], seqs))
        if b[0] == '-':
            continue
        if int(a[0]) < int(b[0]):
            fail('PEB %d: erase counter went down from %s to %s'
                 % (p, b[0], a[0]))
        changed += a[0] != b[0]
        if b[2] == keep_vol:
            if a != b:
                fail('PEB %d of the untouched volume %s changed: %s -> %s'
                     % (p, keep_vol, b, a))
            kept += 1
    if not kept:
        fail('no PEB of volume %s in the image before' % keep_vol)
    if changed == len(had):
        fail('every one of the %d erase counters changed: reformatted'
             % changed)
    print('ubi-pebs: %d PEBs had EC headers; all still do, with image '
          'sequence %s; no EC went down; %d ECs went up; the %d PEBs of '
          'volume %s are unchanged to the byte'
          % (len(had), seqs.pop(), changed, kept, keep_vol))
    ecs = {}
    for a in after.values():
        ecs[a[0]] = ecs.get(a[0], 0) + 1
    print('ubi-pebs: EC histogram after: %s'
          % ', '.join('%s: %d' % (k, v) for k, v in sorted(ecs.items())))


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'dump':
        dump(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == 'compare':
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
