#!/usr/bin/env python3
"""controller-e2e.py: the real minna-controller against a real scheduler.

Usage: controller-e2e.py slurm|sge MINNA_CONTROLLER USER POLICY_FILE

Run by run-slurm-suite.sh / run-sge-suite.sh (as root, daemons up, USER a
real Unix user the scheduler runs jobs for).  Starts minna-controller with
[backend] type = slurm (or sge) and minna-relay (from MINNA_BUILD_DIR), logs
users in through the JSON API and checks, through the controller:

  - Jupyter launched to running, its job running in the scheduler, reached
    through the relay: api/status, a kernel started, 1+1 = 2 over the
    kernel WebSocket;
  - (MINNA_E2E_DESKTOP_USER) the remote desktop (desktop.app) launched
    beside Jupyter, through the relay: noVNC's page, a WebSocket upgrade on
    the session's websockify path answered 101 with the VNC server's RFB
    greeting ("RFB 003.00x"), another portal user refused (403) on both;
    then stopped (its job gone) before the scheduler is filled;
  - a second launch by the same user refused (per-user limit);
  - the scheduler's controller daemon stopped while sessions run: they turn
    "unknown", stay listed (id, host), the app still answers through the
    relay; the daemon started again: back to running, the kernel still there;
  - the interactive partition/queue filled by jobs submitted straight to the
    scheduler: a launch with if_busy = wait stays starting with its job
    pending, DELETE ends it and removes the job;
  - (MINNA_E2E_GIVE_UP=1) meanwhile a launch with if_busy = give_up on the
    full scheduler fails saying it was given up, leaving no job; on Slurm
    the waiting session shows the scheduler's estimated start (Grid Engine
    gives none without reservations: docs/deploy-sge.md);
  - Extend (issue 18): the policy's step reaches the scheduler's time limit
    (scontrol update TimeLimit, qalter -l h_rt), a second one past the
    policy's limit is refused with the reason;
  - cancel while running: DELETE, ended, the job gone;
  - walltime end: a web app session of one minute (Slurm counts whole
    minutes; Grid Engine's h_rt is in seconds, so 20 s there) ends by itself;

Other users come from the environment: MINNA_E2E_WALL_USER (walltime
session, then the give-up launch), MINNA_E2E_QUEUE_USER (the waiting launch),
MINNA_E2E_FILL_USERS (space-separated: jobs filling the scheduler),
MINNA_E2E_RESTART (slurmctld-restart.sh / qmaster-restart.sh: stop|start);
a step whose users or script are missing is skipped with a "# " line.
Prints TAP lines without a plan ("ok - ..." / "not ok - ..."), diagnostics
as "# ..."; exits 0 only if every step passed.  A known controller bug
is printed as "not ok - ... # TODO why" (TAP's expected failure) and only
when its exact symptom shows.  Kills the controller, the
relay and the jobs it submitted itself by id at exit.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# tests/cluster/cluster-e2e.py imports this file for its helpers (the
# WebSocket and API clients, relay requests, 1+1 on a kernel) and sets these
if __name__ == "__main__":
    SCHED, CONTROLLER, USER, POLICY = sys.argv[1:5]
else:
    SCHED = CONTROLLER = USER = POLICY = ""
# where minna-relay listens (tests/cluster: HTTPS on the service node's
# address, with an SSL context trusting its certificate for the WebSocket;
# urllib's requests get theirs from an installed opener)
RELAY_HOST = "127.0.0.1"
RELAY_SCHEME = "http"
RELAY_SSL = None
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MINNA_SOURCE_DIR", os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("MINNA_BUILD_DIR", "")
RELAY = os.path.join(BUILD, "daemons", "relay", "minna-relay") if BUILD else ""
WALL_USER = os.environ.get("MINNA_E2E_WALL_USER", "")
QUEUE_USER = os.environ.get("MINNA_E2E_QUEUE_USER", "")
FILL_USERS = os.environ.get("MINNA_E2E_FILL_USERS", "").split()
RESTART = os.environ.get("MINNA_E2E_RESTART", "")
TWIN_APP = os.path.join(BUILD, "tests", "twin", "minna-twin-app") if BUILD else ""
GIVE_UP = os.environ.get("MINNA_E2E_GIVE_UP", "") == "1"
DESKTOP_USER = os.environ.get("MINNA_E2E_DESKTOP_USER", "")
# Slurm counts walltime in whole minutes; Grid Engine's h_rt in seconds.
WALL_SECONDS = 60 if SCHED == "slurm" else 20
failed = 0
T0 = time.time()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def ok(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + what, flush=True)
    if not cond:
        # CI shows a failed test's stderr only: the failure and every later
        # comment go there too
        print("not ok - " + what, file=sys.stderr, flush=True)
        failed += 1
    return cond


def todo(what, why):
    """A known controller bug, shown as TAP's expected failure (not counted)."""
    print(f"not ok - {what} # TODO {why}".replace("\n", " "), flush=True)


def diag(text):
    for line in str(text).splitlines():
        print("# " + line, flush=True)
        if failed:
            print("# " + line, file=sys.stderr, flush=True)


