#!/usr/bin/python3
"""sec-app-token.py: the app's token never reaches a client or a log
(issue 15 item 3).

A real Jupyter (Debian's notebook server, apps/jupyter.app) launched by the
real controller, reached through the real relay.  The session's token (its
0600 token file) must not appear in any response body, header, cookie or
redirect the browser could get while it walks Jupyter's pages and API, nor
in Jupyter's own output, its runtime files, the relay's access log or the
controller's log.  Straight to the app's port, without the relay's header,
nothing is served: not with ?token=, not with Authorization: token, not
with a wrong header.  A kernel started through the relay runs code, and its
environment holds no Jupyter token.
"""
import json
import os
import re
import socket
import time
import uuid

from minna_sec import TAP, Portal, require_built, tail

require_built()
if not os.path.exists("/usr/lib/python3/dist-packages/notebook"):
    TAP.skip_all("Debian's Jupyter Notebook (jupyter-notebook) is not installed")

p = Portal("apptoken", {"alice": "alice-password-1"}).start()
st, cookie, csrf = p.login("alice", via_relay=True)
TAP.ok(st == 200, "alice logs in through the relay")
sid = p.launch(cookie, csrf, "jupyter", seconds=180)
token = open(os.path.join(p.session_dir(sid), "token")).read().strip()
TAP.ok(len(token) >= 32, f"the Jupyter session {sid} runs; its token is {len(token)} characters")
origin = f"http://127.0.0.1:{p.relay_port}"
base = f"/s/{sid}/"
xsrf = "sec-" + uuid.uuid4().hex
browser = {"Cookie": f"minna_session={cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf,
           "Origin": origin, "Referer": origin + base}
seen = []          # (what, text) of everything a client received


def get(path, method="GET", body=None, headers=None):
    h = dict(browser)
    h.update(headers or {})
    st, hd, out = p.request(method, path, body, headers=h, via_relay=True)
    seen.append((f"{method} {path} -> {st}", json.dumps(hd) + "\n" + out.decode("utf-8", "replace")))
    return st, hd, out


# walk the app the way a browser would, following redirects by hand
path, hops = base, 0
while hops < 10:
    st, hd, _ = get(path)
    loc = hd.get("location", [None])[0]
    if st in (301, 302, 303, 307) and loc:
        path = loc if loc.startswith("/") else "/" + loc.split("/", 3)[3]
        hops += 1
        continue
    break
TAP.ok(st == 200 and "tree" in path, f"{base} leads to Jupyter's file tree ({path}, {hops} redirects)")
st, _, out = get(base + "tree")
TAP.ok(st == 200 and b"data-base-url" in out, "the tree page renders (its data attributes included)")
TAP.ok(re.search(rb'data-jupyter-api-token="[^"]+"', out) is None,
       "the page's data-jupyter-api-token is empty")
st, _, out = get(base + "api/contents", "POST", {"type": "notebook"})
TAP.ok(st == 201, "a notebook is created through the API (XSRF double submit, same Origin)",
       out[:300])
nb = json.loads(out)["path"] if st == 201 else "Untitled.ipynb"
for path in ("api/status", "api/contents", f"api/contents/{nb}", "api/sessions", "api/kernelspecs",
             "api/config/notebook", f"notebooks/{nb}", "edit/README", "terminals/1", "login",
             "logout", "metrics", "static/base/js/namespace.js", "nbextensions/", "api/me",
             "tree?token=x", "view/x"):
    get(base + path)
st, _, out = get(base + "api/kernels", "POST", {"name": "python3"})
TAP.ok(st == 201, "a kernel starts through the relay", out[:300])
kid = json.loads(out)["id"] if st == 201 else None


