#!/usr/bin/python3
"""A 0-byte, a truncated, a foreign and a missing database at start; check,
backup and restore (issue 20).

A session runs; the controller is killed and its database damaged in each
way: the controller must refuse to start naming the file and what is wrong
(the app keeps running, nothing is orphaned silently), 'minna-controller
check' must say the same; restored from 'minna-controller backup', the
session is back and everything agrees.  Told to make a new database
(create_database = yes), it reports the running job it does not know.
"""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

import faults_lib as fl
from faults_lib import TAP, need

fl.ms.require_built()
p = fl.Portal("start")
p.start()
st, sid, body = p.launch_raw()
need(sid is not None, f"launch: {st} {body}")
s = p.wait_state(sid, ("running",), seconds=40)
need(s is not None and s["state"] == "running", f"{sid} runs: {s}")

backup = os.path.join(p.dir, "backup.db")
r = subprocess.run([fl.CONTROLLER, "backup", "--config", p.config, backup], capture_output=True, text=True)
TAP.ok(r.returncode == 0 and os.path.exists(backup) and os.stat(backup).st_mode & 0o777 == 0o600,
       "minna-controller backup while serving writes a 0600 copy", r.stdout + r.stderr)
r = subprocess.run([fl.CONTROLLER, "check", "--config", p.config], capture_output=True, text=True)
TAP.ok(r.returncode == 0 and "agree" in r.stdout, "check: the database and the running job agree",
       r.stdout + r.stderr)
p.kill_controller()


def reset(content):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(p.db + suffix)
        except FileNotFoundError:
            pass
    if content is not None:
        with open(p.db, "wb") as f:
            f.write(content)
        os.chmod(p.db, 0o600)


good = open(backup, "rb").read()
foreign = os.path.join(p.dir, "foreign.db")
con = sqlite3.connect(foreign)
con.execute("CREATE TABLE notes (x)")
con.execute("PRAGMA application_id = 42")
con.commit()
con.close()
cases = [
    ("0-byte", b"", "is empty (0 bytes)"),
    ("truncated", good[: len(good) // 2], "is damaged"),
    ("foreign", open(foreign, "rb").read(), "is not a minna database: application_id 42"),
    ("not SQLite", b"hello, this is not a database\n" * 10, "not an SQLite database"),
    ("missing", None, "does not exist, but the state directory holds an earlier run's"),
]
for name, content, words in cases:
    reset(content)
    rc = p.start_controller(expect_fail=True)
    log = p.new_log()
    TAP.ok(rc not in (None, 0) and p.db in log and words in log,
           f"{name} database: the controller refuses to start, naming the file and '{words}'",
           f"rc {rc}: {log[-800:]}")
    r = subprocess.run([fl.CONTROLLER, "check", "--config", p.config], capture_output=True, text=True)
    TAP.ok(r.returncode == 1 and words in r.stdout and p.db in r.stdout,
           f"{name} database: check fails naming it", r.stdout + r.stderr)
    TAP.ok(p.job_alive(sid), f"{name} database: the app still runs")

reset(good)
r = subprocess.run([fl.CONTROLLER, "check", "--config", p.config], capture_output=True, text=True)
TAP.ok(r.returncode == 0, "restored from the backup: check passes", r.stdout + r.stderr)
p.start_controller()
why = p.wait_agree({sid})
TAP.ok(why is None and p.session(sid)["state"] == "running",
       "restored: the session runs, stored sessions, API, processes and routes agree", why)
p.kill_controller()

reset(b"")
p.start_controller(args=("--set", "state.create_database=yes"))
f = p.faults()
lines = " ".join(f.get("reconcile", []))
TAP.ok(sid in lines and "no session for it" in lines,
       "create_database=yes over an empty file: the running job it does not know is reported",
       f)
TAP.ok("reconcile" in p.new_log() and sid in p.new_log(), "... and logged")
p.kill_controller()
reset(good)


# SIGHUP during the start (an admin's reload, a config tool's) is a reload,
# never the signal's default action: it killed a controller that got one
# while it reconciled or right after its port opened.  Sent from the moment
# the process catches SIGHUP (its SigCgt; before that no program can) until
# well after the port answers.
def catches_hup(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("SigCgt:"):
                return int(line.split()[1], 16) & 1 != 0
    except OSError:
        pass
    return False


p.log_mark = os.path.getsize(p.controller_log)
p.controller = fl.ms.spawn([fl.CONTROLLER, "--config", p.config], p.controller_log, None)

def port_answers():
    try:
        socket.create_connection(("127.0.0.1", p.port), 0.2).close()
        return True
    except OSError:
        return False


# the port must not answer before SIGHUP is handled
early = False
end = time.time() + 20
while time.time() < end and p.controller.poll() is None and not catches_hup(p.controller.pid):
    early = early or port_answers()
    time.sleep(0.001)
TAP.ok(not early and catches_hup(p.controller.pid),
       "SIGHUP is handled before the controller's port takes connections")
sent, answered, end = 0, None, time.time() + 30
while time.time() < end and p.controller.poll() is None:
    os.kill(p.controller.pid, signal.SIGHUP)
    sent += 1
    if answered is None:
        if port_answers():
            answered = time.time()
    elif time.time() - answered > 0.5:
        break
    time.sleep(0.01)
alive = p.controller.poll() is None
TAP.ok(alive and answered is not None,
       f"{sent} SIGHUPs from the start until after the port answered: the controller runs on "
       f"(exit {p.controller.poll()})", p.new_log()[-1500:])
time.sleep(0.3)
TAP.ok(alive and "policy reloaded" in p.new_log() and p.session(sid)["state"] == "running",
       "... reloads, and the session runs", p.new_log()[-1500:])
if not alive:
    p.start_controller()
p.end_all()
why = p.wait_agree({sid})
TAP.ok(why is None, "stopped after all: everything agrees", why)
TAP.done()
