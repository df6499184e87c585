#!/usr/bin/python3
"""An app killed mid-download and mid-WebSocket, a route whose app is gone,
a relay killed (issue 20).

Through the real relay: the client of a download the app dies in sees it
truncated (fewer bytes than Content-Length, no hang), the WebSocket client
sees its connection closed; the controller ends the session within seconds
and removes its route.  A route to an app that is gone answers 502 at once.
The relay killed with SIGKILL and started again gets its routes back from
the controller.  After each: stored sessions, API, processes, routes agree.
"""
import base64
import os
import signal
import socket
import time

import faults_lib as fl
from faults_lib import TAP, need

fl.ms.require_built()
p = fl.Portal("app")
p.start()
acked = set()


def running_session():
    st, sid, body = p.launch_raw()
    need(sid is not None, f"launch: {st} {body}")
    acked.add(sid)
    s = p.wait_state(sid, ("running",), seconds=40)
    need(s is not None and s["state"] == "running", f"{sid} runs: {s}")
    return sid


def raw(sid, path, extra=""):
    cookie = p.user()[0]["Cookie"]
    s = socket.create_connection(("127.0.0.1", p.relay_port), 10)
    s.settimeout(15)
    s.sendall(f"GET /s/{sid}/{path} HTTP/1.1\r\nHost: 127.0.0.1:{p.relay_port}\r\n"
              f"Cookie: {cookie}\r\n{extra}\r\n".encode())
    return s


def kill_app(sid):
    os.killpg(p.job_pid(sid), signal.SIGKILL)


# ---- mid-download ----
sid = running_session()
s = raw(sid, "big")
data = b""
while b"\r\n\r\n" not in data:
    data += s.recv(65536)
head, body = data.split(b"\r\n\r\n", 1)
length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
got = len(body)
while got < 1024 * 1024:
    got += len(s.recv(65536))
t0 = time.time()
kill_app(sid)
closed = False
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            closed = True
            break
        got += len(chunk)
except OSError:
    closed = True
TAP.ok(closed and got < length, f"download: the app killed after {got} of {length} bytes: the"
       f" client's connection ends short of Content-Length ({time.time() - t0:.1f} s), no hang")
st = p.wait_state(sid, ("ended", "failed"), seconds=10)
TAP.ok(st is not None and st["state"] in ("ended", "failed") and time.time() - t0 < 10,
       f"... the controller ended the session in {time.time() - t0:.1f} s ({st and st['state']})", st)
why = p.wait_agree(acked)
TAP.ok(why is None, "... stored sessions, API, processes and routes agree", why)

# ---- mid-WebSocket ----
sid = running_session()
key = base64.b64encode(os.urandom(16)).decode()
s = raw(sid, "ws", f"Origin: http://127.0.0.1:{p.relay_port}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Key: {key}\r\n")
resp = s.recv(4096)
TAP.ok(resp.startswith(b"HTTP/1.1 101"), "WebSocket through the relay: 101", resp[:200])
mask = os.urandom(4)
msg = b"hello"
s.sendall(bytes([0x81, 0x80 | len(msg)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
echo = s.recv(4096)
TAP.ok(echo.endswith(msg), "... echoed", echo)
t0 = time.time()
kill_app(sid)
closed = False
try:
    while True:
        chunk = s.recv(4096)
        if not chunk or chunk[0] & 0x0F == 8:
            closed = True
            break
except OSError:
    closed = True
TAP.ok(closed and time.time() - t0 < 10,
       f"... the app killed: the client's WebSocket is closed in {time.time() - t0:.1f} s")
st = p.wait_state(sid, ("ended", "failed"), seconds=10)
TAP.ok(st is not None and st["state"] in ("ended", "failed"),
       f"... the controller ended the session in {time.time() - t0:.1f} s", st)
why = p.wait_agree(acked)
TAP.ok(why is None, "... stored sessions, API, processes and routes agree", why)

# ---- a route whose app is gone: 502 at once ----
port = fl.ms.free_port()
st, _, body = p.request("PUT", "/routes/gone-app", {"upstream": f"http://127.0.0.1:{port}",
                                                     "owner": "alice", "token": "x" * 48,
                                                     "expires": int(time.time()) + 600},
                        port=p.relay_admin, headers={"Authorization": f"Bearer {p.secret}"})
need(st in (200, 204), f"route put: {st} {body}")
t0 = time.time()
st, _, body = p.request("GET", "/s/gone-app/", via_relay=True, headers=p.user()[0], timeout=20)
TAP.ok(st == 502 and time.time() - t0 < 3 and b"not answering" in body,
       f"a route whose app is gone: 502 with a page saying so in {time.time() - t0:.2f} s",
       f"{st} {body[:300]!r}")

# ---- the relay killed: its routes come back from the controller ----
sid = running_session()
p.stop_relay(signal.SIGKILL)
p.start_relay()
routes = p.routes()
TAP.ok(sid in routes, "relay killed and started again: the running session's route is back", routes)
st, _, body = p.request("GET", f"/s/{sid}/", via_relay=True, headers=p.user()[0])
TAP.ok(st == 200 and b"minna faults app" in body, "... and the app answers through it", f"{st} {body[:200]!r}")
p.request("DELETE", "/routes/gone-app", port=p.relay_admin, headers={"Authorization": f"Bearer {p.secret}"})
why = p.wait_agree(acked)
TAP.ok(why is None, "... stored sessions, API, processes and routes agree", why)
p.end_all()
TAP.done()