def elapsed():
    return f"{time.time() - T0:.0f} s"


# ---- the scheduler, asked directly -----------------------------------------

def scheduler_state(session_id):
    """The state the scheduler lists the session's job in ('' when none)."""
    name = "minna-" + session_id
    try:
        if SCHED == "slurm":
            out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%T"], capture_output=True,
                                 text=True, timeout=15).stdout
            return out.strip()
        out = subprocess.run(["qstat", "-u", "*"], capture_output=True, text=True,
                             timeout=15).stdout
        for line in out.splitlines():
            f = line.split()
            # job-ID prior name user state ...; qstat cuts names to 10 chars
            if len(f) > 4 and name.startswith(f[2]) and f[2].startswith("minna-"):
                return f[4]
        return ""
    except subprocess.TimeoutExpired:
        return "?"


def scheduler_time_limit(session_id):
    """The job's time limit as the scheduler holds it, in seconds (None: not found)."""
    name = "minna-" + session_id
    try:
        if SCHED == "slurm":
            out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%l"], capture_output=True,
                                 text=True, timeout=15).stdout.strip()
            m = re.match(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$", out)
            if not m:
                return None
            d, h, mi, se = (int(x) if x else 0 for x in m.groups())
            return ((d * 24 + h) * 60 + mi) * 60 + se
        out = subprocess.run(["qstat", "-u", "*"], capture_output=True, text=True,
                             timeout=15).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) > 4 and name.startswith(f[2]) and f[2].startswith("minna-"):
                j = subprocess.run(["qstat", "-j", f[0]], capture_output=True, text=True,
                                   timeout=15).stdout
                m = re.search(r"h_rt=(\d+)", j)
                return int(m.group(1)) if m else None
        return None
    except subprocess.TimeoutExpired:
        return None


def wait_scheduler(session_id, states, seconds):
    """Wait until the job's scheduler state is in @states ('' = gone)."""
    end = time.time() + seconds
    st = "?"
    while time.time() < end:
        st = scheduler_state(session_id)
        if st in states:
            return True, st
        time.sleep(0.5)
    return False, st


def submit_direct(user):
    """A job of @user in the interactive partition/queue, past the controller."""
    if SCHED == "slurm":
        argv = ["sbatch", "--parsable", f"--uid={user}", f"--gid={user}", "--export=NONE",
                "--chdir=/tmp", "-o", "/dev/null", "-p", "interactive", "-J", "e2e-fill",
                "--wrap", "sleep 600"]
    else:
        argv = ["runuser", "-u", user, "--", "qsub", "-terse", "-wd", "/tmp", "-o", "/dev/null",
                "-j", "y", "-b", "y", "-q", "interactive.q", "-N", "e2e-fill", "sleep", "600"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd="/tmp")
    if r.returncode != 0:
        diag(f"{' '.join(argv)}: {r.stderr.strip()}")
        return ""
    return r.stdout.strip().split(";")[0]


def direct_state(job_id):
    try:
        if SCHED == "slurm":
            return subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True,
                                  text=True, timeout=15).stdout.strip()
        out = subprocess.run(["qstat", "-u", "*"], capture_output=True, text=True,
                             timeout=15).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) > 4 and f[0] == job_id:
                return f[4]
        return ""
    except subprocess.TimeoutExpired:
        return "?"


def cancel_direct(job_ids):
    if not job_ids:
        return
    argv = (["scancel"] if SCHED == "slurm" else ["qdel"]) + list(job_ids)
    subprocess.run(argv, capture_output=True, timeout=30)


