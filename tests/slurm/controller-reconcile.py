#!/usr/bin/env python3
"""controller-reconcile.py: the controller's start against the real scheduler's queue (issue 20).

Usage: controller-reconcile.py slurm|sge MINNA_CONTROLLER POLICY_FILE USER1 USER2

Run by run-slurm-suite.sh / run-sge-suite.sh (as root, daemons up, the users
real Unix users the scheduler runs jobs for).  The real minna-controller with
[backend] type = slurm (or sge) launches a web app session for each user;
it is stopped, and meanwhile
  - USER1's session row is deleted from the database: its job, named
    minna-<session> by the controller, still runs;
  - USER2's job is cancelled in the scheduler (scancel, qdel).
Then 'minna-controller check' must report both (exit 1, a DIFF line each)
and the controller's start must too: the job without a row is reported
(log, GET /api/v1/faults "reconcile") and left running, the session whose
job is gone is ended with a reason naming the job.  Prints TAP lines
without a plan ("ok - ..."), exits 0 only if every step passed; cancels
the jobs it made and stops the controller by PID at exit.
"""
import importlib.util
import os
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("controller_e2e", os.path.join(HERE, "controller-e2e.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)
SCHED, CONTROLLER, POLICY, USER1, USER2 = sys.argv[1:6]
e2e.SCHED, e2e.CONTROLLER, e2e.POLICY = SCHED, CONTROLLER, POLICY
ok, diag = e2e.ok, e2e.diag
SLURM_LIVE = ("RUNNING", "PENDING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED")


def listed(job_id):
    """Whether the scheduler still lists the job in its queue (Grid Engine:
    any state, also dr while it deletes it; Slurm: squeue's default states)."""
    st = e2e.direct_state(job_id)
    return st in SLURM_LIVE if SCHED == "slurm" else st != ""


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    e2e.stop_process(proc)


def main():
    t0 = time.time()
    tmp, conf = e2e.controller_setup("minna-reconcile-", (USER1, USER2))
    with open(conf) as f:
        text = f.read().replace("[server]\n", f"[server]\nadmins = {USER1}\n", 1)
    with open(conf, "w") as f:
        f.write(text)
    log_path = os.path.join(tmp, "controller.log")
    db = os.path.join(tmp, "state", "controller.db")
    proc = None
    jobs = []
    try:
        proc, base = e2e.start_controller(conf, log_path)
        if not ok(base is not None, f"minna-controller ({SCHED} backend) starts"):
            return
        clients = {u: e2e.Client(base, u, f"pw-{u}-1") for u in (USER1, USER2)}
        sids = {}
        for u, c in clients.items():
            st, me = c.login()
            if not ok(st == 200, f"{u} logs in"):
                diag(me)
                return
            st, s = c.launch(app="webapp", cores=1, memory_gb=0.25, hours=0.25, if_busy="wait",
                             queue="interactive")
            if not ok(st == 201, f"{u}: a web app session launched ({st})"):
                diag(s)
                return
            sids[u] = s["id"]
        for u, c in clients.items():
            good, s = c.wait(sids[u], ("running",), 60)
            if not ok(good, f"{u}: session {sids[u]} runs"):
                diag(s)
                return
        stop(proc)
        proc = None

        con = sqlite3.connect(db, timeout=10)
        job = dict(con.execute("SELECT id, job_id FROM sessions"))
        jobs = [job[sids[USER1]], job[sids[USER2]]]
        # the controller stopped: USER1's row is lost, USER2's job cancelled
        con.execute("DELETE FROM events WHERE session = ?", (sids[USER1],))
        con.execute("DELETE FROM sessions WHERE id = ?", (sids[USER1],))
        con.commit()
        con.close()
        e2e.cancel_direct([jobs[1]])
        end = time.time() + 20
        while time.time() < end and listed(jobs[1]):
            time.sleep(0.3)
        ok(not listed(jobs[1]), f"job {jobs[1]} cancelled in the scheduler while the controller"
           " is stopped, gone from its queue")

        r = subprocess.run([CONTROLLER, "check", "--config", conf], capture_output=True, text=True,
                           timeout=60)
        orphan = [l for l in r.stdout.splitlines()
                  if l.startswith("DIFF") and f"job {jobs[0]} " in l and "no session for it" in l
                  and sids[USER1] in l]
        gone = [l for l in r.stdout.splitlines()
                if l.startswith("DIFF") and f"session {sids[USER2]} " in l
                and f"no longer has its job {jobs[1]}" in l]
        if not ok(r.returncode == 1 and orphan and gone,
                  "check: the job without a session and the session without its job, each a"
                  " DIFF line, exit 1"):
            diag(f"exit {r.returncode}\n{r.stdout}{r.stderr}")

        mark = os.path.getsize(log_path)
        proc, base = e2e.start_controller(conf, log_path)
        if not ok(base is not None, "minna-controller starts again"):
            return
        for c in clients.values():
            c.base = base
            c.login()
        st, faults = clients[USER1].call("GET", "/api/v1/faults")
        lines = faults.get("reconcile", []) if isinstance(faults, dict) else []
        ok(any(f"job {jobs[0]} " in l and "no session for it" in l for l in lines),
           "start: the job whose row is gone is reported in GET /api/v1/faults", ) or diag(faults)
        ok(any(f"session {sids[USER2]} " in l and f"no longer has its job {jobs[1]}" in l
               for l in lines), "start: the session whose job is gone is reported there too") \
            or diag(faults)
        with open(log_path, errors="replace") as f:
            f.seek(mark)
            log = f.read()
        ok(f"reconcile: job {jobs[0]} " in log and f"reconcile: session {sids[USER2]} " in log,
           "... and both are logged") or diag(log[-3000:])
        good, s = clients[USER2].wait(sids[USER2], ("ended", "failed"), 15)
        ok(good and jobs[1] in (s.get("reason") or ""),
           f"the session whose job was cancelled is {s.get('state')}, its reason naming the job:"
           f" {s.get('reason')!r}")
        ok(listed(jobs[0]),
           f"the job without a session is left as it was ({e2e.direct_state(jobs[0])})")
        diag(f"done in {time.time() - t0:.1f} s")
    finally:
        stop(proc)
        e2e.cancel_direct(jobs)
        e2e.controller_teardown(tmp, log_path)


if __name__ == "__main__":
    main()
    sys.exit(1 if e2e.failed else 0)
