#!/usr/bin/env python3
"""controller-e2e.py: the real minna-controller against a real scheduler.

Usage: controller-e2e.py slurm|sge MINNA_CONTROLLER USER POLICY_FILE

Run by run-slurm-suite.sh / run-sge-suite.sh (as root, daemons up, USER a
real Unix user the scheduler runs jobs for).  Starts minna-controller with
[backend] type = slurm (or sge) and the generic web app, logs USER in through
the JSON API, launches a session, waits until it is running (its job runs in
the scheduler and the app answers), stops it with DELETE and waits until it
has ended and the scheduler no longer runs the job.  With minna-relay built
(MINNA_BUILD_DIR), the relay runs too and the app must answer through it.
Prints TAP lines without a plan ("ok - ..." / "not ok - ..."), diagnostics
as "# ..."; exits 0 only if every step passed.  Kills the controller and the
relay by PID at exit.
"""
import json
import os
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

SCHED, CONTROLLER, USER, POLICY = sys.argv[1:5]
SRC = os.environ.get("MINNA_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PASSWORD = "e2e-password-1"
BUILD = os.environ.get("MINNA_BUILD_DIR", "")
RELAY = os.path.join(BUILD, "daemons", "relay", "minna-relay") if BUILD else ""
failed = 0


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
        failed += 1
    return cond


def diag(text):
    for line in str(text).splitlines():
        print("# " + line, flush=True)


def scheduler_state(session_id):
    """The job's state as the scheduler lists it ('' when it lists none)."""
    name = "minna-" + session_id
    try:
        if SCHED == "slurm":
            out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%T"], capture_output=True,
                                 text=True, timeout=15).stdout
            return out.strip()
        out = subprocess.run(["qstat", "-u", USER], capture_output=True, text=True,
                             timeout=15).stdout
        for line in out.splitlines():
            f = line.split()
            # job-ID prior name user state ...; qstat cuts names to 10 chars
            if len(f) > 4 and name.startswith(f[2]) and f[3] == USER:
                return f[4]
        return ""
    except subprocess.TimeoutExpired:
        return "?"


