"""minna_sec.py: what the controller's hostile-client tests share (issue 15).

The real minna-controller (local backend) and, where the attack goes through
it, the real minna-relay, started as processes of the test on free loopback
ports in a directory of their own; raw HTTP (http.client or sockets) to
attack them; test Unix accounts made with useradd and removed again.  Every
process is started here and stopped here by its PID (the daemons die with
the test through PR_SET_PDEATHSIG too), jobs by the PIDs the controller
recorded; the directory and the accounts are removed at exit, also when a
step failed.  Output is TAP for meson ("ok N - ...", "# ..." diagnostics,
the plan at the end); the exit status is 0 only if every step passed.

Stdlib only: /usr/bin/python3 (Debian's), like the daemons' own jobs.
"""
import atexit
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("MINNA_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
BUILD = os.environ.get("MINNA_BUILD_DIR", "")
CONTROLLER = os.path.join(BUILD, "daemons", "controller", "minna-controller")
RELAY = os.path.join(BUILD, "daemons", "relay", "minna-relay")
APPS = os.path.join(SRC, "daemons", "controller", "apps")
WWW = os.path.join(SRC, "daemons", "controller", "www")

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


# ---- TAP -------------------------------------------------------------------

class Tap:
    """TAP on stdout.  CI shows only a failed test's stderr, so a failure,
    the comments printed since the previous test point and every later
    comment go to stderr too."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self._recent = []

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print(f"# {line}", flush=True)
            if self.failed:
                print(f"# {line}", file=sys.stderr, flush=True)
            elif len(self._recent) < 200:
                self._recent.append(line)

    def ok(self, cond, name, detail=None):
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {name}", flush=True)
        if not cond:
            self.failed += 1
            print(f"not ok {self.n} - {name}", file=sys.stderr, flush=True)
            for line in self._recent:
                print(f"# {line}", file=sys.stderr, flush=True)
            if detail is not None:
                self.diag(detail)
        self._recent = []
        return cond

    def skip_all(self, why):
        print(f"1..0 # SKIP {why}", flush=True)
        sys.exit(77)

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


TAP = Tap()


def need(cond, why):
    """Stops the test here (reported as a failure) when a precondition is not met."""
    if not cond:
        TAP.ok(False, why)
        TAP.done()


# ---- processes and cleanup ---------------------------------------------------

_procs = []
_users = []
_dirs = []


def _child_setup(umask_value):
    def setup():
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.setsid()
        if umask_value is not None:
            os.umask(umask_value)
    return setup


def spawn(argv, log, umask_value=None, env=None):
    f = open(log, "ab")
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, env=env,
                         preexec_fn=_child_setup(umask_value))
    f.close()
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    if p is None or p.poll() is not None:
        return
    p.send_signal(sig)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, log, what, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            need(False, f"{what} exited ({proc.returncode}): {tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    need(False, f"{what} did not come up on port {port}: {tail(log)}")


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def make_user(name):
    """A Unix account of the test's own (removed at exit)."""
    subprocess.run(["userdel", "-f", name], capture_output=True)
    r = subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", name],
                       capture_output=True, text=True)
    need(r.returncode == 0, f"useradd {name}: {r.stderr.strip()}")
    _users.append(name)
    import pwd
    return pwd.getpwnam(name)


