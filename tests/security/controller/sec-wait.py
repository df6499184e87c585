#!/usr/bin/python3
"""sec-wait.py: the session list held until it changes (GET
/api/v1/sessions?wait=S&since=TOKEN), as the portal uses it and as a
hostile client would.

The real controller (local backend, real apps) and the real relay in front.
What it shows:
- a held list is answered when the user's own session changes (launch,
  running, stop), well before its wait ends, and each answer is stored (a
  plain list right after shows the same state);
- another user's changes do not end it (bob's held list answers at its
  wait's end, with bob's sessions only), and the tokens of two users are
  independent counts;
- an unknown or stale token (a restart, a client's guess) is answered at
  once; the restart keeps no held request;
- the parameters are checked strictly (400 naming the field), a client
  without a login is refused before it is held (401);
- at most 8 held per user (429, Retry-After), and requests whose clients
  went away stop counting;
- through the relay (its timeouts) a held list works as directly, and a
  client of the relay that closes frees its place at once (the relay
  abandons the request: 499 in its access log).
"""
import concurrent.futures
import json
import socket
import time
from urllib.parse import quote

from minna_sec import TAP, Portal, require_built

require_built()

p = Portal("wait", {"alice": "alice-password-1", "bob": "bob-password-1",
                    "boss": "boss-password-1"}, admins=("boss",)).start()
_, alice, alice_csrf = p.login("alice")
_, bob, bob_csrf = p.login("bob")
_, boss, _ = p.login("boss")
A = p.cookie_headers(alice)
B = p.cookie_headers(bob)
pool = concurrent.futures.ThreadPoolExecutor(16)


def listing(headers, query="", via_relay=False, timeout=90):
    t0 = time.monotonic()
    st, hd, body = p.request("GET", "/api/v1/sessions?all=0" + query, headers=headers,
                             via_relay=via_relay, timeout=timeout)
    took = time.monotonic() - t0
    data = json.loads(body) if body[:1] == b"{" else {}
    return st, hd, data, took


def held(headers, token, wait, via_relay=False):
    return pool.submit(listing, headers, f"&wait={wait}&since={quote(token)}", via_relay)


def n_held():
    """The controller's count of held lists (from /metrics)."""
    st, _, body = p.request("GET", "/metrics", headers=p.cookie_headers(boss))
    for line in body.decode(errors="replace").splitlines():
        if line.startswith("minna_session_lists_held "):
            return int(line.split()[1])
    return -1


