#!/usr/bin/env python3
"""http_abuse.py - bad HTTP input against a running memdeltad, over raw sockets.

Used by tests/test_http_abuse.sh, which starts the daemon with
[web] timeout = TIMEOUT and per_ip_limit = PER_IP, and runs one phase at a time:

    http_abuse.py PORT PID TIMEOUT PER_IP SCRATCH_DIR PHASE

PHASE is one of: malformed, traversal, origin, query, exhaustion.  Every case
prints "ok - ..." or "FAIL - ..."; after each case GET /healthz must answer
200 and the daemon's pid must be alive.  No response may carry an
Access-Control-* header.  Exit status: 0 when every check passed, 1 otherwise.
"""
import os
import re
import socket
import sys
import time

PORT, PID, TIMEOUT, PER_IP = (int(a) for a in sys.argv[1:5])
SCRATCH = sys.argv[5]
PHASE = sys.argv[6]
HOST = "127.0.0.1:%d" % PORT
fails = 0
passes = 0


def check(cond, what):
    global fails, passes
    if cond:
        passes += 1
        print("ok - " + what)
    else:
        fails += 1
        print("FAIL - " + what)
    sys.stdout.flush()


def connect():
    return socket.create_connection(("127.0.0.1", PORT), timeout=5)


class Resp:
    """What came back on one connection: responses parsed, and how it ended."""

    def __init__(self, data, end, secs):
        self.data = data
        self.end = end  # "close", "reset", "timeout"
        self.secs = secs
        # Not anchored: a pipelined answer follows the previous body directly.
        self.statuses = [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", data)]
        self.status = self.statuses[0] if self.statuses else None
        self.headers = re.findall(rb"^([A-Za-z0-9-]+):", data, re.M)

    def __repr__(self):
        return "statuses %s, %s after %.1f s, %d bytes: %r" % (
            self.statuses, self.end, self.secs, len(self.data), self.data[:120])


def read_all(s, limit):
    """Read until the server closes or @limit seconds pass."""
    data, end, t0 = b"", "timeout", time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - t0 < limit:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            end = "reset"
            break
        if not d:
            end = "close"
            break
        data += d
    return data, end, time.monotonic() - t0


def cors_free(r, what):
    bad = [h for h in r.headers if h.lower().startswith(b"access-control-")]
    if bad:
        check(False, "%s: no CORS header (got %s)" % (what, bad))


def raw(payload, limit=None, drip=None):
    """Send @payload (bytes) on a fresh connection (one byte every @drip
    seconds when given) and collect what comes back within @limit seconds
    (default: the server's timeout plus 3 s)."""
    if limit is None:
        limit = TIMEOUT + 3
    s = connect()
    t0 = time.monotonic()
    try:
        if drip is None:
            s.sendall(payload)
        else:
            s.settimeout(0.5)
            for i in range(len(payload)):
                try:
                    s.send(payload[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    break
                # Stop dripping once the server has hung up.
                try:
                    d = s.recv(65536, socket.MSG_PEEK)
                    if not d:
                        break
                    break  # an answer came
                except socket.timeout:
                    pass
                except (ConnectionResetError, BrokenPipeError):
                    break
                time.sleep(max(0.0, drip - 0.5))
                if time.monotonic() - t0 > limit:
                    break
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, end, _ = read_all(s, max(0.5, limit - (time.monotonic() - t0)))
    s.close()
    r = Resp(data, end, time.monotonic() - t0)
    cors_free(r, repr(payload[:40]))
    return r


def get(path, headers=(), method="GET", host=HOST):
    req = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, host)
    for h in headers:
        req += h + "\r\n"
    req += "Connection: close\r\n\r\n"
    return raw(req.encode("latin-1"))


def alive(after):
    """/healthz answers 200 and the pid is alive."""
    try:
        os.kill(PID, 0)
        up = True
    except OSError:
        up = False
    r = get("/healthz") if up else None
    check(up and r.status == 200, "after %s: daemon pid %d alive, /healthz 200 (%r)" % (after, PID, r))


def refused(r, statuses):
    """An HTTP error in @statuses, or a clean close without any answer."""
    if r.status is None:
        return r.end in ("close", "reset")
    return r.status in statuses and all(s >= 400 for s in r.statuses[:1])


ERR4 = range(400, 506)


# ---- malformed HTTP ---------------------------------------------------------

def phase_malformed():
    cases = [
        ("request line without CRLF, never finished", b"GET /healthz HTTP/1.1"),
        ("header without its final CRLF", b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"),
        ("CR without LF", b"GET /healthz HTTP/1.1\rHost: " + HOST.encode() + b"\r\r"),
        ("oversized header (300 KB value)",
         b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nX-Big: " + b"a" * 300000 + b"\r\n\r\n"),
        ("5,000 header lines",
         b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n" +
         b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60) for i in range(5000)) + b"\r\n"),
        ("duplicate Content-Length",
         b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() +
         b"\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello12"),
        ("Content-Length with Transfer-Encoding",
         b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() +
         b"\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("Transfer-Encoding: chunked body on a GET",
         b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() +
         b"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        ("a body on a GET", b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() +
         b"\r\nContent-Length: 4\r\n\r\nbody"),
        ("NUL in the path", b"GET /heal\x00thz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("control characters in the path",
         b"GET /\x01\x1b[31m\x7f HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("encoded NUL and CR LF in the path",
         b"GET /healthz%00%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("NUL in a header", b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nX-A: a\x00b\r\n\r\n"),
        ("unknown method FOO", b"FOO /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("method TRACE", b"TRACE / HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("method CONNECT", b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("method POST with a body", b"POST /api/v1/targets HTTP/1.1\r\nHost: " + HOST.encode() +
         b"\r\nContent-Length: 2\r\n\r\n{}"),
        ("lower-case method", b"get /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("HTTP/0.9 request", b"GET /healthz\r\n"),
        ("HTTP/0.9 request, blank line", b"GET /healthz\r\n\r\n"),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        ("unknown version HTTP/3.7", b"GET /healthz HTTP/3.7\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("TLS ClientHello bytes", bytes.fromhex("160301020001") + os.urandom(300)),
        ("garbage first", b"\xff\xfe\x00garbage\r\n\r\nGET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
        ("header line without colon", b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nNoColonHere\r\n\r\n"),
        ("header folded (obs-fold)", b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nX-A: a\r\n b\r\n\r\n"),
        ("space before the colon", b"GET /healthz HTTP/1.1\r\nHost : " + HOST.encode() + b"\r\n\r\n"),
        ("two Host headers", b"GET /healthz HTTP/1.1\r\nHost: evil.example\r\nHost: " + HOST.encode() + b"\r\n\r\n"),
    ]
    for what, payload in cases:
        r = raw(payload)
        ok = refused(r, ERR4)
        # RFC 9112 5.2: a server may replace an obs-fold with a space
        # instead of refusing it (libmicrohttpd does).
        if what == "header folded (obs-fold)" and r.status == 200:
            ok = True
        # libmicrohttpd 0.9.75 cuts a header value at a NUL (the request
        # reads as if the header ended there) rather than refusing it; the
        # API forwards no header anywhere, so nothing is smuggled.
        if what == "NUL in a header" and r.status == 200:
            ok = True
        check(ok, "%s: an HTTP error or a clean close (%r)" % (what, r))
        alive(what)

    # Pipelining: a good request, then garbage: the good one is answered,
    # the garbage gets an error or the connection is closed.
    r = raw(b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n\x16\x03\x01garbage\x00\r\n\r\n")
    check(r.status == 200 and r.end in ("close", "reset") and all(s >= 400 for s in r.statuses[1:]) and
          r.secs < TIMEOUT + 2.5,
          "pipelined garbage after a good request: 200, then an error or a close (%r)" % r)
    alive("pipelined garbage")
    # Two good requests pipelined: both answered on one connection (keep-alive).
    r = raw(b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n" +
            b"GET /api/v1/targets HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nConnection: close\r\n\r\n")
    check(r.statuses == [200, 200] and r.end == "close", "two pipelined requests: both 200 (%r)" % r)

    # A header sent one byte per second (slowloris): closed by the header
    # deadline ([web] timeout) although bytes keep coming.
    slow = b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nX-Slow: " + b"s" * 60 + b"\r\n\r\n"
    r = raw(slow, limit=TIMEOUT + 8, drip=1.0)
    check(r.status is None and r.end in ("close", "reset") and r.secs <= TIMEOUT + 2.5,
          "one byte per second: closed by the %d s header deadline after %.1f s, no answer (%r)"
          % (TIMEOUT, r.secs, r))
    print("# slowloris connection closed after %.1f s (timeout %d s)" % (r.secs, TIMEOUT))
    alive("slowloris")


# ---- path traversal -------------------------------------------------------------

def phase_traversal():
    canary = os.path.join(SCRATCH, "canary.txt")
    rel = canary.lstrip("/")
    ups = "../" * 12
    paths = [
        "/" + ups + rel,
        "/" + "%2e%2e/" * 12 + rel,
        "/" + "%2E%2E%2F" * 12 + rel.replace("/", "%2F"),
        "/" + "%2e%2e%5c" * 12 + rel.replace("/", "%5c"),
        "/" + "..%5c" * 12 + rel,
        "/" + "%252e%252e/" * 12 + rel,
        "/" + "%252e%252e%252f" * 12 + rel,
        "/" + "..%c0%af" * 12 + rel,
        "/" + rel,
        "//" + rel,
        canary,
        "/static/../" + rel,
        "/index.html/../../" + ups + rel,
        "/" + ups + "etc/passwd",
        "/" + "%2e%2e/" * 12 + "etc/passwd",
        "/etc/passwd",
        "/proc/self/environ",
        "/index.html%00",
        "/index.html%00.png",
        "/app.js%00/../../" + rel,
        "/%00" + ups + rel,
        "/./index.html",
        "/index.html/",
        "/INDEX.HTML",
        "/api/v1/../../" + rel,
        "/api/v1/%2e%2e/%2e%2e/" + rel,
        "file://" + canary,
        "http://127.0.0.1/" + ups + rel,
    ]
    r = get("/index.html")
    check(r.status == 200, "control: /index.html is served (%r)" % r)
    for p in paths:
        r = get(p)
        check(r.status == 404 or (r.status in (400,) and not p.startswith("/")),
              "GET %s: 404 (%r)" % (p, r))
        check(b"canary" not in r.data.split(b"\r\n\r\n", 1)[-1] or b"no such path" in r.data,
              "GET %s: the canary's content is not in the answer" % p)
    alive("traversal")


# ---- Host and Origin ------------------------------------------------------------

def phase_origin():
    own = ["http://%s" % HOST, "http://localhost:%d" % PORT, "http://127.0.0.1", "http://[::1]:%d" % PORT]
    foreign = ["http://evil.example", "https://evil.example:%d" % PORT, "http://127.0.0.1.evil.example",
               "null", "file://", "http://evil.example@127.0.0.1", "http://127.0.0.1/path",
               "javascript:alert(1)", "http://", ""]
    paths = ["/", "/index.html", "/app.js", "/healthz", "/metrics", "/api/v1/targets",
             "/api/v1/diff?a=1&b=2", "/no/such/path"]
    for p in ["/", "/healthz", "/api/v1/targets", "/no/such/path"]:
        r = get(p, host="evil.example")
        check(r.status == 421, "Host: evil.example on %s: 421 (%r)" % (p, r))
        r = get(p, host="evil.example:%d" % PORT)
        check(r.status == 421, "Host: evil.example:%d on %s: 421 (%r)" % (PORT, p, r))
    for o in foreign:
        for p in paths:
            r = get(p, headers=["Origin: " + o])
            check(r.status == 403, "Origin %r on %s: 403 (%r)" % (o, p, r))
    for o in own:
        for p in ["/", "/healthz", "/api/v1/targets"]:
            r = get(p, headers=["Origin: " + o])
            check(r.status == 200, "Origin %s (own) on %s: 200 (%r)" % (o, p, r))
    # Preflights: never answered with CORS headers (raw() fails the check on any).
    for o in foreign[:1] + own[:1]:
        for p in ["/api/v1/targets", "*", "/healthz"]:
            r = get(p, method="OPTIONS",
                    headers=["Origin: " + o, "Access-Control-Request-Method: GET",
                             "Access-Control-Request-Headers: authorization"])
            check(r.status in (403, 405, 400),
                  "OPTIONS %s with Origin %s: %s, no CORS header (%r)" % (p, o, r.status, r))
    for p in paths:
        r = get(p)
        check(not [h for h in r.headers if h.lower().startswith(b"access-control-")],
              "GET %s: no Access-Control-* header" % p)
    alive("Host and Origin")


# ---- query abuse ----------------------------------------------------------------

def rss_kb():
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def phase_query():
    r = get("/api/v1/targets")
    m = re.search(rb'"id":(\d+)', r.data)
    check(r.status == 200 and m is not None, "control: /api/v1/targets lists a target (%r)" % r)
    tid = int(m.group(1)) if m else 1
    r = get("/api/v1/targets/%d/snapshots" % tid)
    ids = [int(x) for x in re.findall(rb'"id":(\d+)', r.data)]
    check(len(ids) >= 2, "control: the target has two snapshots (%d)" % len(ids))
    a, b = (ids[0], ids[-1]) if len(ids) >= 2 else (1, 2)
    r = get("/api/v1/diff?a=%d&b=%d" % (a, b))
    check(r.status == 200, "control: diff %d..%d answers 200 (%r)" % (a, b, r))
    r = get("/api/v1/targets/%d/timeline?from=-9223372036854775808&to=9223372036854775807&points=5000" % tid)
    check(r.status == 200, "timeline over the whole int64 range: 200 (%r)" % r)

    big = "x=" + "a" * (1 << 20)
    cases = [
        ("1 MB query string", "/api/v1/targets?" + big, (414, 431)),
        ("1 MB query string on a static file", "/index.html?" + big, (414, 431)),
        ("1 MB parameter value", "/api/v1/targets/%d/timeline?from=" % tid + "9" * (1 << 20), (414, 431)),
        ("from=1e30", "/api/v1/targets/%d/timeline?from=1e30" % tid, (400,)),
        ("to=1e30 on snapshots", "/api/v1/targets/%d/snapshots?to=1e30" % tid, (400,)),
        ("from past int64", "/api/v1/alerts?from=9223372036854775808", (400,)),
        ("from=NaN", "/api/v1/targets/%d/timeline?from=NaN" % tid, (400,)),
        ("from=0x10", "/api/v1/targets/%d/timeline?from=0x10" % tid, (400,)),
        ("from with a space", "/api/v1/targets/%d/timeline?from=%%201" % tid, (400,)),
        ("from after to", "/api/v1/targets/%d/timeline?from=5&to=4" % tid, (400,)),
        ("negative target id", "/api/v1/targets/-1/timeline", (400,)),
        ("zero target id", "/api/v1/targets/0/timeline", (400,)),
        ("non-numeric target id", "/api/v1/targets/abc/timeline", (400,)),
        ("target id past int64", "/api/v1/targets/99999999999999999999/timeline", (400,)),
        ("unknown target id", "/api/v1/targets/9223372036854775807/timeline", (404,)),
        ("negative snapshot id", "/api/v1/snapshots/-5", (400,)),
        ("non-numeric snapshot id", "/api/v1/snapshots/1e3", (400,)),
        ("negative diff id", "/api/v1/diff?a=-1&b=%d" % b, (400,)),
        ("non-numeric diff id", "/api/v1/diff?a=%d&b=zz" % a, (400,)),
        ("missing diff id", "/api/v1/diff?a=%d" % a, (400,)),
        ("empty diff id", "/api/v1/diff?a=&b=%d" % b, (400,)),
        ("diff id with NUL", "/api/v1/diff?a=%d%%00&b=%d" % (a, b), (400,)),
        ("unknown diff id", "/api/v1/diff?a=%d&b=9223372036854775807" % a, (404,)),
        ("huge points", "/api/v1/targets/%d/timeline?points=1000000000000" % tid, (400,)),
        ("points past uint64", "/api/v1/targets/%d/timeline?points=99999999999999999999999" % tid, (400,)),
        ("points=0", "/api/v1/targets/%d/timeline?points=0" % tid, (400,)),
        ("negative points", "/api/v1/targets/%d/timeline?points=-5" % tid, (400,)),
        ("huge limit", "/api/v1/alerts?limit=100000000", (400,)),
        ("repeated diff id", "/api/v1/diff?a=%d&a=%d&b=%d" % (a, b, b), (400,)),
        ("repeated points", "/api/v1/targets/%d/timeline?points=5&points=6" % tid, (400,)),
        ("repeated key, one without value", "/api/v1/targets?x&x", (400,)),
        ("repeated key on /healthz", "/healthz?a=1&a=1", (400,)),
        ("17 parameters", "/api/v1/targets?" + "&".join("p%d=1" % i for i in range(17)), (400,)),
        # libmicrohttpd 0.9.75 runs out of its per-connection pool on so many
        # parameters and answers nothing: the header deadline closes it.
        ("5,000 parameters", "/api/v1/targets?" + "&".join("p%d=1" % i for i in range(5000)),
         (400, 414, 431, "close")),
        ("bad series", "/api/v1/targets/%d/trend?series=committed:nope" % tid, (400,)),
        ("bad alert state", "/api/v1/alerts?state=firing%00", (400,)),
    ]
    for what, path, want in cases:
        r = get(path)
        ok = r.status in want or ("close" in want and r.status is None and
                                  r.end in ("close", "reset") and r.secs <= TIMEOUT + 2.5)
        check(ok, "%s: %s (%r)" % (what, "/".join(map(str, want)), r))
    alive("query abuse")

    # Bounded memory: 200 abusive requests, RSS before and after.  One
    # round first, so that allocator arenas and the pool threads' readers
    # exist before the baseline.
    def round_(n):
        for i in range(n):
            what, path, want = cases[i % len(cases)]
            get(path)
    round_(len(cases))
    before = rss_kb()
    round_(200)
    after = rss_kb()
    grew = after - before
    print("# RSS before %d kB, after 200 abusive requests %d kB (%+d kB)" % (before, after, grew))
    check(grew < 4096, "RSS grew %+d kB over 200 abusive requests (< 4 MiB)" % grew)
    alive("200 abusive requests")


# ---- connection exhaustion ---------------------------------------------------------

def open_idle(n):
    socks = []
    for _ in range(n):
        try:
            socks.append(connect())
        except OSError:
            socks.append(None)
    return socks


def closed_now(socks):
    """Which of @socks the server has closed (EOF or reset), without waiting."""
    import select
    live = [s for s in socks if s is not None]
    readable, _, _ = select.select(live, [], [], 0)
    out = []
    for s in socks:
        if s is None:
            out.append(True)
        elif s in readable:
            try:
                out.append(s.recv(1, socket.MSG_PEEK) == b"")
            except OSError:
                out.append(True)
        else:
            out.append(False)
    return out


def is_closed(s, wait):
    """1 when the server has closed @s (EOF or reset) within @wait seconds."""
    if s is None:
        return True
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def phase_exhaustion():
    n = PER_IP + 6
    t0 = time.monotonic()
    socks = open_idle(n)
    time.sleep(0.3)
    closed = closed_now(socks)
    held = closed.count(False)
    check(held == PER_IP, "%d idle connections from one address: %d held open, %d closed at once "
          "(per_ip_limit = %d)" % (n, held, closed.count(True), PER_IP))
    print("# per-address limit: %d of %d idle connections held" % (held, n))
    # A new client from the same address while the slots are taken: refused.
    r = get("/healthz")
    check(r.status is None and r.end in ("close", "reset"),
          "a new client while %d slots are held: closed without an answer (%r)" % (held, r))
    # The held ones are closed by the idle timeout.
    left = [s for s, c in zip(socks, closed) if not c]
    ends = []
    for s in left:
        remaining = TIMEOUT + 4 - (time.monotonic() - t0)
        if is_closed(s, max(0.1, remaining)):
            ends.append(time.monotonic() - t0)
    check(len(ends) == len(left), "every held idle connection is closed by the %d s timeout "
          "(%d of %d, the last after %.1f s)" % (TIMEOUT, len(ends), len(left), max(ends or [0])))
    print("# idle connections closed after %.1f s (timeout %d s)" % (max(ends or [0]), TIMEOUT))
    for s in socks:
        if s is not None:
            s.close()
    time.sleep(0.3)
    r = get("/healthz")
    check(r.status == 200, "a fresh client afterwards: 200 (%r)" % r)
    alive("connection exhaustion")


{"malformed": phase_malformed, "traversal": phase_traversal, "origin": phase_origin,
 "query": phase_query, "exhaustion": phase_exhaustion}[PHASE]()
print("# %s: %d passed, %d failed" % (PHASE, passes, fails))
sys.exit(1 if fails else 0)
