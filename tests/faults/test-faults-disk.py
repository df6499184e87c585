#!/usr/bin/python3
"""A disk that fills at each step of a launch and of a stop, and a database
that turns read-only (issue 20).  Needs root: the state directory (the
database and the local backend's job records) is a small tmpfs the test
mounts and unmounts itself.

At each step the controller stops itself (MINNA_FAULT_POINT with
MINNA_FAULT_ACTION=stop), the test fills the disk and lets it go on; then
frees the disk.  A launch or stop asked while the disk is full is answered
507 and changes nothing; an end that could not be stored is retried until
it is; afterwards the stored sessions, the API, the processes and the
relay's routes agree and no acknowledged session is lost.
"""
import atexit
import os
import signal
import subprocess
import threading
import time

import faults_lib as fl
from faults_lib import TAP, need

if os.geteuid() != 0:
    TAP.skip_all("needs root (mounts a tmpfs)")
fl.ms.require_built()

p = fl.Portal("disk")
os.makedirs(p.state, mode=0o700)
r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "minna-faults-disk", p.state],
                   capture_output=True, text=True)
if r.returncode != 0:
    TAP.skip_all(f"cannot mount a tmpfs: {r.stderr.strip()}")


@atexit.register
def unmount():
    # after the daemons are gone (minna_sec's cleanup runs after this one:
    # atexit is last in, first out) a lazy unmount is enough
    subprocess.run(["umount", "-l", p.state], capture_output=True)


FILLER = os.path.join(p.state, "filler")


def fill():
    # Opening may itself fail with ENOSPC: the session's own files can have
    # filled the small tmpfs already (seen in CI); full is what we want.
    try:
        with open(FILLER, "ab") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
    except OSError:
        pass
    # what is left below a block
    try:
        with open(FILLER + "2", "ab") as f:
            while True:
                f.write(b"\0")
                f.flush()
    except OSError:
        pass


def unfill():
    for f in (FILLER, FILLER + "2"):
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass


def stopped(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.update(r=fn()), daemon=True)
    t.start()
    return t, out


p.start()
acked = set()
for who in ("alice", "bob", "ops"):
    p.user(who)   # logins are stored too: made while there is room

# ---- a full disk before anything is asked ----
fill()
st, sid, body = p.launch_raw()
TAP.ok(st == 507 and sid is None, "launch on a full disk: 507 with the reason", f"{st} {body}")
TAP.ok("launch for alice refused" in p.new_log(), "... and the log says what was refused")
f = p.faults()
TAP.ok(f.get("store", {}).get("refusals", 0) >= 1 and f["store"]["last_error"],
       "... and GET /api/v1/faults shows the store's refusal", f)
st, _, metrics = p.request("GET", "/metrics", headers=p.user("ops")[0])
TAP.ok(st == 200 and b"minna_store_refusals_total " in metrics and
       b"minna_store_refusals_total 0\n" not in metrics, "... and /metrics counts it",
       f"{st} {metrics[-600:]!r}")
unfill()
TAP.ok(p.wait_agree(acked) is None and not p.stored(), "... nothing was stored, nothing runs")

st, sid, body = p.launch_raw()
need(sid is not None, f"launch: {st} {body}")
acked.add(sid)
s = p.wait_state(sid, ("running",), seconds=40)
need(s is not None and s["state"] == "running", f"{sid} runs: {s}")
fill()
st, body = p.api("DELETE", f"/api/v1/sessions/{sid}")
TAP.ok(st == 507, "stop on a full disk: 507 with the reason", f"{st} {body}")
time.sleep(1)
why = p.disagreement(acked)
TAP.ok(why is None and p.session(sid)["state"] == "running",
       "... the session goes on as stored: running, its job runs, its route stays", why)
TAP.ok("stop refused" in p.new_log(), "... and the log says so")
unfill()
p.end_all()