def proc_starttime(pid):
    """Start time of @pid (clock ticks since boot, /proc/PID/stat field 22),
    as the local backend records it; 0 when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0


def _kill_jobs(state_dir):
    jobs = os.path.join(state_dir, "jobs")
    try:
        names = os.listdir(jobs)
    except OSError:
        return
    for n in names:
        try:
            text = open(os.path.join(jobs, n)).read()
        except OSError:
            continue
        rec = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        try:
            pid, start = int(rec.get("pid", "0")), int(rec.get("starttime", "0"))
        except ValueError:
            pid, start = 0, 0
        # its own process group only: pids wrap within minutes on a busy
        # machine, and a stale one may now lead another test's daemon
        if pid > 1 and start and proc_starttime(pid) == start:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        for line in text.splitlines():
            if line.startswith("cgroups="):
                time.sleep(0.05)
                for c in line[8:].split(";"):
                    if c:
                        try:
                            os.rmdir(c)
                        except OSError:
                            pass


def cleanup():
    for p in reversed(_procs):
        stop(p, signal.SIGTERM, 5)
    for d in _dirs:
        _kill_jobs(os.path.join(d, "state"))
    for u in _users:
        # the account's processes (its jobs) first, by the account's uid
        subprocess.run(["pkill", "-KILL", "-U", u], capture_output=True)
        time.sleep(0.1)
        subprocess.run(["userdel", "-f", u], capture_output=True)
    for d in _dirs:
        if os.environ.get("MINNA_KEEP_TEST_DIR"):
            print(f"# kept {d}", flush=True)
        else:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))


def require_root():
    if os.geteuid() != 0:
        TAP.skip_all("needs root (test Unix accounts, jobs as users, file owners)")


def require_built():
    for p in (CONTROLLER, RELAY):
        if not os.access(p, os.X_OK):
            TAP.skip_all(f"{p} is not built (MINNA_BUILD_DIR)")


# ---- the daemons -----------------------------------------------------------------

class Portal:
    """minna-controller (+ minna-relay) in a fresh directory.

    users: {name: password}; run_as: "controller" or "user"; extra: config
    text appended to [backend], server_extra to [server]; relay: whether
    to run the relay in front."""

    def __init__(self, name, users, run_as="controller", extra="", relay=True,
                 iterations=1000, umask_value=None, https=False, admins=(), server_extra=""):
        self.dir = tempfile.mkdtemp(prefix=f"minna-sec-{name}-", dir="/var/tmp")
        _dirs.append(self.dir)
        # jobs running as test users pass through it to their session directories
        os.chmod(self.dir, 0o711)
        self.users = dict(users)
        self.umask = umask_value
        self.https = https
        self.port = free_port()
        self.relay_port = free_port() if relay else None
        self.relay_https = free_port() if relay and https else None
        self.relay_admin = free_port() if relay else None
        self.secret_file = os.path.join(self.dir, "admin-secret")
        self.key_file = os.path.join(self.dir, "cookie-key")
        self.users_file = os.path.join(self.dir, "users")
        self.state = os.path.join(self.dir, "state")
        self.access_log = os.path.join(self.dir, "access.log")
        self.relay_state = os.path.join(self.dir, "relay-state")
        with open(os.open(self.secret_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(24).hex() + "\n")
        self.secret = open(self.secret_file).read().strip()
        relay_url = f"http://127.0.0.1:{self.relay_admin}" if relay else ""
        self.config = os.path.join(self.dir, "controller.conf")
        with open(os.open(self.config, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(f"""[server]
