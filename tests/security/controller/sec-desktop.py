#!/usr/bin/python3
"""sec-desktop.py: the remote desktop app (apps/minna_desktop.py) lets in only
the relay (issue 18 part 1).

The real app (Xvnc, Openbox, xterm, websockify's library, Debian's noVNC)
starts as a job would, under umask 0, with a session secret in a 0600 file.
A local client that talks to the app's port directly (another user on the
node) tries: noVNC's files and the WebSocket without the X-Minna-App-Token
header, with a wrong one, with the right one in another header or in the
query; path tricks out of noVNC's directory.  The desktop's own files must be
0700/0600 whatever the umask, Xvnc must listen on no TCP port (its VNC side
is the 0600 Unix socket only), and the X display must refuse a client
without the session's cookie.  SIGTERM (Stop) ends Xvnc and its programs.
"""
import http.client
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

from minna_sec import APPS, TAP, _dirs, free_port, need, spawn, stop, tail, wait_port

PROGRAMS = ["Xvnc", "openbox", "xterm"]
missing = [p for p in PROGRAMS if shutil.which(p) is None]
if not os.path.isfile("/usr/share/novnc/vnc.html"):
    missing.append("novnc")
if subprocess.run(["/usr/bin/python3", "-c", "import websockify"], capture_output=True).returncode:
    missing.append("python3-websockify")
if missing:
    TAP.skip_all(f"not installed: {', '.join(missing)} (scripts/packages/desktop.txt)")

work = tempfile.mkdtemp(prefix="minna-sec-desktop-")
_dirs.append(work)
session = os.path.join(work, "session")
os.mkdir(session, 0o700)
secret = secrets.token_hex(24)
token_file = os.path.join(session, "token")
with open(token_file, "w") as f:
    f.write(secret + "\n")
os.chmod(token_file, 0o600)
port = free_port()
base = "/s/0123456789abcdef/"
log = os.path.join(work, "desktop.log")
proc = spawn(["/usr/bin/python3", os.path.join(APPS, "minna_desktop.py"), "--host", "127.0.0.1",
              "--port", str(port), "--base-url", base, "--token-file", token_file,
              "--session-dir", session], log, umask_value=0)
wait_port(port, proc, log, "minna_desktop.py", seconds=60)


def request(path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict(r.getheaders()), body


def upgrade(path, headers=None):
    h = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
         "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "binary"}
    h.update(headers or {})
    return request(path, h)[0]


good = {"X-Minna-App-Token": secret}
wrong = {"X-Minna-App-Token": secret[:-1] + ("0" if secret[-1] != "0" else "1")}

# ---- the port: only requests with the session's secret ----------------------
st, _, _ = request(base + "vnc.html")
TAP.ok(st == 403, "noVNC's page without the token header: 403", st)
st, _, _ = request(base + "vnc.html", wrong)
TAP.ok(st == 403, "with a wrong token: 403", st)
st, _, _ = request(base + "vnc.html", {"Authorization": "token " + secret})
TAP.ok(st == 403, "the secret in Authorization (not the relay's header): 403", st)
st, _, _ = request(base + "vnc.html?token=" + secret)
TAP.ok(st == 403, "the secret in the query: 403", st)
st, _, body = request(base + "vnc.html", good)
TAP.ok(st == 200 and b"noVNC" in body, "with the relay's header: noVNC's page", st)
TAP.ok(secret.encode() not in body, "the page does not hold the secret")
st, hdrs, _ = request(base, good)
loc = hdrs.get("Location", "")
TAP.ok(st == 302 and loc.startswith(base + "vnc.html?") and "resize=remote" in loc and
       "reconnect=true" in loc, "the base URL redirects to noVNC with resize and reconnect", (st, loc))
TAP.ok(secret not in loc and "password" not in loc, "the redirect holds no secret", loc)

st = upgrade(base + "websockify")
TAP.ok(st == 403, "WebSocket upgrade without the token: 403", st)
st = upgrade(base + "websockify", wrong)
TAP.ok(st == 403, "WebSocket upgrade with a wrong token: 403", st)
st = upgrade(base + "other", good)
TAP.ok(st == 404, "WebSocket upgrade elsewhere than websockify: 404", st)
st = upgrade(base + "websockify", good)
TAP.ok(st == 101, "WebSocket upgrade with the relay's header: 101", st)

for path in (base + "../../../etc/passwd", base + "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
             base + "app/../../../../etc/passwd", "/etc/passwd", "/s/other/vnc.html",
             base + "app/", base + "websockify"):
    st, _, body = request(path, good)
    TAP.ok(st == 404 and b"root:" not in body, f"GET {path}: 404", st)

# ---- files, sockets, display --------------------------------------------------
desk = os.path.join(session, "desktop")


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


TAP.ok(mode(desk) == 0o700, "desktop/ is 0700 under umask 0", oct(mode(desk)))
for name in ("Xauthority", "vnc.sock"):
    p = os.path.join(desk, name)
    TAP.ok(os.path.exists(p) and mode(p) == 0o600, f"desktop/{name} is 0600 under umask 0",
           oct(mode(p)) if os.path.exists(p) else "missing")


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


xvnc = [c for c in children(proc.pid) if comm(c) in ("Xvnc", "Xtigervnc")]
need(len(xvnc) == 1, f"one Xvnc below the app: {[(c, comm(c)) for c in children(proc.pid)]}")
inodes = set()
for fd in os.listdir(f"/proc/{xvnc[0]}/fd"):
    try:
        target = os.readlink(f"/proc/{xvnc[0]}/fd/{fd}")
    except OSError:
        continue
    if target.startswith("socket:["):
        inodes.add(target[8:-1])
listening = []
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:
                    listening.append(cols[1])
    except OSError:
        pass
TAP.ok(not listening, "Xvnc listens on no TCP port (VNC only on the 0600 Unix socket)", listening)

with open(log, errors="replace") as f:
    text = f.read()
display = text.split("Xvnc on display ", 1)[1].split()[0] if "Xvnc on display " in text else None
need(display is not None, f"the app names its display: {tail(log)}")
if shutil.which("xdpyinfo"):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DISPLAY": display}
    r = subprocess.run(["xdpyinfo"], env={**env, "XAUTHORITY": "/dev/null"}, capture_output=True, timeout=10)
    TAP.ok(r.returncode != 0, f"the display {display} refuses a client without the cookie")
    r = subprocess.run(["xdpyinfo"], env={**env, "XAUTHORITY": os.path.join(desk, "Xauthority")},
                       capture_output=True, timeout=10)
    TAP.ok(r.returncode == 0, "and takes one with the session's Xauthority")
TAP.ok(secret not in text, "the app's output does not hold the secret")

# ---- Stop ---------------------------------------------------------------------
kids = children(proc.pid)
stop(proc, signal.SIGTERM, 15)
time.sleep(0.5)
alive = [k for k in kids if os.path.exists(f"/proc/{k}") and comm(k) not in ("", "zombie")]
TAP.ok(proc.returncode is not None and not alive, "SIGTERM ends the app, Xvnc and the desktop's programs",
       [(k, comm(k)) for k in alive])
try:
    socket.create_connection(("127.0.0.1", port), 0.5).close()
    closed = False
except OSError:
    closed = True
TAP.ok(closed, "the port is closed after the stop")
TAP.done()