def ws_run(code):
    """Runs @code on the kernel over its WebSocket through the relay; the
    stream output, or None."""
    s = socket.create_connection(("127.0.0.1", p.relay_port), 30)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    s.sendall((f"GET {base}api/kernels/{kid}/channels HTTP/1.1\r\nHost: 127.0.0.1:{p.relay_port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
               f"Cookie: minna_session={cookie}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    head, rest = head.split(b"\r\n\r\n", 1)
    seen.append(("kernel WebSocket upgrade", head.decode("utf-8", "replace")))
    if b" 101 " not in head.split(b"\r\n")[0]:
        return None
    msg_id = uuid.uuid4().hex
    msg = json.dumps({"header": {"msg_id": msg_id, "username": "x", "session": "s", "msg_type": "execute_request",
                                 "version": "5.3", "date": "2026-01-01T00:00:00Z"},
                      "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                      "content": {"code": code, "silent": False, "store_history": False,
                                  "user_expressions": {}, "allow_stdin": False,
                                  "stop_on_error": True}}).encode()
    mask = os.urandom(4)
    frame = bytes([0x81]) + (bytes([0x80 | 126]) + len(msg).to_bytes(2, "big") if len(msg) < 65536
                             else bytes([0x80 | 127]) + len(msg).to_bytes(8, "big"))
    frame += mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg))
    s.sendall(frame)
    buf, out, end = rest, "", time.time() + 60
    s.settimeout(5)
    while time.time() < end:
        while len(buf) >= 2:
            n = buf[1] & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, off = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, off = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < off + n:
                break
            payload, buf = buf[off:off + n], buf[off + n:]
            text = payload.decode("utf-8", "replace")
            seen.append(("kernel message", text))
            try:
                m = json.loads(text)
            except ValueError:
                continue
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if m["header"]["msg_type"] == "stream":
                out += m["content"]["text"]
            if m["header"]["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                s.close()
                return out
        try:
            got = s.recv(65536)
        except socket.timeout:
            continue
        if not got:
            break
        buf += got
    s.close()
    return out or None


out = ws_run("import os; print(sorted(k for k in os.environ if 'JUPYTER_TOKEN' in k)); print(6*7)")
TAP.ok(out is not None and "42" in out, "code runs in the kernel over its WebSocket through the relay",
       repr(out))
TAP.ok(out is not None and out.startswith("[]"), "the kernel's environment has no JUPYTER_TOKEN", repr(out))

# ---- the token anywhere a client or a log could see it ---------------------------------
leaks = [what for what, text in seen if token in text]
TAP.ok(not leaks, f"the token is in none of the {len(seen)} answers, headers, redirects and "
       "kernel messages the client got", leaks)
for name, path in (("Jupyter's output (output.log)", os.path.join(p.session_dir(sid), "output.log")),
                   ("the relay's access log", p.access_log), ("the relay's log", p.relay_log),
                   ("the controller's log", p.controller_log)):
    text = tail(path, 10 ** 6)
    TAP.ok(token not in text, f"{name} does not hold the token", path)
runtime = os.path.join(p.session_dir(sid), "runtime")
hits = []
for root, _, files in os.walk(runtime):
    for f in files:
        try:
            if token.encode() in open(os.path.join(root, f), "rb").read():
                hits.append(f)
        except OSError:
            pass
TAP.ok(not hits, "Jupyter's runtime files (nbserver-*.json, *-open.html) do not hold it", hits)

# ---- straight to the app: nothing without the relay's header ------------------------
st, _, body = p.request("GET", "/api/v1/routes", headers={"Authorization": f"Bearer {p.secret}"})
upstream = [r["upstream"] for r in json.loads(body)["routes"] if r["id"] == sid][0]
app_port = int(upstream.rsplit(":", 1)[1])
attempts = [
    ("no credential", "api/contents", {}),
    ("?token= in the URL", f"api/contents?token={token}", {}),
    ("Authorization: token", "api/contents", {"Authorization": f"token {token}"}),
    ("a wrong X-Minna-App-Token", "api/contents", {"X-Minna-App-Token": "x" * len(token)}),
    ("the tree page with ?token=", f"tree?token={token}", {}),
    ("/metrics", "metrics", {}),
]
for name, path, headers in attempts:
    st, hd, out = p.request("GET", base + path, headers=headers, port=app_port)
    TAP.ok(st in (302, 403) and b'"content"' not in out and token.encode() not in out,
           f"straight to the app's port, {name}: refused ({st})", out[:200])
st, _, out = p.request("GET", base + "api/contents", headers={"X-Minna-App-Token": token}, port=app_port)
TAP.ok(st == 200, "straight to the app's port with the relay's header: served (the relay's way in)")
st, _, _ = p.request("POST", base + "api/kernels", {"name": "python3"},
                     headers={"X-Minna-App-Token": token}, port=app_port)
TAP.ok(st == 403, "even with it, a POST without Jupyter's XSRF double submit is refused (403)")
st, _, _ = p.request("GET", base + "api/contents", via_relay=True,
                     headers={"Cookie": "nothing=1", "X-Minna-App-Token": token})
TAP.ok(st == 302, "through the relay, the token in the client's own header opens nothing (302)")
TAP.done()