listen = 127.0.0.1
port = {self.port}
www_dir = {WWW}
admins = {", ".join(admins)}
{server_extra}
[state]
state_dir = {self.state}
apps_dir = {APPS}
[auth]
methods = users-file
users_file = {self.users_file}
key_file = {self.key_file}
pbkdf2_iterations = {iterations}
[relay]
url = {relay_url}
secret_file = {self.secret_file}
[backend]
run_as = {run_as}
port_lock_dir = {self.dir}/ports
poll_interval_ms = 100
kill_grace = 1s
ready_timeout = 120s
{extra}""")
        for u, pw in self.users.items():
            self.passwd(u, pw)
        self.controller = None
        self.relay = None

    def passwd(self, user, password):
        r = subprocess.run([CONTROLLER, "passwd", "--config", self.config, user],
                           input=password + "\n", text=True, capture_output=True)
        need(r.returncode == 0, f"passwd {user}: {r.stderr}")

    def start_controller(self, expect_fail=False):
        log = os.path.join(self.dir, "controller.log")
        self.controller_log = log
        self.controller = spawn([CONTROLLER, "--config", self.config], log, self.umask)
        if expect_fail:
            try:
                self.controller.wait(20)
            except subprocess.TimeoutExpired:
                return None
            return self.controller.returncode
        wait_port(self.port, self.controller, log, "minna-controller")
        return 0

    def stop_controller(self, sig=signal.SIGTERM):
        stop(self.controller, sig)

    def start_relay(self, expect_fail=False, extra=()):
        log = os.path.join(self.dir, "relay.log")
        self.relay_log = log
        argv = [RELAY, f"--listen-http=127.0.0.1:{self.relay_port}",
                f"--listen-https=127.0.0.1:{self.relay_https}" if self.relay_https else "--listen-https=",
                f"--admin-listen=127.0.0.1:{self.relay_admin}",
                f"--admin-secret-file={self.secret_file}", f"--cookie-key-file={self.key_file}",
                f"--controller-url=http://127.0.0.1:{self.port}",
                f"--state-dir={self.relay_state}", f"--access-log={self.access_log}"] + list(extra)
        loads = tail(log, 100000).count("from the controller")
        self.relay = spawn(argv, log, self.umask)
        if expect_fail:
            try:
                self.relay.wait(20)
            except subprocess.TimeoutExpired:
                return None
            return self.relay.returncode
        wait_port(self.relay_port, self.relay, log, "minna-relay")
        # routes and logins come from the controller once, at start
        end = time.time() + 20
        while time.time() < end and tail(log, 100000).count("from the controller") <= loads:
            time.sleep(0.05)
        return 0

    def stop_relay(self, sig=signal.SIGTERM):
        stop(self.relay, sig)

    def start(self):
        self.start_controller()
        if self.relay_port:
            self.start_relay()
        return self

    # ---- HTTP ----

    def request(self, method, path, body=None, headers=None, via_relay=False, port=None,
                source=None, timeout=30):
        """(status, headers dict (lower-case names, lists), body bytes)."""
        port = port or (self.relay_port if via_relay else self.port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            out = r.read()
            hd = {}
            for k, v in r.getheaders():
                hd.setdefault(k.lower(), []).append(v)
            return r.status, hd, out
        except (OSError, http.client.HTTPException) as e:
            return 0, {}, str(e).encode()
        finally:
            conn.close()

    def login(self, user, password=None, via_relay=False, source=None, headers=None):
        """(status, cookie value or None, csrf or None)."""
        password = password if password is not None else self.users[user]
        st, hd, body = self.request("POST", "/api/v1/login", {"user": user, "password": password},
                                    headers=headers, via_relay=via_relay, source=source)
        cookie = None
        for c in hd.get("set-cookie", []):
            if c.startswith("minna_session="):
                cookie = c.split(";")[0].split("=", 1)[1]
        csrf = None
        if st == 200:
            csrf = json.loads(body).get("csrf_token")
        return st, cookie, csrf

    def cookie_headers(self, cookie, csrf=None, via_relay=False):
        h = {"Cookie": f"minna_session={cookie}"}
        if csrf:
            h["X-CSRF-Token"] = csrf
        return h

    def launch(self, cookie, csrf, app="webapp", wait=True, seconds=90):
        st, _, body = self.request("POST", "/api/v1/sessions", {"app": app, "hours": 1},
                                   headers=self.cookie_headers(cookie, csrf))
        need(st == 201, f"launch {app}: {st} {body[:300]!r}")
        sid = json.loads(body)["id"]
        if wait:
            end = time.time() + seconds
            state = None
            while time.time() < end:
                st, _, body = self.request("GET", f"/api/v1/sessions/{sid}",
                                           headers=self.cookie_headers(cookie))
                if st == 200:
                    s = json.loads(body)
                    state = s["state"]
                    if state in ("running", "failed", "ended"):
                        break
                time.sleep(0.2)
            need(state == "running", f"session {sid} of {app} is {state}: {body[:400]!r}")
        return sid

    def pid(self, which="controller"):
        return (self.controller if which == "controller" else self.relay).pid

    def session_dir(self, sid):
        return os.path.join(self.state + "-sessions", sid)


def rss_kb(pid):
    """(VmRSS, VmHWM) of @pid in kB."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
