#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Read the UBI headers of a raw flash image, for test/vm/ubi.sh.

  ubi-pebs.py dump IMAGE PEBSIZE > LIST
      one line per PEB: "PEB EC IMAGE_SEQ VOL_ID LNUM SQNUM SHA256",
      with "-" for a PEB without an EC header ("UBI#") or without a VID
      header ("UBI!"); SHA256 is of the whole PEB.
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
  ubi-pebs.py updated BEFORE AFTER VOL_ID [MAX_RISE]
      show that volume VOL_ID was rewritten by volume updates, each of
      which (ubi_start_update) unmaps every LEB of the volume and waits
      for the old PEBs' erasure (ubi_wl_flush) before the first byte is
      written, and then writes each LEB into a PEB from the free pool,
      which holds only erased PEBs:
        * every PEB that held a LEB of the volume before has a higher
          erase counter now (the update erased it);
        * every PEB that holds a LEB of the volume now was erased since:
          its erase counter went up, or it was erased flash without an
          EC header before, and now has one above the mean erase counter
          of the image before (the guest's UBI erased it at attach time
          and gave it the mean plus one);
        * with MAX_RISE, no such PEB's erase counter rose by more than
          MAX_RISE (from its EC before, or from the mean for erased
          flash): one update erases each PEB once, a file system's own
          writes on the volume may add one or two.
      Prints how many of those PEBs rose by how much.
  ubi-pebs.py volume IMAGE PEBSIZE VOL_ID FILE
      read volume VOL_ID from the LEBs in IMAGE (the copy with the
      highest sequence number when a LEB is found twice, as UBI's attach
      takes it) and show that it holds FILE: its LEBs are 0..N-1 without
      a gap, their first bytes have FILE's SHA-256, and the bytes after
      FILE, to the end of the last LEB, are 0xFF (erased).
  ubi-pebs.py lebs IMAGE PEBSIZE VOL_ID LENGTH
      print the LEB numbers of volume VOL_ID found in IMAGE, and the
      SHA-256 of the volume's first LENGTH bytes as a reader would see
      them if UBI let it (an unmapped LEB reads as 0xFF), on one line:
      "LNUM... SHA256".

