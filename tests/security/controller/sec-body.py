#!/usr/bin/python3
"""sec-body.py: huge request bodies (issue 15 item 7).

The real controller (and the relay in front of it): 300 MB bodies with a
Content-Length and chunked, to the login and the launch API, straight and
through the relay, one at a time and several at once; bodies just under and
just over the 64 kB limit.  The controller's resident memory (VmRSS, and
VmHWM: its peak) is read from /proc before and after: it must stay within a
few MB, where it grew by the whole body before.
"""
import concurrent.futures
import select
import socket
import time

from minna_sec import TAP, Portal, require_built, rss_kb

require_built()

MB = 1024 * 1024
LIMIT = 64 * 1024
p = Portal("body", {"alice": "alice-password-1"}).start()
st, cookie, csrf = p.login("alice")
TAP.ok(st == 200, "alice logs in")


def upload(path, size, chunked=False, via_relay=False, headers=""):
    """Sends a body of @size bytes (as fast as the peer takes it); returns
    (status, seconds, bytes actually sent)."""
    port = p.relay_port if via_relay else p.port
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.settimeout(30)
    frame = f"Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
    origin = f"Origin: http://127.0.0.1:{port}\r\n"
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"{origin}{headers}{frame}\r\n").encode()
    t0 = time.monotonic()
    s.sendall(head)
    block = b"7" * (256 * 1024)
    sent = 0                      # body bytes the kernel took
    pending = b""
    answer = b""
    closed = False
    s.setblocking(False)
    while not closed and b"\r\n\r\n" not in answer and time.monotonic() - t0 < 60:
        if not pending and sent < size:
            n = min(len(block), size - sent)
            pending = (b"%x\r\n" % n + block[:n] + b"\r\n") if chunked else block[:n]
            if chunked and sent + n >= size:
                pending += b"0\r\n\r\n"
        r, w, _ = select.select([s], [s] if pending else [], [], 1.0)
        if r:
            try:
                got = s.recv(65536)
                answer += got
                closed = got == b""
            except OSError:
                closed = True
        if w and pending:
            try:
                k = s.send(pending)
                sent += k     # chunked: framing counted too, a few bytes a block
                pending = pending[k:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                # the controller closed after its answer: the rest is not sent
                pending = b""
                size = sent
    s.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, time.monotonic() - t0, sent


pid = p.pid("controller")
rss0, hwm0 = rss_kb(pid)
TAP.diag(f"controller before: VmRSS {rss0 / 1024:.1f} MB, VmHWM {hwm0 / 1024:.1f} MB")
auth = f"Cookie: minna_session={cookie}\r\nX-CSRF-Token: {csrf}\r\n"
cases = [
    ("login, Content-Length 300 MB", "/api/v1/login", 300 * MB, False, False, ""),
    ("login, chunked 300 MB", "/api/v1/login", 300 * MB, True, False, ""),
    ("launch, Content-Length 300 MB", "/api/v1/sessions", 300 * MB, False, False, auth),
    ("launch, chunked 300 MB", "/api/v1/sessions", 300 * MB, True, False, auth),
    ("login through the relay, Content-Length 300 MB", "/api/v1/login", 300 * MB, False, True, ""),
    ("login through the relay, chunked 300 MB", "/api/v1/login", 300 * MB, True, True, ""),
    ("an unknown path, Content-Length 300 MB", "/nothing", 300 * MB, False, False, ""),
]
for name, path, size, chunked, relay, headers in cases:
    st, secs, sent = upload(path, size, chunked, relay, headers)
    rss, hwm = rss_kb(pid)
    TAP.ok(st == 413, f"{name}: 413 after {sent / MB:.1f} MB taken, {1000 * secs:.0f} ms", f"status {st}")
    TAP.ok(hwm - hwm0 < 16 * 1024, f"{name}: the controller's peak memory grew "
           f"{(hwm - hwm0) / 1024:.1f} MB (at most 16)", f"VmHWM {hwm} kB")

# several at once
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    res = list(ex.map(lambda i: upload("/api/v1/login", 100 * MB, i % 2 == 1), range(8)))
rss, hwm = rss_kb(pid)
TAP.ok(all(r[0] == 413 for r in res), f"8 uploads of 100 MB at once: all 413 ({[r[0] for r in res]})")
TAP.ok(hwm - hwm0 < 24 * 1024, f"8 at once: peak memory grew {(hwm - hwm0) / 1024:.1f} MB (at most 24)")
TAP.diag(f"controller after: VmRSS {rss / 1024:.1f} MB, VmHWM {hwm / 1024:.1f} MB "
         f"(before {rss0 / 1024:.1f} / {hwm0 / 1024:.1f} MB)")

# the limit itself: a body at it is read (and found bad JSON), one byte more is not
for size, chunked, want in ((LIMIT, False, 400), (LIMIT + 1, False, 413), (LIMIT, True, 400),
                            (LIMIT + 1, True, 413)):
    st, _, _ = upload("/api/v1/login", size, chunked)
    TAP.ok(st == want, f"{size} bytes{' chunked' if chunked else ''}: {want}", f"got {st}")

# the controller still answers, and a normal login works
st, _, _ = p.login("alice")
TAP.ok(st == 200, "after all that, alice logs in as usual")
st, _, body = p.request("GET", "/metrics", headers={"Authorization": "Bearer none"})
TAP.ok(p.controller.poll() is None, "the controller is still running")
TAP.done()
