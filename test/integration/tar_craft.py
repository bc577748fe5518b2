# SPDX-License-Identifier: GPL-2.0-or-later
"""Build and probe tar files for the bundle integration tests.

  tar_craft.py build [--format ustar|gnu|pax] OUT NAME=PATH...
      write OUT with one regular-file member per argument, in order:
      member NAME holds the bytes of PATH. NAME may be anything tar can
      carry (sub/x, ../x, a name given twice); NAME/ with an empty PATH
      adds a directory.
  tar_craft.py offset TAR NAME     data offset of the first member NAME
  tar_craft.py size TAR NAME       size of the first member NAME
  tar_craft.py end TAR             offset of the end-of-archive blocks
  tar_craft.py find FILE TEXT      offset of the first TEXT in FILE
  tar_craft.py flip FILE OFFSET    XOR the byte at OFFSET with 0x01
"""
import io
import sys
import tarfile

FORMATS = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT,
           "pax": tarfile.PAX_FORMAT}


def build(args):
    fmt = tarfile.USTAR_FORMAT
    if args[0] == "--format":
        fmt = FORMATS[args[1]]
        args = args[2:]
    out, members = args[0], args[1:]
    with tarfile.open(out, "w", format=fmt) as tar:
        for spec in members:
            name, path = spec.split("=", 1)
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mode, info.mtime = 0o644, 0
            info.uname = info.gname = "root"
            if name.endswith("/"):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            with open(path, "rb") as f:
                data = f.read()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def member(path, name):
    # Never extract: names like ../x are the point of some tests.
    with tarfile.open(path, "r") as tar:
        for m in tar.getmembers():
            if m.name == name:
                return m
    sys.exit("tar_craft: %s has no member %s" % (path, name))


def end(path):
    with tarfile.open(path, "r") as tar:
        last = tar.getmembers()[-1]
    return last.offset_data + (last.size + 511) // 512 * 512


def find(path, text):
    with open(path, "rb") as f:
        at = f.read().find(text.encode())
    if at < 0:
        sys.exit("tar_craft: %r not found in %s" % (text, path))
    return at


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        if len(b) != 1:
            sys.exit("tar_craft: %s has no byte at %d" % (path, offset))
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "build":
        build(args)
    elif cmd == "offset":
        print(member(args[0], args[1]).offset_data)
    elif cmd == "size":
        print(member(args[0], args[1]).size)
    elif cmd == "end":
        print(end(args[0]))
    elif cmd == "find":
        print(find(args[0], args[1]))
    elif cmd == "flip":
        flip(args[0], int(args[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
