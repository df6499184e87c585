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
import sqlite3
import subprocess

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
p.start_controller()
p.end_all()
why = p.wait_agree({sid})
TAP.ok(why is None, "stopped after all: everything agrees", why)
TAP.done()
