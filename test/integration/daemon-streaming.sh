#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# sysupgraded against clients that do not wait: an upload refused before
# its body (401, 429, 409, 413) reaches a client that writes the whole
# body before it reads, without Expect: 100-continue, 100 tries of 100
# for each code, half of them with the answer's first transmission
# lost; while
# mid-body refusals linger in their staged close, /status on the same
# listener is served as fast as outside them; and clients trickling request headers from two addresses
# neither take every connection nor keep theirs past the header deadline.
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"

daemon_init
mount_staging 64M
CONF_STAGING="max_size = 16M"
CONF_TIMEOUT=120
write_config
daemon_start
make_bundle v2.tar 2.0.0

# streamed CODE ERROR TRIES SOURCE-ADDRESSES [HEADER...]: TRIES POSTs,
# each from the next of SOURCE-ADDRESSES (a comma list, used in turn),
# by a client that does what Python requests and Go's net/http do: no
# Expect: 100-continue, headers and body (zeros; Content-Length 50, 200
# or 700 MiB in turn) written with sendall, the answer read only once
# the body is out or a send failed (EPIPE, ECONNRESET). Every other try
# also loses the answer's first transmission: a socket filter on the
# client drops each segment with data from the daemon for 100 ms after
# the request headers, so TCP must send the answer again (the minimum
# RTO is 200 ms). A daemon that closes with the body unread resets the
# connection first, and the answer is gone. Every try must read the
# status line CODE and the JSON error ERROR.
streamed() {
	python3 - "$PORT" "$@" <<'EOP'
import ctypes, json, socket, ssl, struct, sys, threading, time
port, want, code, tries, sources = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].split(",")
extra = "".join(h + "\r\n" for h in sys.argv[6:])
ctx = ssl.create_default_context(cafile="server.pem")
chunk = bytes(65536)
SO_ATTACH_FILTER, SO_DETACH_FILTER = 26, 27
# classic BPF on the TCP header: accept a segment without data (ACK,
# FIN, RST), drop one with data
prog = [(0x30, 0, 0, 12),		# ldb [12]: data offset
	(0x54, 0, 0, 0xf0), (0x74, 0, 0, 2),	# A = header length
	(0x07, 0, 0, 0),		# tax
	(0x80, 0, 0, 0),		# ld len
	(0x2d, 0, 1, 0),		# jgt x: data
	(0x06, 0, 0, 0),		# ret 0: drop
	(0x06, 0, 0, 0xffffffff)]	# ret all: accept
insns = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
fprog = struct.pack("HL", len(prog), ctypes.addressof(insns))

def attempt(i):
	total = (50, 200, 700)[i % 3] << 20
	raw = socket.create_connection(("127.0.0.1", port), timeout=30,
				       source_address=(sources[i % len(sources)], 0))
	s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
	lossy = i % 2 == 1
	if lossy:
		s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
		timer = threading.Timer(0.1, s.setsockopt, (socket.SOL_SOCKET,
							    SO_DETACH_FILTER, 0))
		timer.start()
	sent, resp, err = 0, b"", None
	try:
		s.sendall(("POST /api/v1/bundle HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			   "Content-Type: application/octet-stream\r\n%s"
			   "Content-Length: %d\r\n\r\n" % (extra, total)).encode())
		while sent < total:
			s.sendall(chunk)
			sent += len(chunk)
	except OSError:
		pass		# the daemon closed: read what it said
	if lossy:
		timer.join()
	try:
		while True:
			d = s.recv(65536)
			if not d:
				break
			resp += d
			head, sep, body = resp.partition(b"\r\n\r\n")
			n = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
			if sep and n and len(body) >= int(n[0].split(b":")[1]):
				break
	except OSError as e:
		err = e
	s.close()
	head, _, body = resp.partition(b"\r\n\r\n")
	line = head.split(b"\r\n", 1)[0].decode(errors="replace")
	try:
		error = json.loads(body)["error"]
	except ValueError:
		error = None
	return line, error, err, sent, lossy

bad = []
start = time.time()
for i in range(tries):
	line, error, err, sent, lossy = attempt(i)
	if not line.startswith("HTTP/1.1 %s " % want) or error != code:
		bad.append("try %d%s: %r %r (%r, %d bytes sent)" % (i, " (answer lost once)" if lossy else "",
								   line, error, err, sent))