def raw_held(port, token, n):
    """@n sockets, each with alice's held list request sent (to close later)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall((f"GET /api/v1/sessions?all=0&wait=20&since={token} HTTP/1.1\r\n"
                   f"Host: 127.0.0.1\r\nCookie: minna_session={alice}\r\n\r\n").encode())
        socks.append(s)
    return socks


def wait_held(n, seconds=10):
    end = time.monotonic() + seconds
    while time.monotonic() < end and n_held() != n:
        time.sleep(0.05)
    return n_held()


# ---- the token ---------------------------------------------------------------------
st, _, a0, _ = listing(A)
TAP.ok(st == 200 and isinstance(a0.get("changes"), str) and a0["changes"].isdigit(),
       f"a list carries its changes token ({a0.get('changes')!r})")
st, _, b0, _ = listing(B)
TAP.ok(b0.get("changes") == a0.get("changes"),
       "two users without changes have the same token (no count of others' changes in it)")

# ---- held until the user's own change -------------------------------------------------
f = held(A, a0["changes"], 30)
TAP.ok(wait_held(1) == 1, "alice's list with her current token is held")
fb = held(B, b0["changes"], 4)
wait_held(2)
t_launch = time.monotonic()
st, _, body = p.request("POST", "/api/v1/sessions", {"app": "webapp", "hours": 1},
                        headers=p.cookie_headers(alice, alice_csrf))
sid = json.loads(body).get("id") if st == 201 else None
TAP.ok(sid is not None, f"alice launches ({st})")
st, _, a1, took = f.result()
since_launch = time.monotonic() - t_launch
TAP.diag(f"alice's held list answered {since_launch:.2f} s after her launch ({took:.2f} s held)")
TAP.ok(st == 200 and a1.get("changes") != a0["changes"] and since_launch < 10,
       "her launch ends her held list at once, with a new token")
TAP.ok(any(s["id"] == sid for s in a1.get("sessions", [])), "the answer lists the new session")

# bob's held list is not ended by alice's change
st, _, b1, took = fb.result()
TAP.diag(f"bob's held list (wait=4) answered after {took:.2f} s")
TAP.ok(st == 200 and took >= 3.5, "alice's launch does not end bob's held list (it runs to its wait)")
TAP.ok(b1.get("changes") == b0["changes"] and b1.get("sessions") == [],
       "bob's answer has his unchanged token and none of alice's sessions")

# follow alice's session to running with held lists only, as the portal does
token, state, rounds, stale = a1["changes"], None, 0, 0
end = time.monotonic() + 90
while time.monotonic() < end and state not in ("running", "failed", "ended"):
    st, _, a, took = listing(A, f"&wait=30&since={token}")
    rounds += 1
    if st != 200:
        break
    if a["changes"] == token and took < 29:
        stale += 1   # answered without a change before its wait ended
    token = a["changes"]
    state = next((s["state"] for s in a["sessions"] if s["id"] == sid), None)
    st2, _, now, _ = listing(A)
    if next((s["state"] for s in now["sessions"] if s["id"] == sid), None) != state:
        TAP.diag(f"the plain list right after says otherwise than the held one ({state})")
TAP.ok(state == "running", f"held lists follow the session to running ({rounds} answers, {state})")
TAP.ok(stale == 0, f"each early answer brought a change ({stale} without)")

# ---- parameters, strictly --------------------------------------------------------
bad = [("wait=abc", "wait"), ("wait=0", "wait"), ("wait=61", "wait"), ("wait=1e3", "wait"),
       ("wait=%2B5", "wait"), ("wait=-1", "wait"), ("wait=", "wait"), ("wait=5%00", "query"),
       ("wait=5&since=abc", "since"), ("wait=5&since=-1", "since"),
       ("wait=5&since=" + "9" * 21, "since"), ("wait=5&since=18446744073709551616", "since"),
       ("wait=5&since=%2012", "since")]
wrong = []
for q, field in bad:
    st, _, body = p.request("GET", "/api/v1/sessions?all=0&" + q, headers=A, timeout=10)
    try:
        named = json.loads(body).get("field")
    except ValueError:
        named = None
    if st != 400 or named != field:
        wrong.append((q, st, named))
TAP.ok(not wrong, f"{len(bad)} malformed wait/since values are refused 400 naming the field ({wrong})")
st, _, _, took = listing({}, f"&wait=30&since={token}")
TAP.ok(st == 401 and took < 5, f"without a login: 401 at once ({st}, {took:.2f} s)")
st, _, a, took = listing(A, "&wait=30&since=12345")
TAP.ok(st == 200 and took < 5 and a["changes"] == token, "a stale token is answered at once")

# ---- at most 8 held per user; clients that went away stop counting --------------------
socks = raw_held(p.port, token, 8)
TAP.ok(wait_held(8) == 8, "8 lists of one user are held")
st, hd, body = p.request("GET", f"/api/v1/sessions?all=0&wait=20&since={token}", headers=A,
                         timeout=10)
TAP.ok(st == 429 and hd.get("retry-after") == ["5"] and json.loads(body).get("field") == "wait",
       f"a 9th is refused: 429 with Retry-After ({st}, {hd.get('retry-after')})")
st, _, b2, took = listing(B, f"&wait=1&since={b0['changes']}")
TAP.ok(st == 200 and 0.5 < took < 5, "bob still waits while alice is at her limit")
for s in socks:
    s.close()
t0 = time.monotonic()
left = wait_held(0, 25)
TAP.diag(f"held lists after their 8 clients closed: {left} after {time.monotonic() - t0:.1f} s")
TAP.ok(left == 0 and time.monotonic() - t0 < 10, "the held lists of clients that went away are dropped at once, not at their wait's end")
f = held(A, token, 2)
st, _, _, took = f.result()
TAP.ok(st == 200, f"alice may wait again ({st})")

# ---- a pipelined request behind a held one: the held one is answered at once -----------
s = socket.create_connection(("127.0.0.1", p.port))
req = (f"GET /api/v1/sessions?all=0&wait=20&since={token} HTTP/1.1\r\n"
       f"Host: 127.0.0.1\r\nCookie: minna_session={alice}\r\n\r\n")
s.sendall(req.encode())
wait_held(1)
t0 = time.monotonic()
s.sendall(req.replace("&wait=20", "").encode())
s.settimeout(10)
got = b""
try:
    while got.count(b"HTTP/1.1 200") < 2:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
except OSError:
    pass
s.close()
took = time.monotonic() - t0
TAP.ok(got.count(b"HTTP/1.1 200") == 2 and took < 5,
       f"a request pipelined behind a held one: both answered at once ({took:.2f} s)")

# ---- a logout while held: the answer is the new request's (401), not the list -----------
st, _, b3, _ = listing(B)
f = held(B, b3["changes"], 3)
wait_held(1)
st, _, _ = p.request("POST", "/api/v1/logout", headers=p.cookie_headers(bob, bob_csrf))
st, _, b4, took = f.result()
TAP.ok(st == 401 and "sessions" not in b4, f"bob's list held across his logout is answered 401 ({st})")

# ---- through the relay ---------------------------------------------------------------
st, _, ra, _ = listing(A, via_relay=True)
f = held(A, ra.get("changes", ""), 30, via_relay=True)
wait_held(1)
st, _, body = p.request("DELETE", f"/api/v1/sessions/{sid}", headers=p.cookie_headers(alice, alice_csrf))
st, _, rb, took = f.result()
TAP.ok(st == 200 and rb.get("changes") != ra.get("changes") and took < 10,
       f"through the relay, stopping the session ends the held list ({st}, {took:.2f} s)")

# clients of the relay that close: the relay abandons their requests (499), the places are free
end = time.monotonic() + 30
while time.monotonic() < end:   # the stopped session ends: its last change
    st, _, rc_list, _ = listing(A, via_relay=True)
    if all(x["state"] in ("ended", "failed") for x in rc_list.get("sessions", [])):
        break
    time.sleep(0.2)
rb = rc_list
socks = raw_held(p.relay_port, rb["changes"], 4)
TAP.ok(wait_held(4) == 4, "4 lists held through the relay")
for s in socks:
    s.close()
t0 = time.monotonic()
left = wait_held(0, 25)
took = time.monotonic() - t0
TAP.ok(left == 0 and took < 10, f"closed by their clients, the relay lets them go at once ({left} left"
       f" after {took:.1f} s)")
TAP.ok(open(p.access_log).read().count('" 499 ') >= 4, "the relay's access log says 499 for them")

# ---- a restart keeps nothing held; old tokens answer at once ---------------------------
f = held(A, rb["changes"], 30)
wait_held(1)
t0 = time.monotonic()
p.stop_controller()
stopped = time.monotonic() - t0
st, _, _, _ = f.result()
rc = p.controller.returncode
TAP.ok(stopped < 5 and rc == 0, f"the controller stops at once with a held list ({stopped:.2f} s,"
       f" exit {rc}, answer {st})")
log = open(p.controller_log, errors="replace").read()
TAP.ok("CRITICAL" not in log and "ERROR" not in log, "its log has no critical or error line")
p.start_controller()
st, _, r, took = listing(A, f"&wait=30&since={rb['changes']}")
TAP.ok(st == 200 and took < 5 and r["changes"] != rb["changes"],
       "after a restart the old token is answered at once, with a new one")
rc = p.controller.poll()
TAP.ok(rc is None, "the controller is still running")
p.stop_controller()
TAP.done()
