#!/usr/bin/env python3
"""controller-e2e.py: the real minna-controller against a real scheduler.

Usage: controller-e2e.py slurm|sge MINNA_CONTROLLER USER POLICY_FILE

Run by run-slurm-suite.sh / run-sge-suite.sh (as root, daemons up, USER a
real Unix user the scheduler runs jobs for).  Starts minna-controller with
[backend] type = slurm (or sge) and the generic web app, logs USER in through
the JSON API, launches a session, waits until it is running (its job runs in
the scheduler and the app answers), stops it with DELETE and waits until it
has ended and the scheduler no longer runs the job.  Prints TAP lines
without a plan ("ok - ..." / "not ok - ..."), diagnostics as "# ...";
exits 0 only if every step passed.  Kills the controller by PID at exit.
"""
import json
import os
import shutil
import signal
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
failed = 0


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
    with open(conf, "w") as f:
        f.write(f"""[server]
listen = 127.0.0.1
port = 0
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
secret_file = {tmp}/no-relay-secret
[backend]
type = {SCHED}
run_as = user
port_lock_dir = {tmp}/ports
poll_interval_ms = 500
ready_timeout = 60s
command_timeout = 15s
memory_resource = h_vmem
""")
    proc = None
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