EC header: magic "UBI#", version, 3 bytes padding, EC (be64) at 8,
VID header offset (be32) at 16, data offset at 20, image seq at 24.
VID header: magic "UBI!", version, vol_type, copy_flag, compat, vol_id
(be32) at 8, lnum (be32) at 12, data_size (be32) at 20, sqnum (be64)
at 40.
"""
import hashlib
import struct
import sys


def headers(blk):
    """(EC, image seq, (vol_id, lnum, sqnum, vol_type, data_size) or
    None, data offset) of one PEB; EC and image seq None without an EC
    header."""
    if blk[:4] != b'UBI#':
        return None, None, None, None
    ec, vid_off, data_off, seq = struct.unpack('>QIII', blk[8:28])
    vid = blk[vid_off:vid_off + 64]
    if vid[:4] != b'UBI!':
        return ec, seq, None, data_off
    vol_type = vid[5]
    vol, lnum = struct.unpack('>II', vid[8:16])
    size, = struct.unpack('>I', vid[20:24])
    sqnum, = struct.unpack('>Q', vid[40:48])
    return ec, seq, (vol, lnum, sqnum, vol_type, size), data_off


def dump(path, peb):
    with open(path, 'rb') as f:
        n = 0
        while True:
            blk = f.read(peb)
            if len(blk) < peb:
                break
            ec, seq, vid, _ = headers(blk)
            vol, lnum, sqnum = vid[:3] if vid else ('-', '-', '-')
            print(n, ec if ec is not None else '-',
                  seq if seq is not None else '-', vol, lnum, sqnum,
                  hashlib.sha256(blk).hexdigest())
            n += 1


def load(path):
    pebs = {}
    with open(path) as f:
        for line in f:
            peb, ec, seq, vol, lnum, sqnum, sha = line.split()
            pebs[int(peb)] = (ec, seq, vol, lnum, sha, sqnum)
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


def updated(before_path, after_path, vol, max_rise=None):
    before, after = load(before_path), load(after_path)
    ecs = [int(b[0]) for b in before.values() if b[0] != '-']
    mean = sum(ecs) // len(ecs)
    old = sorted(p for p in before if before[p][2] == vol)
    new = sorted(p for p in after if after[p][2] == vol)
    if not old:
        fail('no PEB of volume %s in the image before' % vol)
    if not new:
        fail('no PEB of volume %s in the image after' % vol)
    for p in old:
        if after[p][0] == '-' or int(after[p][0]) <= int(before[p][0]):
            fail('PEB %d held LEB %s of volume %s before, with EC %s, and '
                 'has EC %s now: the update did not erase it'
                 % (p, before[p][3], vol, before[p][0], after[p][0]))
    fresh = 0
    for p in new:
        b, a = before[p][0], int(after[p][0])
        if b == '-':
            if a <= mean:
                fail('PEB %d (LEB %s of volume %s now) was erased flash '
                     'before and has EC %d now, not above the mean %d: '
                     'UBI did not erase it' % (p, after[p][3], vol, a, mean))
            fresh += 1
        elif a <= int(b):
            fail('PEB %d holds LEB %s of volume %s now, but its EC is '
                 'still %s: written without an erase'
                 % (p, after[p][3], vol, b))
    print('ubi-pebs: volume %s: its %d PEBs before (%s) were all erased '
          '(EC up); its %d PEBs now (%s) were all erased since (%d of them '
          'erased flash before, now above the mean EC %d)'
          % (vol, len(old), ' '.join(map(str, old)), len(new),
             ' '.join(map(str, new)), fresh, mean))
    rises = {}
    for p in sorted(set(old) | set(new)):
        b = before[p][0]
        rise = int(after[p][0]) - (mean if b == '-' else int(b))
        rises[rise] = rises.get(rise, 0) + 1
        if max_rise is not None and rise > max_rise:
            fail('PEB %d of volume %s: its EC rose by %d, more than %d'
                 % (p, vol, rise, max_rise))
    print('ubi-pebs: volume %s: EC rise: %s' % (vol, ', '.join(
        '+%d: %d PEBs' % (k, v) for k, v in sorted(rises.items()))))


def read_lebs(path, peb, vol):
    """{lnum: data} of volume VOL in the image, the copy with the highest
    sqnum of a LEB found twice; and the LEB size."""
    lebs, leb_size = {}, None
    with open(path, 'rb') as f:
        while True:
            blk = f.read(peb)
            if len(blk) < peb:
                break
            _, _, vid, data_off = headers(blk)
            if not vid or vid[0] != vol:
                continue
            _, lnum, sqnum, vol_type, size = vid
            leb_size = peb - data_off
            # static volumes (type 2) say how many bytes the LEB holds
            data = blk[data_off:data_off + size] if vol_type == 2 \
                else blk[data_off:]
            if lnum not in lebs or lebs[lnum][0] < sqnum:
                lebs[lnum] = (sqnum, data)
    return {n: d for n, (_, d) in lebs.items()}, leb_size


def volume(path, peb, vol, want_path):
    lebs, _ = read_lebs(path, peb, vol)
    if not lebs:
        fail('no LEB of volume %d in %s' % (vol, path))
    if sorted(lebs) != list(range(len(lebs))):
        fail('volume %d has LEBs %s: not 0..%d without a gap'
             % (vol, sorted(lebs), len(lebs) - 1))
    got = b''.join(lebs[n] for n in range(len(lebs)))
    want = open(want_path, 'rb').read()
    head = hashlib.sha256(got[:len(want)]).hexdigest()
    if head != hashlib.sha256(want).hexdigest():
        fail('volume %d: its first %d bytes in %s have SHA-256 %s, not '
             'that of %s' % (vol, len(want), path, head, want_path))
    if got[len(want):].strip(b'\xff'):
        fail('volume %d: after the %d bytes of %s, its LEBs hold data, '
             'not 0xFF' % (vol, len(want), want_path))
    print('ubi-pebs: volume %d in %s: LEBs 0..%d hold %s (SHA-256 %s), '
          'then %d bytes of 0xFF' % (vol, path, len(lebs) - 1, want_path,
                                    head[:16], len(got) - len(want)))


def lebs_sha(path, peb, vol, length):
    lebs, leb_size = read_lebs(path, peb, vol)
    if not lebs:
        fail('no LEB of volume %d in %s' % (vol, path))
    n = (length + leb_size - 1) // leb_size
    got = b''.join(lebs.get(i, b'\xff' * leb_size) for i in range(n))
    print(' '.join(map(str, sorted(lebs))),
          hashlib.sha256(got[:length]).hexdigest())


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'dump':
        dump(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == 'compare':
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == 'updated':
        updated(sys.argv[2], sys.argv[3], sys.argv[4],
                int(sys.argv[5]) if len(sys.argv) == 6 else None)
    elif len(sys.argv) == 6 and sys.argv[1] == 'volume':
        volume(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 6 and sys.argv[1] == 'lebs':
        lebs_sha(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                 int(sys.argv[5]))
    else:
        sys.exit(__doc__)