print("%d of %d answered %s %s in %.1f s" % (tries - len(bad), tries, want, code,
					      time.time() - start))
for b in bad[:10]:
	print(b)
sys.exit(1 if bad else 0)
EOP
}

# 401 from 100 addresses (each fails once: the throttle stays out of it)
addrs=$(seq -s, -f '127.0.1.%g' 1 100)
out=$(streamed 401 unauthorized 100 "$addrs") || fail "401: $out"
pass "streamed 401: $out"

# 429: one address with 5 failures within the minute
for i in 1 2 3 4 5; do
	out=$(streamed 401 unauthorized 1 127.0.2.1) || fail "401 $i: $out"
done
out=$(streamed 429 unauthorized 100 127.0.2.1 "Authorization: Bearer $TOKEN") ||
	fail "429: $out"
pass "streamed 429: $out"

# 413: a Content-Length over max_size
out=$(streamed 413 too_large 100 127.0.0.1 "Authorization: Bearer $TOKEN") ||
	fail "413: $out"
pass "streamed 413: $out"

# 409: while another upload holds the daemon in receiving
python3 - "$PORT" "$TOKEN" >held.out 2>&1 <<'EOP' &
import socket, ssl, sys, time, os
port, token = int(sys.argv[1]), sys.argv[2]
data = open("v2.tar", "rb").read()
ctx = ssl.create_default_context(cafile="server.pem")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=90),
		    server_hostname="127.0.0.1")
s.sendall(("PUT /api/v1/bundle HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	   "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n" % (token, len(data))).encode())
s.sendall(data[:600000])
while not os.path.exists("held.release"):
	time.sleep(0.05)
s.sendall(data[600000:])
print(s.recv(4096).split(b"\r\n", 1)[0].decode())
EOP
HELD=$!
D_EXTRA_PIDS="$D_EXTRA_PIDS $HELD"
i=0
while [ "$(status_field 'j["state"]')" != receiving ]; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || fail "the held upload did not start: $(cat held.out)"
	sleep 0.1
done
out=$(streamed 409 busy 100 127.0.0.1 "Authorization: Bearer $TOKEN") || fail "409: $out"
pass "streamed 409: $out"
touch held.release
wait "$HELD" || fail "the held upload: $(cat held.out)"
case $(cat held.out) in
"HTTP/1.1 200 "*) ;;
*) fail "the held upload after the 409s: $(cat held.out)" ;;
esac
pass "the upload that was held meanwhile is staged"

# ---- a staged close does not stall the listener ----
# Ten clients in turn each get 400 bad_signature mid-body, read it, and
# go on sending slowly without closing, so that each close lingers its
# full time (the drain's LINGER_MS); meanwhile GET /status runs on
# fresh connections, one after another. The event thread serves
# /status as fast during those lingering windows as outside them: at
# least half the rate. (With the linger on the event thread it served
# about 5/s in the windows against 100/s outside.)
make_big_bad big.tar 12
python3 - "$PORT" "$TOKEN" <<'EOP' >stall.out 2>&1 || fail "stall: $(cat stall.out)"
import select, socket, ssl, sys, threading, time
port, token = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile="server.pem")
done = threading.Event()
big = open("big.tar", "rb").read()
windows, served, problems = [], [], []

def refused_once():
	s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
			    server_hostname="127.0.0.1")
	s.sendall(("POST /api/v1/bundle HTTP/1.1\r\nHost: x\r\n"
		   "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
		   % (token, len(big))).encode())
	off, resp, answered = 0, b"", None
	end = time.time() + 5
	try:
		while time.time() < end:
			if not answered and (s.pending() or select.select([s], [], [], 0)[0]):
				resp += s.recv(4096)
				if b"\r\n\r\n" in resp:
					answered = time.time()
					end = answered + 0.8
			s.send(big[off:off + 16384])
			off += 16384
			time.sleep(0.02)
	except OSError:
		pass		# the daemon closed once its drain ended
	s.close()
	if not answered or not resp.startswith(b"HTTP/1.1 400 ") or b"bad_signature" not in resp:
		problems.append("refusal: %r after %d bytes" % (resp[:80], off))
	else:
		windows.append((answered, time.time()))

