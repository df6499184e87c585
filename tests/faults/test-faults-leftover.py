#!/usr/bin/python3
"""Leftover cgroups of the local backend at start (issue 20).  Needs root
and a memory cgroup (the local backend's jobs get one each).

Two sessions run; the controller is killed, their jobs end while it is
down, and their rows say ended (a controller killed after storing the ends,
before removing the jobs' cgroups).  One job's cgroups are empty; into the
other's the test moves a process.  'minna-controller check' reports both;
the start removes the empty ones and reports, never kills, the one that
still holds a process; once that process is gone, the next start removes
it too and check passes.
"""
import os
import signal
import sqlite3
import subprocess
import time

import faults_lib as fl
from faults_lib import TAP, need

if os.geteuid() != 0:
    TAP.skip_all("needs root (cgroups)")
fl.ms.require_built()

p = fl.Portal("leftover")
p.start()
sids = {}
for who in ("alice", "bob"):
    st, sid, body = p.launch_raw(who)
    need(sid is not None, f"launch {who}: {st} {body}")
    s = p.wait_state(sid, ("running",), who, seconds=40)
    need(s is not None and s["state"] == "running", f"{sid} runs: {s}")
    sids[who] = sid


def cgroups(sid):
    for line in open(os.path.join(p.state, "jobs", sid)):
        if line.startswith("cgroups="):
            return [d for d in line[8:].strip().split(";") if d]
    return []


dirs = {who: cgroups(sid) for who, sid in sids.items()}
if not all(dirs.values()):
    p.end_all("alice")
    p.end_all("bob")
    TAP.skip_all(f"the local backend made no cgroups here ({dirs})")

p.kill_controller()
for who, sid in sids.items():
    try:
        os.killpg(p.job_pid(sid), signal.SIGKILL)
    except ProcessLookupError:
        pass
end = time.time() + 20
while time.time() < end and any(p.job_alive(s) for s in sids.values()):
    time.sleep(0.1)
need(not any(p.job_alive(s) for s in sids.values()), "the jobs ended")


def members(d):
    try:
        return open(os.path.join(d, "cgroup.procs")).read().split()
    except OSError:
        return []


end = time.time() + 20
while time.time() < end and any(members(d) for ds in dirs.values() for d in ds):
    time.sleep(0.1)
# a process left behind in bob's job's first cgroup
stray = subprocess.Popen(["sleep", "300"])
with open(os.path.join(dirs["bob"][0], "cgroup.procs"), "w") as f:
    f.write(str(stray.pid))
try:
    con = sqlite3.connect(p.db, timeout=10)
    con.execute("UPDATE sessions SET state = 'ended', ended = strftime('%s', 'now'),"
                " reason = 'ended' WHERE id IN (?, ?)", tuple(sids.values()))
    con.commit()
    con.close()

    r = subprocess.run([fl.CONTROLLER, "check", "--config", p.config], capture_output=True, text=True)
    out = r.stdout
    TAP.ok(r.returncode == 1 and any(l.startswith("DIFF") and sids["alice"] in l and "empty" in l and
                                     "removes it at start" in l for l in out.splitlines()),
           "check: the empty cgroup of an ended job is a DIFF line", out + r.stderr)
    TAP.ok(any(l.startswith("DIFF") and sids["bob"] in l and "still holding 1 process" in l
               for l in out.splitlines()),
           "check: the cgroup still holding a process is a DIFF line", out)
    TAP.ok(all(os.path.isdir(d) for ds in dirs.values() for d in ds), "... check removed nothing")

    p.start_controller()
    lines = " ".join(p.faults().get("reconcile", []))
    TAP.ok(not any(os.path.isdir(d) for d in dirs["alice"]) and sids["alice"] in lines,
           "start: the empty cgroups are removed, and reported", f"{dirs['alice']} {lines}")
    TAP.ok(os.path.isdir(dirs["bob"][0]) and stray.poll() is None and sids["bob"] in lines and
           "still holding" in lines,
           "start: the cgroup holding a process is reported, the process left alone", lines)
    TAP.ok("reconcile:" in p.new_log() and sids["bob"] in p.new_log(), "... both logged")
    why = p.disagreement(set(sids.values()))
    TAP.ok(why is None, "stored sessions, API, processes and routes agree", why)
finally:
    stray.kill()
    stray.wait()

end = time.time() + 10
while time.time() < end and members(dirs["bob"][0]):
    time.sleep(0.1)
p.kill_controller()
p.start_controller()
r = subprocess.run([fl.CONTROLLER, "check", "--config", p.config], capture_output=True, text=True)
TAP.ok(not any(os.path.isdir(d) for d in dirs["bob"]) and r.returncode == 0,
       "once its process is gone, the next start removes that cgroup too; check passes",
       r.stdout + r.stderr)
TAP.done()
