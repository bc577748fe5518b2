# SPDX-License-Identifier: GPL-2.0-or-later
"""Raw clients and hostile tar members for test/hostile/ (stdlib only).

  hostile.py raw [--plain] [--host H] [--source A] [--half-close] PORT REQ
      send the bytes of file REQ on one connection (TLS unless --plain),
      read until the server closes (10 s at most) and print one line per
      HTTP response: "STATUS ERROR" (ERROR: the JSON "error", or "-");
      "closed" when nothing came back. The raw answer goes to ./raw.out.
  hostile.py stream [--plain] [--chunked] PORT HEAD TOTAL
      send the header file HEAD, then TOTAL bytes of zeros (chunked when
      asked), reading meanwhile; stop sending once an answer arrives.
      Prints "STATUS ERROR SENT" (SENT: body bytes sent).
  hostile.py hello PORT VERSION
      a bare ClientHello offering only VERSION (ssl3, tls1.0, tls1.1,
      tls1.2); prints "alert LEVEL DESCRIPTION", "server_hello" or
      "closed" (no byte came back).
  hostile.py tar KIND OUT
      a bundle of ./manifest.json, ./manifest.json.sig, ./payload.img
      whose payload member is hostile (see KINDS).
  hostile.py manifest KIND OUT
      a manifest.json variant, from ./manifest.json.
"""
import json
import os
import select
import socket
import ssl
import struct
import sys
import tarfile
import time

# ---------------------------------------------------------------- clients