def refusals():
	for _ in range(10):
		refused_once()
	done.set()

t = threading.Thread(target=refusals)
start = time.time()
t.start()
worst = 0.0
while not done.is_set():
	t0 = time.time()
	raw = socket.create_connection(("127.0.0.1", port), timeout=10)
	raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
	s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
	s.sendall(("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n"
		   "Authorization: Bearer %s\r\nConnection: close\r\n\r\n" % token).encode())
	line = s.recv(4096).split(b"\r\n", 1)[0]
	s.close()
	if not line.startswith(b"HTTP/1.1 200 "):
		problems.append("GET /status: %r" % line)
	served.append(time.time())
	worst = max(worst, served[-1] - t0)
	time.sleep(0.005)
t.join()
assert not problems, problems[:5]
win = sum(b - a for a, b in windows)
rest = time.time() - start - win
inside = sum(1 for x in served if any(a <= x <= b for a, b in windows))
outside = len(served) - inside
want = 0.5 * outside / rest * win
print("GET /status: %d served in %.1f s of 10 lingering refusals (%.0f/s), %d in %.1f s outside them (%.0f/s); slowest %.0f ms"
      % (inside, win, inside / win, outside, rest, outside / rest, worst * 1000))
assert win > 4, "the refusals lingered only %.1f s" % win
assert inside >= want, "only %d served while refusals lingered, expected %.0f or more" % (inside, want)
assert worst < 0.25, "a GET /status waited %.0f ms" % (worst * 1000)
EOP
pass "$(cat stall.out)"

# ---- clients trickling request headers ----
# max_connections = 60: one address gets 29 of them. 30 connections
# from each of 127.0.0.2 and 127.0.0.3 send a header a byte every 100
# ms; an upload from 127.0.0.1 still gets in, and the daemon closes
# every trickling connection about 5 s after it opened.
daemon_stop
CONF_MAX_CONN=60
write_config
daemon_start
python3 - "$PORT" >trickle.out 2>&1 <<'EOP' &
import select, socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.create_default_context(cafile="server.pem")
conns, refused = [], 0
for src in ("127.0.0.2", "127.0.0.3"):
	for _ in range(30):
		try:
			raw = socket.create_connection(("127.0.0.1", port), timeout=5,
						       source_address=(src, 0))
			conns.append([ctx.wrap_socket(raw, server_hostname="127.0.0.1"),
				      time.time(), None])
		except (OSError, ssl.SSLError):
			refused += 1
open("trickle.ready", "w").close()
req = b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
i, end = 0, time.time() + 15
while time.time() < end and any(c[2] is None for c in conns):
	for c in conns:
		if c[2] is not None:
			continue
		try:
			c[0].send(req[i % len(req):i % len(req) + 1])
			r, _, _ = select.select([c[0]], [], [], 0)
			if r and c[0].recv(1) == b"":
				c[2] = time.time()
		except (OSError, ssl.SSLError):
			c[2] = time.time()
	i += 1
	time.sleep(0.1)
held = [c[2] - c[1] if c[2] else None for c in conns]
print("%d connected, %d refused; held %s s" % (len(conns), refused,
	" ".join("%.1f" % h if h else "open" for h in held)))
sys.exit(0 if all(h is not None and h < 8 for h in held) else 1)
EOP
TRICKLE=$!
D_EXTRA_PIDS="$D_EXTRA_PIDS $TRICKLE"
i=0
while [ ! -e trickle.ready ]; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "the trickling clients did not connect: $(cat trickle.out)"
	sleep 0.1
done
expect_api 200 "an upload beside 60 trickling connections" PUT /bundle -T v2.tar --max-time 4
assert_eq "$(sha v2.tar)" "$(staged_sha)" "staged beside trickling connections"
wait "$TRICKLE" || fail "trickling connections kept: $(cat trickle.out)"
pass "an upload beside 2 x 30 trickling connections; $(cat trickle.out)"

daemon_stop
assert_eq 0 "$DSTATUS" "exit status"