def restart_scheduler(action):
    r = subprocess.run([RESTART, action], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        diag(f"{RESTART} {action}: exit {r.returncode}: {r.stderr.strip()}")
    return r.returncode == 0


RUNNING = ("RUNNING", "r")
PENDING = ("PENDING", "qw")


# ---- a minimal WebSocket client (RFC 6455: handshake, masked text frames) ----

class WebSocket:
    def __init__(self, host, port, path, headers, timeout=30, ssl_context=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if ssl_context is not None:
            self.sock = ssl_context.wrap_socket(self.sock, server_hostname=host)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n")
        for k, v in headers.items():
            req += f"{k}: {v}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError(f"handshake: connection closed after {buf[:200]!r}")
            buf += chunk
        head, self.buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise OSError(f"handshake: {lines[0]}")
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        accept = [l.split(":", 1)[1].strip() for l in lines[1:]
                  if l.lower().startswith("sec-websocket-accept:")]
        if accept != [want]:
            raise OSError(f"handshake: Sec-WebSocket-Accept {accept}, want {want}")

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send_text(self, text):
        self._send(0x1, text.encode())

    def recv_text(self):
        """The next whole text message; None once the peer closes."""
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(self._read(2), "big")
            elif n == 127:
                n = int.from_bytes(self._read(8), "big")
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                return None
            if opcode == 0x9:
                self._send(0xA, data)
                continue
            if opcode in (0x1, 0x2, 0x0):
                parts.append(data)
                if b0 & 0x80:
                    return b"".join(parts).decode(errors="replace")

    def close(self):
        try:
            self._send(0x8, b"")
        except OSError:
            pass
        self.sock.close()


# ---- the controller's API, as one logged-in user -----------------------------

class Client:
    def __init__(self, base, user, password):
        self.base, self.user, self.password = base, user, password
        self.cookie = ""   # Secure cookie: a jar would not send it over plain HTTP
        self.csrf = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.csrf and method != "GET":
            req.add_header("X-CSRF-Token", self.csrf)
        if self.cookie:
            req.add_header("Cookie", self.cookie)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                for h in r.headers.get_all("Set-Cookie") or []:
                    self.cookie = h.split(";", 1)[0]
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text
        except (urllib.error.URLError, OSError) as e:
            return 0, str(e)

    def login(self):
        st, me = self.call("POST", "/api/v1/login", {"user": self.user, "password": self.password})
        if st == 200:
            self.csrf = me["csrf_token"]
        return st, me

    def launch(self, **body):
        return self.call("POST", "/api/v1/sessions", body)

    def session(self, sid):
        return self.call("GET", f"/api/v1/sessions/{sid}")

    def wait(self, sid, states, seconds, also=None):
        """Poll until the session's state is in @states; (ok, session)."""
        end = time.time() + seconds
        s = {}
        while time.time() < end:
            st, s = self.session(sid)
            if st == 200 and s["state"] in states:
                return True, s
            if also:
                also()
            time.sleep(0.5)
        return False, s


def relay_request(relay_port, client, path, method="GET", body=None, timeout=30):
    """(status, body text) of a request through minna-relay with the login cookie."""
    req = urllib.request.Request(f"{RELAY_SCHEME}://{RELAY_HOST}:{relay_port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    # Jupyter's XSRF check stays on behind the relay (double submit)
    req.add_header("Cookie", client.cookie + "; _xsrf=e2e")
    req.add_header("X-XSRFToken", "e2e")
    # the relay lets state changes in from its own pages only
    req.add_header("Origin", f"{RELAY_SCHEME}://{RELAY_HOST}:{relay_port}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def relay_wait(relay_port, client, path, check, seconds):
    end = time.time() + seconds
    st, body = 0, ""
    while time.time() < end:
        st, body = relay_request(relay_port, client, path, timeout=10)
        if check(st, body):
            return True, st, body
        time.sleep(0.3)
    return False, st, body


def nodes_available(client):
    """The policy nodes' availability as GET /api/v1/queue shows it."""
    st, q = client.call("GET", "/api/v1/queue")
    if st != 200 or not isinstance(q, dict):
        return None
    return [n.get("available") for n in q.get("nodes", [])]


def wait_available(client, want, seconds):
    """Until GET /api/v1/queue shows the nodes' availability as @want (the
    controller asks the scheduler at most every 5 s); (True, it) or (False,
    what it showed last)."""
    end = time.time() + seconds
    got = None
    while time.time() < end:
        got = nodes_available(client)
        if got == want:
            return True, got
        time.sleep(0.3)
    return False, got


def one_plus_one(relay_port, client, url):
    """Start a kernel through the relay and run 1+1 on its WebSocket: (kernel id, result)."""
    st, body = relay_request(relay_port, client, url + "api/kernels", "POST", {})
    if st != 201:
        raise OSError(f"POST {url}api/kernels: {st} {body[:300]}")
    kid = json.loads(body)["id"]
    ws = WebSocket(RELAY_HOST, relay_port, f"{url}api/kernels/{kid}/channels",
                   {"Cookie": client.cookie, "Origin": f"{RELAY_SCHEME}://{RELAY_HOST}:{relay_port}"},
                   timeout=60, ssl_context=RELAY_SSL)
    try:
        msg_id = "e2e-" + secrets.token_hex(4)
        ws.send_text(json.dumps({
            "header": {"msg_id": msg_id, "username": "e2e", "session": secrets.token_hex(8),
                       "msg_type": "execute_request", "version": "5.3",
                       "date": "2026-01-01T00:00:00Z"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": "1+1", "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        end = time.time() + 60
        while time.time() < end:
            text = ws.recv_text()
            if text is None:
                break
            m = json.loads(text)
            if (m.get("header", {}).get("msg_type") == "execute_result"
                    and m.get("parent_header", {}).get("msg_id") == msg_id):
                return kid, m["content"]["data"]["text/plain"]
        return kid, None
    finally:
        ws.close()


def write_config(tmp, port, relay_url, secret, apps_dir):
    conf = os.path.join(tmp, "controller.conf")
    with open(conf, "w") as f:
        f.write(f"""[server]
listen = 127.0.0.1
port = {port}
www_dir = {SRC}/daemons/controller/www
[state]
state_dir = {tmp}/state
apps_dir = {apps_dir}
policy_file = {POLICY}
[auth]
methods = users-file
users_file = {tmp}/users
key_file = {tmp}/cookie-key
pbkdf2_iterations = 1000
[relay]
url = {relay_url}
secret_file = {secret}
[backend]
type = {SCHED}
run_as = user
job_host = {JOB_HOST}
port_lock_dir = {tmp}/ports
poll_interval_ms = 500
ready_timeout = 90s
command_timeout = 15s
memory_resource = h_vmem
""")
    return conf


def controller_setup(prefix, users):
    """A directory for a controller of a test (0711: the jobs, as their
    users, reach state/sessions/<id>), the apps copied, an admin secret, its
    configuration (write_config; no relay: the apps answer the controller's
    probe directly) and a password pw-USER-1 for each of @users; (tmp, conf)."""
    tmp = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
    os.chmod(tmp, 0o711)
    apps_dir = os.path.join(tmp, "apps")
    shutil.copytree(os.path.join(SRC, "daemons", "controller", "apps"), apps_dir)
    secret = os.path.join(tmp, "admin-secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(secrets.token_hex(24) + "\n")
    conf = write_config(tmp, free_port(), "", secret, apps_dir)
    try:
        for u in users:
            subprocess.run([CONTROLLER, "passwd", "--config", conf, u], input=f"pw-{u}-1\n",
                           text=True, check=True, capture_output=True, timeout=30)
    except (subprocess.SubprocessError, OSError):
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp, conf


def start_controller(conf, log_path):
    """minna-controller on @conf, its standard error appended to @log_path;
    (process, its base URL or None when it did not say it listens)."""
    log = open(log_path, "a")
    proc = subprocess.Popen([CONTROLLER, "--config", conf], stdout=subprocess.PIPE, stderr=log,
                            text=True)
    line = proc.stdout.readline()
    return proc, (line.strip().split()[-1] if "listening on http://" in line else None)


def controller_teardown(tmp, log_path):
    """After a test of controller_setup's: the controller's log (its tail)
    as diagnostics when a step failed, then its directory removed."""
    if failed:
        try:
            with open(log_path) as f:
                diag(f.read()[-4000:])
        except OSError:
            pass
    shutil.rmtree(tmp, ignore_errors=True)


# Jobs listen on their node's own address (job_host = node), and the
# controller checks it against the node the scheduler names: Grid Engine's
# exec host in qstat (interactive.q@HOST), Slurm's NodeAddr (sinfo) of the
# job's node (squeue %B; this test cluster's NodeNames do not resolve).
JOB_HOST = "node"


# ---- the steps ------------------------------------------------------------------

def step_jupyter(ctx):
    """Jupyter to running, through the relay: api/status, a kernel, 1+1."""
    c, relay_port = ctx["user"], ctx["relay_port"]
    t = time.time()
    # Grid Engine's h_vmem limits virtual memory: Jupyter's threads need room
    st, s = c.launch(app="jupyter", cores=1, memory_gb=3, hours=0.5, if_busy="wait")
    if not ok(st == 201, f"Jupyter launch accepted ({st})"):
        diag(s)
        return None
    sid = s["id"]
    seen = [""]

    def look():
        seen[0] = scheduler_state(sid) or seen[0]
    up, s = c.wait(sid, ("running", "failed", "ended"), 100, look)
    look()
    if not ok(up and s["state"] == "running",
              f"Jupyter session reaches running in {time.time() - t:.1f} s"):
        diag(s)
        return None
    ok(seen[0] in RUNNING, f"its job minna-{sid} runs in the real scheduler ({seen[0] or 'none'})")
    url = s["url"]
    diag(f"Jupyter session {sid} on {s.get('host')}, url {url}")
    good, st, body = relay_wait(relay_port, c, url + "api/status",
                                lambda st, b: st == 200, 30)
    if not ok(good and "started" in body, f"GET {url}api/status through minna-relay: {st}"):
        diag(body[-500:])
        return sid
    try:
        kid, result = one_plus_one(relay_port, c, url)
        ok(result == "2", f"1+1 on a kernel through the relay's WebSocket gives {result!r}")
        ctx["kernel"] = kid
    except (OSError, ValueError, KeyError) as e:
        ok(False, f"1+1 on a kernel through the relay's WebSocket ({e})")
    return sid


def desktop_launch(ctx):
    """The desktop of DESKTOP_USER, launched beside Jupyter (its start overlaps)."""
    if not DESKTOP_USER:
        diag("skip the desktop: MINNA_E2E_DESKTOP_USER not set")
        return
    c = ctx["clients"][DESKTOP_USER]
    # Grid Engine's h_vmem counts virtual memory: Xvnc, Python and Openbox
    st, s = c.launch(app="desktop", cores=1, memory_gb=3, hours=0.1, if_busy="wait")
    if ok(st == 201, f"a desktop session of {DESKTOP_USER} launched ({st})"):
        ctx["desktop"] = {"id": s["id"], "t": time.time()}
    else:
        diag(s)


def ws_first_message(relay_port, client, path, seconds=20):
    """(status line or None, first message) of a WebSocket upgrade through the relay."""
    origin = f"{RELAY_SCHEME}://{RELAY_HOST}:{relay_port}"
    try:
        ws = WebSocket(RELAY_HOST, relay_port, path,
                       {"Cookie": client.cookie, "Origin": origin, "Sec-WebSocket-Protocol": "binary"},
                       timeout=seconds, ssl_context=RELAY_SSL)
    except OSError as e:
        m = re.search(r"handshake: (HTTP/1\.1 \d+.*)", str(e))
        return (m.group(1) if m else str(e)), None
    try:
        return "HTTP/1.1 101", ws.recv_text()
    except OSError as e:
        return "HTTP/1.1 101", f"(nothing: {e})"
    finally:
        ws.close()


def step_desktop(ctx):
    """The desktop through the relay: noVNC, the VNC WebSocket, 403 to others; stopped."""
    d = ctx.get("desktop")
    if not d:
        return
    c, other, relay_port = ctx["clients"][DESKTOP_USER], ctx["user"], ctx["relay_port"]
    sid = d["id"]
    try:
        up, s = c.wait(sid, ("running", "failed", "ended"), 90)
        if not ok(up and s["state"] == "running",
                  f"the desktop reaches running {time.time() - d['t']:.1f} s after its launch"
                  f" ({s.get('state')})"):
            diag(s)
            return
        sst = scheduler_state(sid)
        ok(sst in RUNNING, f"its job minna-{sid} runs in the real scheduler ({sst or 'none'})")
        url = s["url"]
        st, body = relay_request(relay_port, c, url + "vnc.html")
        ok(st == 200 and "noVNC" in body, f"GET {url}vnc.html through minna-relay: noVNC's page ({st})")
        status, first = ws_first_message(relay_port, c, url + "websockify")
        ok(status.startswith("HTTP/1.1 101"), f"WebSocket upgrade on {url}websockify through the"
           f" relay: {status}")
        ok(first is not None and re.match(r"RFB 003\.00\d", first) is not None,
           f"the VNC server's RFB handshake begins on it ({(first or '')[:12].strip()!r})")
        st, body = relay_request(relay_port, other, url + "vnc.html")
        ok(st == 403, f"another portal user ({other.user}) gets {st} on the desktop's page")
        status, first = ws_first_message(relay_port, other, url + "websockify")
        ok(status.startswith("HTTP/1.1 403"), f"... and {status} on its WebSocket")
    finally:
        t = time.time()
        st, _ = c.call("DELETE", f"/api/v1/sessions/{sid}")
        ended, s = c.wait(sid, ("ended", "failed"), 60)
        gone, sst = wait_scheduler(sid, ("", "CANCELLED", "COMPLETING"), 60)
        ok(st in (200, 202, 204) and ended and gone,
           f"the desktop stopped: ended {time.time() - t:.1f} s after DELETE, its job gone"
           f" ({st}, {s.get('state')}, {sst or 'gone'})")
        ctx.pop("desktop", None)


def step_per_user(ctx):
    c = ctx["user"]
    st, body = c.launch(app="webapp", cores=1, memory_gb=0.25, hours=0.1, if_busy="wait")
    reason = body.get("reason") if isinstance(body, dict) else None
    if not ok(st == 409 and reason == "per-user-limit",
              f"a second launch by {USER} is refused: {st} {reason}"):
        diag(body)
        if st == 201:
            c.call("DELETE", f"/api/v1/sessions/{body['id']}")
    else:
        diag(f"refusal: {body.get('error')}")


def step_scheduler_down(ctx, sid):
    """The scheduler's controller daemon stopped under a running session."""
    c, relay_port = ctx["user"], ctx["relay_port"]
    daemon = "slurmctld" if SCHED == "slurm" else "sge_qmaster"
    st, before = c.session(sid)
    if not ok(restart_scheduler("stop"), f"{daemon} stopped while the session runs"):
        return
    try:
        t = time.time()
        unknown, s = c.wait(sid, ("unknown",), 60)
        if not ok(unknown, f"the session turns unknown {time.time() - t:.1f} s after {daemon} stopped"):
            diag(s)
        else:
            diag(f"reason: {s.get('reason')}")
        st, lst = c.call("GET", "/api/v1/sessions")
        mine = [x for x in lst.get("sessions", [])] if isinstance(lst, dict) else []
        same = [x for x in mine if x["id"] == sid and x.get("host") == before.get("host")]
        ok(st == 200 and len(same) == 1,
           f"nothing lost: the session is still listed (id {sid}, host {before.get('host')})")
        good, st, body = relay_wait(relay_port, c, before["url"] + "api/status",
                                    lambda st, b: st == 200, 15)
        ok(good, f"with {daemon} down, the app still answers through the relay ({st})")
    finally:
        t = time.time()
        started = restart_scheduler("start")
    if not ok(started, f"{daemon} started again in {time.time() - t:.1f} s"):
        return
    t = time.time()
    back, s = c.wait(sid, ("running", "failed", "ended"), 60)
    if not ok(back and s["state"] == "running",
              f"the session is running again {time.time() - t:.1f} s after {daemon} returned"):
        diag(s)
        return
    ok(s["url"] == before["url"] and s.get("host") == before.get("host"),
       "same route and host as before")
    good, st, body = relay_wait(relay_port, c, s["url"] + "api/kernels",
                                lambda st, b: st == 200, 20)
    kid = ctx.get("kernel")
    ok(good and (kid is None or kid in body),
       f"it answers through the relay again, its kernel still there ({st})")


def step_full(ctx):
    """Fill the scheduler past the controller; wait/cancel while queued; give-up."""
    if not QUEUE_USER or len(FILL_USERS) < 2:
        diag("skip full-scheduler steps: MINNA_E2E_QUEUE_USER / MINNA_E2E_FILL_USERS not set")
        return
    q = ctx["queue"]
    fill = [j for j in (submit_direct(u) for u in FILL_USERS) if j]
    ctx["fill"] = fill
    # Grid Engine right after the qmaster restart (step_scheduler_down): the
    # execd reports its load only at its next load_report_time, and until
    # then the queue instance stays unknown and new jobs qw (seen in CI).
    end = time.time() + (90 if SCHED == "sge" else 30)
    while time.time() < end and any(direct_state(j) not in RUNNING for j in fill):
        time.sleep(0.5)
    states = [direct_state(j) for j in fill]
    if not ok(len(fill) == len(FILL_USERS) and all(s in RUNNING for s in states),
              f"{len(fill)} jobs of {' '.join(FILL_USERS)} submitted straight to the scheduler"
              f" run beside Jupyter: the interactive {'partition' if SCHED == 'slurm' else 'queue'}"
              f" is full ({' '.join(states)})"):
        return

    # -- if_busy = wait: admitted by the controller, pending in the scheduler
    t = time.time()
    st, s = q.launch(app="webapp", cores=1, memory_gb=0.25, hours=0.1, if_busy="wait")
    if not ok(st == 201, f"a waiting launch by {QUEUE_USER} is admitted by the controller ({st})"):
        diag(s)
        return
    sid = s["id"]
    pend, sst = wait_scheduler(sid, PENDING, 20)
    ok(pend, f"its job is pending in the scheduler ({sst or 'none'})")
    time.sleep(2)
    st, s = q.session(sid)
    ok(st == 200 and s["state"] == "starting" and scheduler_state(sid) in PENDING,
       f"the session stays starting while its job is pending ({s.get('state')}:"
       f" {s.get('reason')})")

    # -- if_busy = give_up meanwhile, by another user (one job per user)
    if GIVE_UP and WALL_USER:
        step_give_up(ctx)
    elif not GIVE_UP:
        diag("skip give-up through the controller: set MINNA_E2E_GIVE_UP=1")

    # -- the waiting session's estimated start: Slurm's backfill estimate
    # (squeue %S, set by the backfill pass, every 30 s); Grid Engine gives
    # none without reservations (docs/deploy-sge.md)
    if GIVE_UP and SCHED == "slurm":
        end = t + 60
        while time.time() < end:
            st, s = q.session(sid)
            if st == 200 and s.get("estimated_start"):
                break
            time.sleep(1)
        est = s.get("estimated_start")
        ok(bool(est) and s.get("estimated_start_source") == "scheduler",
           f"the waiting session shows Slurm's estimated start {time.time() - t:.0f} s after launch"
           f" ({est and est - int(time.time())} s from now, source {s.get('estimated_start_source')})")
    elif GIVE_UP:
        st, s = q.session(sid)
        diag(f"estimated_start of the waiting session: {s.get('estimated_start')}"
             f" (source {s.get('estimated_start_source')})")

    # -- cancel while queued
    t = time.time()
    st, body = q.call("DELETE", f"/api/v1/sessions/{sid}")
    ok(st in (200, 202, 204), f"DELETE while queued accepted ({st})")
    ended, s = q.wait(sid, ("ended", "failed"), 20)
    what = f"cancelled while queued: ended in {time.time() - t:.1f} s ({s.get('state')})"
    if (not ended and SCHED == "sge" and s.get("state") == "unknown"
            and "qacct" in (s.get("reason") or "")):
        # known controller bug: Grid Engine keeps no accounting record of a
        # job deleted before it ran, and the backend calls it unknown forever
        todo(what, f"controller: {s.get('reason')}")
    elif not ok(ended and s["state"] == "ended", what):
        diag(s)
    gone, sst = wait_scheduler(sid, ("",), 30)
    ok(gone, f"its pending job is gone from the scheduler ({sst or 'gone'})")


def step_give_up(ctx):
    """A give-up launch on the full scheduler fails, leaving no job."""
    g = ctx["wall_client"]
    t = time.time()
    st, s = g.launch(app="webapp", cores=1, memory_gb=0.25, hours=0.1, if_busy="give_up")
    if not ok(st in (201, 409), f"a give-up launch by {WALL_USER} answered ({st})"):
        diag(s)
        return
    if st == 201:
        sid = s["id"]
        done, s = g.wait(sid, ("failed", "ended", "running"), 60)
    else:
        sid, done = None, True
    reason = (s.get("reason") or s.get("error") or "") if isinstance(s, dict) else str(s)
    if not ok(done and (st == 409 or s["state"] == "failed")
              and re.search(r"give|gave|busy|could not start|did not start", reason, re.I),
              f"given up in {time.time() - t:.1f} s: {s.get('state', st)}, reason names the give-up"):
        diag(s)
    else:
        diag(f"reason: {reason}")
    if sid:
        gone, sst = wait_scheduler(sid, ("", "CANCELLED"), 30)
        ok(gone, f"no job left behind in the scheduler ({sst or 'gone'})")
        if done and s.get("state") == "running":
            g.call("DELETE", f"/api/v1/sessions/{sid}")


def step_extend(ctx, sid):
    """Extend (issue 18): the policy's step reaches the scheduler (scontrol
    update TimeLimit / qalter -l h_rt); past the policy's limit it is refused
    with the reason."""
    c = ctx["user"]
    # a session the scheduler could not be asked about (unknown) is not
    # extended: wait for it to be running
    running, s = c.wait(sid, ("running",), 60)
    diag(f"before Extend the session is {s.get('state')} ({s.get('reason')})")
    before = scheduler_time_limit(sid)
    st, s = c.call("POST", f"/api/v1/sessions/{sid}/extend")
    if not ok(st == 200, f"Extend accepted ({st}: {s.get('error') if st != 200 else s.get('hours')} h)"):
        diag(s)
        return
    ok(abs(s["hours"] - 1.0) < 0.01, f"the session's run time is the policy's limit now ({s['hours']} h)")
    after = scheduler_time_limit(sid)
    ok(after is not None and after >= 3600 and (before is None or after > before),
       f"the scheduler's time limit of the job grew: {before} s -> {after} s")
    st, s = c.call("POST", f"/api/v1/sessions/{sid}/extend")
    ok(st == 409 and s.get("reason") == "policy" and "longest run time" in (s.get("error") or ""),
       f"a second Extend past [queue] max_walltime refused with the reason ({st}: {s.get('error')})")
    st, s = c.call("GET", f"/api/v1/sessions/{sid}")
    ok(st == 200 and s.get("state") == "running", f"the session still runs ({s.get('state')})")


def step_cancel_running(ctx, sid):
    c = ctx["user"]
    t = time.time()
    st, body = c.call("DELETE", f"/api/v1/sessions/{sid}")
    ok(st in (200, 202, 204), f"DELETE while running accepted ({st})")
    ended, s = c.wait(sid, ("ended", "failed"), 60)
    ok(ended and s["state"] == "ended", f"the session has ended {time.time() - t:.1f} s after DELETE")
    gone, sst = wait_scheduler(sid, ("", "CANCELLED", "COMPLETING"), 60)
    ok(gone, f"the scheduler no longer runs the job ({sst or 'gone'})")


def step_walltime(ctx):
    w = ctx.get("wall")
    if not w:
        return
    c, sid, t = ctx["wall_client"], w["id"], w["t"]
    # Slurm checks time limits every 30 s, then KillWait; execd enforces h_rt
    ended, s = c.wait(sid, ("ended", "failed"), WALL_SECONDS + 150 - (time.time() - t))
    reason = s.get("reason") or ""
    ok(ended, f"walltime: the {WALL_SECONDS} s session ended by itself"
       f" {time.time() - t:.0f} s after launch ({s.get('state')})")
    # the walltime must be named: 'TIMEOUT' (sacct), 'walltime', 'time limit'
    named = re.search(r"walltime|time.?limit|TIMEOUT|h_rt", reason, re.I)
    events = " | ".join(e.get("message") or "" for e in s.get("events", []))
    if ended and not named:
        # the controller passes on the scheduler's words (e.g. 'killed by
        # signal 9'): report it, the lead decides; not a failure here
        todo("walltime end: the reason names the time limit", f"reason is {reason!r}")
        diag(f"events: {events}")
    else:
        ok(bool(named), f"walltime end: the reason names the time limit ({reason!r})")
    gone, sst = wait_scheduler(sid, ("", "TIMEOUT", "COMPLETING"), 30)
    ok(gone, f"the walltime job is gone from the scheduler ({sst or 'gone'})")


# ---- the twin ---------------------------------------------------------------------

def twin_tsv(text):
    """Rows of a minna-twin TSV: (header, [dict per row])."""
    lines = [l for l in text.splitlines() if l]
    head = lines[0].split("\t")
    return head, [dict(zip(head, l.split("\t"))) for l in lines[1:]]


def write_twin_apps(apps_dir, plan, scenario):
    """One app per session: minna-twin-app playing that session of @scenario
    (tests/twin/scheduler-twin.py plays the twin scenarios on both schedulers)."""
    for s in plan:
        with open(os.path.join(apps_dir, f"twin-{s['name']}.app"), "w") as f:
            f.write(f"""[app]
name = twin {s['name']}
readiness_path = api/status
command = exec {TWIN_APP} --scenario {scenario} --session {s['name']} --host {{host}} --port {{port}} --base-url {{base_url}}
[field cores]
min = 1
max = 4096
default = 1
[field memory_gb]
min = 0.0001
max = 65536
default = 1
[field hours]
min = 0.0001
max = 744
default = 1
""")


def stop_process(proc):
    """SIGTERM, then SIGKILL after 15 s: a daemon this script started."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="minna-e2e-", dir="/var/tmp")
    # the job (a user) must reach state/sessions/<id>; the controller makes
    # sessions/ 0711 and each session directory the user's
    os.chmod(tmp, 0o711)
    use_relay = bool(RELAY) and os.access(RELAY, os.X_OK)
    if not use_relay:
        ok(False, f"minna-relay is built ({RELAY or 'MINNA_BUILD_DIR not set'})")
        return
    relay_http, relay_admin = free_port(), free_port()
    secret = os.path.join(tmp, "admin-secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(secrets.token_hex(24) + "\n")
    apps_dir = os.path.join(tmp, "apps")
    shutil.copytree(os.path.join(SRC, "daemons", "controller", "apps"), apps_dir)
    ctx = {"relay_port": relay_http, "fill": []}
    conf = write_config(tmp, free_port(), f"http://127.0.0.1:{relay_admin}", secret, apps_dir)
    users = [u for u in dict.fromkeys([USER, WALL_USER, QUEUE_USER, DESKTOP_USER]) if u]
    proc = relay = None
    try:
        for u in users:
            subprocess.run([CONTROLLER, "passwd", "--config", conf, u], input=f"pw-{u}-1\n",
                           text=True, check=True, capture_output=True, timeout=30)
        log = open(os.path.join(tmp, "controller.log"), "w")
        proc = subprocess.Popen([CONTROLLER, "--config", conf], stdout=subprocess.PIPE,
                                stderr=log, text=True)
        line = proc.stdout.readline()
        if not ok("listening on http://" in line, f"minna-controller ({SCHED} backend) starts"):
            diag(line)
            return
        base = line.strip().split()[-1]
        # the controller has created the cookie key the relay checks
        relay = subprocess.Popen(
            [RELAY, "--listen-https", "", "--listen-http", f"127.0.0.1:{relay_http}",
             "--admin-listen", f"127.0.0.1:{relay_admin}", "--admin-secret-file", secret,
             "--cookie-key-file", f"{tmp}/cookie-key", "--controller-url", base,
             "--state-dir", f"{tmp}/relay-state", "--access-log", ""],
            stdout=log, stderr=log)
        if not ok(wait_port(relay_http, 20), "minna-relay starts"):
            return
        clients = {u: Client(base, u, f"pw-{u}-1") for u in users}
        for u, c in clients.items():
            st, me = c.login()
            if not ok(st == 200, f"{u} logs in through the API"):
                diag(me)
                return
        ctx["user"] = clients[USER]
        ctx["queue"] = clients.get(QUEUE_USER)
        ctx["clients"] = clients

        # walltime first, checked last: it overlaps everything else.  On
        # Slurm it runs in the batch partition, leaving the interactive one
        # to the steps below; Grid Engine has only interactive.q, so there it
        # is short and over before the scheduler is filled.
        if WALL_USER:
            wc = ctx["wall_client"] = clients[WALL_USER]
            st, s = wc.launch(app="webapp", cores=1, memory_gb=0.25, hours=WALL_SECONDS / 3600,
                              if_busy="wait", queue="batch" if SCHED == "slurm" else "interactive")
            if ok(st == 201, f"a {WALL_SECONDS} s web app session of {WALL_USER} launched ({st})"):
                ctx["wall"] = {"id": s["id"], "t": time.time()}
            else:
                diag(s)
        else:
            diag("skip walltime: MINNA_E2E_WALL_USER not set")

        desktop_launch(ctx)
        sid = step_jupyter(ctx)
        diag(f"at {elapsed()}")
        # before the per-user refusal: with the desktop and Grid Engine's
        # walltime session beside Jupyter the queue is full
        step_desktop(ctx)
        diag(f"at {elapsed()}")
        if sid is None:
            return
        step_per_user(ctx)
        if SCHED == "sge":
            step_walltime(ctx)
            ctx.pop("wall", None)
            diag(f"at {elapsed()}")
        if RESTART:
            step_scheduler_down(ctx, sid)
        else:
            diag("skip scheduler stop: MINNA_E2E_RESTART not set")
        diag(f"at {elapsed()}")
        step_full(ctx)
        cancel_direct(ctx["fill"])
        diag(f"at {elapsed()}")
        step_extend(ctx, sid)
        step_cancel_running(ctx, sid)
        step_walltime(ctx)
        diag(f"at {elapsed()}")
        diag(f"done at {elapsed()}")
    finally:
        cancel_direct(ctx["fill"])
        if relay is not None:
            stop_process(relay)
        if proc is not None:
            stop_process(proc)
        if failed or os.environ.get("MINNA_E2E_LOG"):
            try:
                with open(os.path.join(tmp, "controller.log")) as f:
                    diag(f.read()[-6000:])
            except OSError:
                pass
        if os.environ.get("MINNA_KEEP_TEST_DIR"):
            diag(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(1 if failed else 0)