def connect(port, plain, host="127.0.0.1", source=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    if source:
        s.bind((source, 0))
    s.connect((host, port))
    if plain:
        return s
    ctx = ssl.create_default_context(cafile="server.pem")
    ctx.check_hostname = False
    return ctx.wrap_socket(s, server_hostname=host)


def read_all(s, timeout=10):
    data = b""
    end = time.time() + timeout
    while time.time() < end:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            break
        if not b:
            break
        data += b
    return data


def responses(data):
    """[(status, error)] of the HTTP responses in data."""
    out = []
    while data.startswith(b"HTTP/1."):
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            out.append((int(head.split(b" ")[1]), "-"))
            break
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        hdr = {}
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            hdr[k.strip().lower()] = v.strip()
        if b"content-length" in hdr:
            n = int(hdr[b"content-length"])
            body, data = rest[:n], rest[n:]
        elif hdr.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = b""
            while True:
                line, _, rest = rest.partition(b"\r\n")
                n = int(line.split(b";")[0] or b"0", 16)
                body += rest[:n]
                rest = rest[n + 2:]
                if n == 0:
                    break
            data = rest
        else:
            body, data = rest, b""
        err = "-"
        if hdr.get(b"content-type", b"").startswith(b"application/json"):
            try:
                err = json.loads(body).get("error") or "-"
            except ValueError:
                err = "not-json"
        out.append((status, err))
    return out


def opts(args, names):
    o = {}
    while args and args[0].startswith("--"):
        k = args.pop(0)[2:]
        o[k] = args.pop(0) if names.get(k) else True
    return o, args


def cmd_raw(args):
    o, args = opts(args, {"host": 1, "source": 1})
    port, req = int(args[0]), open(args[1], "rb").read()
    s = connect(port, o.get("plain"), o.get("host", "127.0.0.1"), o.get("source"))
    try:
        s.sendall(req)
        if o.get("half-close"):
            (s if o.get("plain") else s).shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        pass
    data = read_all(s)
    open("raw.out", "wb").write(data)
    r = responses(data)
    if not r:
        print("closed")
    for status, err in r:
        print(status, err)


def cmd_stream(args):
    o, args = opts(args, {})
    port, head, total = int(args[0]), open(args[1], "rb").read(), int(args[2])
    s = connect(port, o.get("plain"))
    s.sendall(head)
    s.setblocking(False)
    block = b"\0" * 65536
    if o.get("chunked"):
        block = b"%x\r\n" % len(block) + block + b"\r\n"
    sent, got = 0, b""
    end = time.time() + 120
    while time.time() < end:
        r, w, _ = select.select([s], [s] if sent < total else [], [], 1)
        if r:
            try:
                b = s.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                b = None
            except (ConnectionResetError, ssl.SSLError, OSError):
                break
            if b == b"":
                break
            if b:
                got += b
                if b"\r\n\r\n" in got:
                    break	# an answer: stop sending
        if w:
            try:
                n = s.send(block)
                sent += 65536 if o.get("chunked") else n
            except (ssl.SSLWantWriteError, BlockingIOError):
                pass
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                w = None
    s.setblocking(True)
    s.settimeout(2)
    got += read_all(s, 2)
    open("raw.out", "wb").write(got)
    r = responses(got)
    status, err = r[0] if r else ("closed", "-")
    print(status, err, sent)


VERSIONS = {"ssl3": 0x0300, "tls1.0": 0x0301, "tls1.1": 0x0302, "tls1.2": 0x0303}
ALERTS = {40: "handshake_failure", 70: "protocol_version", 47: "illegal_parameter",
          50: "decode_error", 80: "internal_error", 71: "insufficient_security"}


def client_hello(version):
    suites = [0xc02b, 0xc02f, 0xc009, 0xc013, 0xc00a, 0xc014, 0x002f, 0x0035, 0x000a]
    body = struct.pack(">H", version) + os.urandom(32) + b"\0"
    body += struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", c) for c in suites)
    body += b"\x01\x00"
    ext = b""
    if version >= 0x0301:
        groups = struct.pack(">HHH", 4, 23, 24)
        ext += struct.pack(">HH", 10, len(groups)) + groups	# supported_groups
        ext += struct.pack(">HHBB", 11, 2, 1, 0)		# ec_point_formats
        host = b"127.0.0.1"
        sni = struct.pack(">HBH", len(host) + 3, 0, len(host)) + host
        ext += struct.pack(">HH", 0, len(sni)) + sni
        if version == 0x0303:
            sa = struct.pack(">HHHH", 6, 0x0403, 0x0804, 0x0401)
            ext += struct.pack(">HH", 13, len(sa)) + sa
        body += struct.pack(">H", len(ext)) + ext
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16" + struct.pack(">HH", min(version, 0x0301), len(hs)) + hs


def cmd_hello(args):
    port, version = int(args[0]), VERSIONS[args[1]]
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(client_hello(version))
    data = read_all(s, 10)
    if not data:
        print("closed")
    elif data[0] == 0x15 and len(data) >= 7:
        print("alert", {1: "warning", 2: "fatal"}.get(data[5], data[5]),
              ALERTS.get(data[6], data[6]))
    elif data[0] == 0x16 and len(data) >= 6 and data[5] == 2:
        print("server_hello")
    else:
        print("other", data[:16].hex())


# ---------------------------------------------------------------- tars


def ustar(name, size, typ=b"0", size_field=None, extra=b""):
    """One 512-byte ustar header; size_field replaces the 12-byte size."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = h[116:124] = b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = typ
    h[257:265] = b"ustar\x0000"
    h[265:269] = b"root"
    h[297:301] = b"root"
    h[345:345 + len(extra)] = extra
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def member(name, data, **kw):
    return ustar(name, len(data), **kw) + data + b"\0" * (-len(data) % 512)


def pax_record(key, value):
    rec = b" %s=%s\n" % (key, value)
    n = len(rec) + 1
    while len(b"%d" % n) + len(rec) != n:
        n = len(b"%d" % n) + len(rec)
    return b"%d" % n + rec


def head_members():
    m = open("manifest.json", "rb").read()
    s = open("manifest.json.sig", "rb").read()
    return member(b"manifest.json", m) + member(b"manifest.json.sig", s)


def base256(n):
    """A 12-byte GNU base-256 field (two's complement, high bit set)."""
    b = (n & ((1 << 95) - 1)).to_bytes(12, "big")
    return bytes([b[0] | 0x80]) + b[1:]


def cmd_tar(args):
    kind, out = args
    p = open("payload.img", "rb").read()
    tail = b"\0" * 1024
    if kind == "pax-huge":
        # a pax header of 8 MiB of comment records before the payload
        rec = pax_record(b"comment", b"x" * 1000)
        pax = rec * (8 * 1024 * 1024 // len(rec))
        body = member(b"PaxHeader/payload.img", pax, typ=b"x") + member(b"payload.img", p)
    elif kind == "pax-size":
        # a pax size record of 2^70 for the payload
        pax = pax_record(b"size", b"%d" % (1 << 70))
        body = member(b"PaxHeader/payload.img", pax, typ=b"x") + member(b"payload.img", p)
    elif kind == "long-name":
        # a pax path of 60 KiB for a member that follows the payload
        pax = pax_record(b"path", b"a" * 60000)
        body = member(b"payload.img", p) + member(b"PaxHeader/x", pax, typ=b"x") + \
            member(b"x", b"hello")
    elif kind == "gnu-longname":
        body = member(b"payload.img", p) + member(b"././@LongLink", b"b" * 5000 + b"\0", typ=b"L") + \
            member(b"y", b"hello")
    elif kind == "sparse":
        # GNU sparse (type S): one map entry claiming 1 GiB
        sp = b"%011o\0" % 0 + b"%011o\0" % len(p)
        extra = sp  # first sparse entry lives at offset 386 in the old GNU header
        h = bytearray(ustar(b"payload.img", len(p), typ=b"S"))
        h[257:265] = b"ustar  \0"
        h[386:386 + len(extra)] = extra
        h[483:495] = b"%011o\0" % (1 << 30)
        h[148:156] = b" " * 8
        h[148:156] = b"%06o\0 " % sum(h)
        body = bytes(h) + p + b"\0" * (-len(p) % 512)
    elif kind == "size-overflow":
        # base-256 size of 2^88: beyond any 64-bit length
        body = ustar(b"payload.img", 0, size_field=base256(1 << 88)) + p
    elif kind == "size-negative":
        body = ustar(b"payload.img", 0, size_field=base256(-1)) + p
    elif kind == "size-octal-garbage":
        body = ustar(b"payload.img", 0, size_field=b"99999999999\0") + p
    elif kind == "bad-checksum":
        h = bytearray(ustar(b"payload.img", len(p)))
        h[148:156] = b"000000\0 "
        body = bytes(h) + p + b"\0" * (-len(p) % 512)
    elif kind == "symlink":
        body = member(b"payload.img", p) + ustar(b"link", 0, typ=b"2")
    elif kind == "trailing":
        body = member(b"payload.img", p) + tail + os.urandom(4096)
        tail = b""
    else:
        sys.exit("hostile.py: no tar kind " + kind)
    with open(out, "wb") as f:
        f.write(head_members() + body + tail)


def cmd_manifest(args):
    kind, out = args
    text = open("manifest.json", "rb").read()
    j = json.loads(text)
    if kind == "non-utf8":
        b = text.replace(b"test bundle", b"test \xff\xfe bundle")
    elif kind == "deep":
        b = text.rstrip().rstrip(b"}") + b', "x": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    elif kind == "duplicate-key":
        # the first "version" is the one a reader that keeps the first sees
        b = text.replace(b'"format": 1,', b'"format": 1, "version": "0.0.1",', 1)
    elif kind == "size-huge":
        b = text.replace(b'"size": %d' % j["images"][0]["size"],
                         b'"size": 99999999999999999999999')
    elif kind == "size-float":
        b = text.replace(b'"size": %d' % j["images"][0]["size"], b'"size": 1e400')
    elif kind == "size-negative":
        b = text.replace(b'"size": %d' % j["images"][0]["size"], b'"size": -1')
    elif kind == "long-file":
        name = b"p" * 5000
        b = text.replace(b'"file": "payload.img"', b'"file": "' + name + b'"')
    elif kind == "declares-5g":
        b = text.replace(b'"size": %d' % j["images"][0]["size"], b'"size": %d' % (5 << 30))
    else:
        sys.exit("hostile.py: no manifest kind " + kind)
    if b == text:
        sys.exit("hostile.py: manifest kind %s changed nothing" % kind)
    open(out, "wb").write(b)


def main(argv):
    cmds = {"raw": cmd_raw, "stream": cmd_stream, "hello": cmd_hello,
            "tar": cmd_tar, "manifest": cmd_manifest}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    main(sys.argv)