def main():
    tmp = tempfile.mkdtemp(prefix="minna-e2e-", dir="/var/tmp")
    # the job (USER) must reach state/sessions/<id>; the controller makes
    # sessions/ 0711 and each session directory the user's
    os.chmod(tmp, 0o711)
    state = os.path.join(tmp, "state")
    conf = os.path.join(tmp, "controller.conf")
    use_relay = bool(RELAY) and os.access(RELAY, os.X_OK)
    port = free_port() if use_relay else 0
    relay_http, relay_admin = free_port(), free_port()
    secret = os.path.join(tmp, "admin-secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(secrets.token_hex(24) + "\n")
    relay_url = f"http://127.0.0.1:{relay_admin}" if use_relay else ""
    with open(conf, "w") as f:
        f.write(f"""[server]
listen = 127.0.0.1
port = {port}
www_dir = {SRC}/daemons/controller/www
[state]
state_dir = {state}
apps_dir = {SRC}/daemons/controller/apps
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
port_lock_dir = {tmp}/ports
poll_interval_ms = 500
ready_timeout = 60s
command_timeout = 15s
memory_resource = h_vmem
""")
    proc = relay = None
    try:
        subprocess.run([CONTROLLER, "passwd", "--config", conf, USER], input=PASSWORD + "\n",
                       text=True, check=True, capture_output=True, timeout=30)
        log = open(os.path.join(tmp, "controller.log"), "w")
        proc = subprocess.Popen([CONTROLLER, "--config", conf], stdout=subprocess.PIPE,
                                stderr=log, text=True)
        line = proc.stdout.readline()
        if not ok("listening on http://" in line, f"minna-controller ({SCHED} backend) starts"):
            diag(line)
            return
        base = line.strip().split()[-1]
        if use_relay:
            # the controller has created the cookie key the relay checks
            relay = subprocess.Popen(
                [RELAY, "--listen-https", "", "--listen-http", f"127.0.0.1:{relay_http}",
                 "--admin-listen", f"127.0.0.1:{relay_admin}", "--admin-secret-file", secret,
                 "--cookie-key-file", f"{tmp}/cookie-key", "--controller-url", base,
                 "--state-dir", f"{tmp}/relay-state", "--access-log", ""],
                stdout=log, stderr=log)
            if not ok(wait_port(relay_http, 20), "minna-relay starts"):
                return
        # the login cookie is Secure (the relay serves HTTPS): a cookie jar
        # would not send it over this plain loopback HTTP, so carry it here
        cookie = {}

        def call(method, path, body=None, csrf=None):
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(base + path, data=data, method=method)
            req.add_header("Content-Type", "application/json")
            if csrf:
                req.add_header("X-CSRF-Token", csrf)
            if cookie:
                req.add_header("Cookie", cookie["v"])
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    for h in r.headers.get_all("Set-Cookie") or []:
                        cookie["v"] = h.split(";", 1)[0]
                    return r.status, json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode(errors="replace")

        st, me = call("POST", "/api/v1/login", {"user": USER, "password": PASSWORD})
        if not ok(st == 200, f"{USER} logs in through the API"):
            diag(me)
            return
        csrf = me["csrf_token"]
        t0 = time.time()
        st, s = call("POST", "/api/v1/sessions",
                     {"app": "webapp", "cores": 1, "memory_gb": 0.25, "hours": 0.1,
                      "if_busy": "wait"}, csrf)
        if not ok(st in (200, 201, 202), f"launch accepted ({st})"):
            diag(s)
            return
        sid = s["id"]
        sched_seen = ""
        while time.time() - t0 < 90:
            st, s = call("GET", f"/api/v1/sessions/{sid}")
            sched_seen = scheduler_state(sid) or sched_seen
            if st != 200 or s["state"] in ("running", "failed", "ended"):
                break
            time.sleep(0.5)
        running = st == 200 and s["state"] == "running"
        if not ok(running, f"the session reaches running in {time.time() - t0:.1f} s"):
            diag(s)
        ok(sched_seen in ("RUNNING", "r"),
           f"its job minna-{sid} ran in the real scheduler (state {sched_seen or 'none'})")
        if running:
            url = s.get("url") or ""
            diag(f"session {sid} on {s.get('host')}, url {url}")
            if use_relay:
                # the relay learns the route from the controller; the app
                # (in the scheduler's job) answers through it
                body = ""
                end = time.time() + 20
                while time.time() < end:
                    req = urllib.request.Request(f"http://127.0.0.1:{relay_http}{url}")
                    req.add_header("Cookie", cookie["v"])
                    try:
                        with urllib.request.urlopen(req, timeout=10) as r:
                            body = r.read().decode(errors="replace")
                        if sid in body:
                            break
                    except (urllib.error.URLError, OSError) as e:
                        body = str(e)
                    time.sleep(0.3)
                if not ok(sid in body, "the app answers through minna-relay"):
                    diag(body[-500:])
        t1 = time.time()
        st, body = call("DELETE", f"/api/v1/sessions/{sid}", csrf=csrf)
        ok(st in (200, 202, 204), f"DELETE accepted ({st})")
        while time.time() - t1 < 60:
            st, s = call("GET", f"/api/v1/sessions/{sid}")
            if st == 200 and s["state"] in ("ended", "failed"):
                break
            time.sleep(0.5)
        ok(st == 200 and s["state"] == "ended", f"the session has ended {time.time() - t1:.1f} s after DELETE")
        gone = False
        while time.time() - t1 < 60:
            if scheduler_state(sid) in ("", "CANCELLED"):
                gone = True
                break
            time.sleep(0.5)
        ok(gone, "the scheduler no longer runs the job")
    finally:
        if relay is not None:
            relay.send_signal(signal.SIGTERM)
            try:
                relay.wait(timeout=15)
            except subprocess.TimeoutExpired:
                relay.kill()
                relay.wait()
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if failed:
            try:
                with open(os.path.join(tmp, "controller.log")) as f:
                    diag(f.read()[-3000:])
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


main()
sys.exit(1 if failed else 0)