# ---- the disk fills at each step of a launch ----
for point in ["launch-stored", "submit-before", "submit-after", "submitted-before-save",
              "route-registered"]:
    p.kill_controller()
    p.start_controller(env={"MINNA_FAULT_POINT": point, "MINNA_FAULT_ACTION": "stop"})
    t, out = in_thread(p.launch_raw)
    end = time.time() + 40
    while time.time() < end and not stopped(p.controller.pid):
        time.sleep(0.05)
    need(stopped(p.controller.pid), f"the controller stops at {point}")
    fill()
    os.kill(p.controller.pid, signal.SIGCONT)
    t.join(30)
    st, sid, body = out.get("r", (0, None, None))
    if sid:
        acked.add(sid)
    time.sleep(2)   # what it does on a full disk: refuse, keep, retry
    f = p.faults()
    pending = [x["session"] for x in f.get("pending", [])] + [x["session"] for x in f.get("unsaved_jobs", [])]
    unfill()
    why = p.wait_agree(acked, seconds=60)
    TAP.ok(why is None, f"disk full at {point} (launch answered {st}; kept for retry: {pending}):"
           " freed, stored sessions, API, processes and routes agree", why or p.new_log()[-1500:])
    p.end_all()

# ---- the disk fills at each step of a stop ----
for point in ["stop-stored", "stop-cancelled", "finish-before-save"]:
    p.kill_controller()
    p.start_controller()
    st, sid, body = p.launch_raw()
    need(sid is not None, f"launch: {st} {body}")
    acked.add(sid)
    s = p.wait_state(sid, ("running",), seconds=40)
    need(s is not None and s["state"] == "running", f"{sid} runs: {s}")
    p.kill_controller()
    p.start_controller(env={"MINNA_FAULT_POINT": point, "MINNA_FAULT_ACTION": "stop"})
    t, out = in_thread(lambda: p.api("DELETE", f"/api/v1/sessions/{sid}"))
    end = time.time() + 40
    while time.time() < end and not stopped(p.controller.pid):
        time.sleep(0.05)
    need(stopped(p.controller.pid), f"the controller stops at {point}")
    fill()
    os.kill(p.controller.pid, signal.SIGCONT)
    t.join(30)
    time.sleep(2)
    f = p.faults()
    unfill()
    s = p.wait_state(sid, ("ended",), seconds=60)
    why = p.wait_agree(acked, seconds=60)
    TAP.ok(why is None and s["state"] == "ended",
           f"disk full at {point} (stop answered {out.get('r', (0,))[0]}): freed, the session"
           f" ended, everything agrees", why or f"{s} {f} {p.new_log()[-1500:]}")

# ---- the database turns read-only ----
p.kill_controller()
p.start_controller()
st, sid, body = p.launch_raw()
need(sid is not None, f"launch: {st} {body}")
acked.add(sid)
s = p.wait_state(sid, ("running",), seconds=40)
need(s is not None and s["state"] == "running", f"{sid} runs: {s}")
# a tmpfs with the database open for writing cannot be remounted read-only:
# another process holding the database's write lock is what the
# controller sees as busy (SQLITE_BUSY after its 5 s busy timeout)
import sqlite3
locker = sqlite3.connect(p.db, timeout=10, isolation_level=None)
locker.execute("BEGIN EXCLUSIVE")
t0 = time.time()
st, body = p.api("DELETE", f"/api/v1/sessions/{sid}")
TAP.ok(st == 503, f"stop while the database is locked: 503 with the reason ({time.time() - t0:.1f} s)",
       f"{st} {body}")
st2, sid2, body2 = p.launch_raw("bob")
TAP.ok(st2 == 503, "launch while the database is locked: 503", f"{st2} {body2}")
locker.execute("ROLLBACK")
locker.close()
why = p.disagreement(acked)
TAP.ok(why is None and p.session(sid)["state"] == "running", "... the session goes on", why)
p.kill_controller()
subprocess.run(["mount", "-o", "remount,ro", p.state], capture_output=True)
rc = p.start_controller(expect_fail=True)
ro = subprocess.run(["mount", "-o", "remount,rw", p.state], capture_output=True)
TAP.ok(rc not in (None, 0) and ("read-only" in p.new_log() or "Read-only" in p.new_log()),
       "a read-only database (its file system remounted read-only) at start: refused, naming it", p.new_log()[-600:])
p.start_controller()
p.end_all()
why = p.wait_agree(acked)
TAP.ok(why is None, f"all {len(acked)} acknowledged sessions stored, everything agrees", why)
TAP.done()
