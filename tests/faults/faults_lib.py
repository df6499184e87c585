"""faults_lib.py: what the faults suite's tests share (issue 20).

Builds on tests/security/controller/minna_sec.py (the real minna-controller
with the local backend and the real minna-relay on free loopback ports, in a
directory of the test's own, stopped by PID; TAP output).  Adds: the
controller started with an environment (MINNA_FAULT_POINT), the suite's own
app (faultapp.py), and agree(): the stored sessions, the API, the running
processes and the relay's routes all say the same, and no acknowledged
session is lost.
"""
import json
import os
import signal
import sqlite3
import subprocess
import time

import minna_sec as ms
from minna_sec import TAP, need, tail

HERE = os.path.dirname(os.path.abspath(__file__))
CONTROLLER = ms.CONTROLLER
PASSWORD = "faults-password-1"


class Portal(ms.Portal):
    def __init__(self, name, relay=True, extra="", before_start=None):
        super().__init__(name, {"alice": PASSWORD, "bob": PASSWORD, "ops": PASSWORD},
                         relay=relay, extra=extra, admins=("ops",))
        apps = os.path.join(self.dir, "apps")
        os.makedirs(apps)
        with open(os.path.join(HERE, "faultapp.app")) as f:
            text = f.read().replace("@FAULTAPP@", os.path.join(HERE, "faultapp.py"))
        with open(os.path.join(apps, "faultapp.app"), "w") as f:
            f.write(text)
        with open(self.config) as f:
            conf = f.read().replace(f"apps_dir = {ms.APPS}", f"apps_dir = {apps}")
        with open(self.config, "w") as f:
            f.write(conf)
        self.db = os.path.join(self.state, "controller.db")
        self.controller_log = os.path.join(self.dir, "controller.log")
        self.cookies = {}

    def start_controller(self, env=None, expect_fail=False, args=()):
        e = dict(os.environ)
        e.update(env or {})
        self.log_mark = os.path.getsize(self.controller_log) if os.path.exists(self.controller_log) else 0
        self.controller = ms.spawn([CONTROLLER, "--config", self.config, *args],
                                   self.controller_log, None, env=e)
        if expect_fail:
            try:
                self.controller.wait(20)
            except subprocess.TimeoutExpired:
                return None
            return self.controller.returncode
        ms.wait_port(self.port, self.controller, self.controller_log, "minna-controller")
        return 0

    def new_log(self):
        with open(self.controller_log, errors="replace") as f:
            f.seek(self.log_mark)
            return f.read()

    def wait_controller_gone(self, seconds=30):
        try:
            self.controller.wait(seconds)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill_controller(self):
        ms.stop(self.controller, signal.SIGKILL)

    def user(self, name="alice"):
        """(cookie headers, csrf headers) of a login of @name (cached)."""
        if name not in self.cookies:
            st, cookie, csrf = self.login(name, PASSWORD)
            need(st == 200, f"login {name}: {st}")
            self.cookies[name] = (self.cookie_headers(cookie), self.cookie_headers(cookie, csrf))
        return self.cookies[name]

    def api(self, method, path, name="alice", body=None):
        h = self.user(name)[1 if method != "GET" else 0]
        st, hd, out = self.request(method, path, body, headers=h)
        if st == 401:   # a login that a restart's reconciliation did not keep: log in again
            self.cookies.pop(name, None)
            h = self.user(name)[1 if method != "GET" else 0]
            st, hd, out = self.request(method, path, body, headers=h)
        try:
            return st, json.loads(out) if out else None
        except ValueError:
            return st, out

    def launch_raw(self, name="alice", app="faultapp"):
        """(status, session id or None, body)."""
        st, body = self.api("POST", "/api/v1/sessions", name, {"app": app, "hours": 1})
        sid = body.get("id") if st == 201 and isinstance(body, dict) else None
        return st, sid, body

    def session(self, sid, name="alice"):
        st, body = self.api("GET", f"/api/v1/sessions/{sid}", name)
        return body if st == 200 else None

    def wait_state(self, sid, states, name="alice", seconds=60):
        end = time.time() + seconds
        s = None
        while time.time() < end:
            s = self.session(sid, name)
            if s is not None and s["state"] in states:
                return s
            time.sleep(0.1)
        return s

    # ---- what is stored, what runs, what the relay routes ----

    def stored(self):
        """{id: (state, user)} from the database file itself."""
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, state, user FROM sessions")}
        finally:
            con.close()

    def job_alive(self, sid):
        path = os.path.join(self.state, "jobs", sid)
        pid = start = None
        try:
            for line in open(path):
                if line.startswith("pid="):
                    pid = int(line[4:])
                if line.startswith("starttime="):
                    start = int(line[10:])
        except OSError:
            return False
        if not pid:
            return False
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return fields[0] != "Z" and (start is None or int(fields[19]) == start)
        except (OSError, IndexError, ValueError):
            return False

    def job_pid(self, sid):
        for line in open(os.path.join(self.state, "jobs", sid)):
            if line.startswith("pid="):
                return int(line[4:])
        return None

    def routes(self):
        st, _, body = self.request("GET", "/routes", port=self.relay_admin,
                                   headers={"Authorization": f"Bearer {self.secret}"})
        need(st == 200, f"relay routes: {st} {body[:200]!r}")
        return {r["id"] for r in json.loads(body)["routes"]}

    def faults(self):
        st, body = self.api("GET", "/api/v1/faults", "ops")
        return body if st == 200 else {"error": st}

    def disagreement(self, acked, name="alice"):
        """None when stored sessions, API, processes and relay routes agree and
        every id in @acked is stored; else what differs."""
        try:
            stored = self.stored()
        except sqlite3.Error as e:
            return f"database unreadable: {e}"
        st, body = self.api("GET", "/api/v1/sessions", name)
        if st != 200:
            return f"GET /api/v1/sessions: {st}"
        api = {s["id"]: s["state"] for s in body["sessions"]}
        routes = self.routes() if self.relay_port else None
        problems = []
        for sid in acked:
            if sid not in stored:
                problems.append(f"acknowledged session {sid} is not stored")
        for sid, (state, user) in stored.items():
            if user != name:
                continue
            if api.get(sid) != state:
                problems.append(f"{sid}: stored {state}, API {api.get(sid)}")
            alive = self.job_alive(sid)
            if state in ("ended", "failed", "queued") and alive:
                problems.append(f"{sid}: {state} but its job runs")
            if state == "running" and not alive:
                problems.append(f"{sid}: running but its job does not run")
            if state in ("starting", "ending", "unknown"):
                problems.append(f"{sid}: still {state}")
            if routes is not None and (state == "running") != (sid in routes):
                problems.append(f"{sid}: {state}, route {'present' if sid in routes else 'missing'}")
        return "; ".join(problems) or None

    def wait_agree(self, acked, name="alice", seconds=30):
        end = time.time() + seconds
        why = None
        while time.time() < end:
            why = self.disagreement(acked, name)
            if why is None:
                return None
            time.sleep(0.2)
        return why

    def end_all(self, name="alice"):
        """Stops every live session of @name and waits for them to end."""
        for sid, (state, user) in self.stored().items():
            if user == name and state not in ("ended", "failed"):
                self.api("DELETE", f"/api/v1/sessions/{sid}", name)
                self.wait_state(sid, ("ended", "failed"), name, 30)
