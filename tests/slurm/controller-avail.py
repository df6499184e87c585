#!/usr/bin/env python3
"""controller-avail.py: no new session on a drained Slurm node (issue 14).

Usage: controller-avail.py MINNA_CONTROLLER POLICY_FILE USER1 USER2 USER3

Run by run-slurm-suite.sh (as root, Slurm up with POLICY_FILE's partition
exported beside the suite's own: avail-policy.conf, partition avail of the
nodes avail1 and avail2; the users real Unix users Slurm runs jobs for).
The real minna-controller with [backend] type = slurm on that partition:

  - avail1, where the policy would place the next session (both nodes
    empty: the lower index), is drained (scontrol update state=drain): once
    the controller shows it unavailable (GET /api/v1/queue), USER1's
    session goes to avail2 and runs there;
  - avail1 resumed: once shown available again, USER2's session goes to
    avail1 and runs there;
  - both drained (their running sessions stay running): USER3's session
    waits (queued, wait reason "unavailable", no job in Slurm), neither
    refused nor lost; avail2 resumed: it starts and runs.

Prints TAP lines without a plan ("ok - ..."), diagnostics as "# ..." (also
on stderr once a step failed); exits 0 only if every step passed.  The nodes
are resumed, the sessions stopped, the controller stopped (by PID) and the
jobs it left cancelled at exit, also when a step fails.
"""
import importlib.util
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("controller_e2e", os.path.join(HERE, "controller-e2e.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)
CONTROLLER, POLICY, USER1, USER2, USER3 = sys.argv[1:6]
e2e.SCHED, e2e.CONTROLLER, e2e.POLICY = "slurm", CONTROLLER, POLICY
ok, diag = e2e.ok, e2e.diag
PARTITION = "avail"
NODES = ("avail1", "avail2")
# the controller asks sinfo at most every 5 s, in a poll round of its own
SEEN_WITHIN = 20


def scontrol_node(node, state, quiet=False):
    args = ["scontrol", "update", f"nodename={node}", f"state={state}"]
    if state == "drain":
        args.append("reason=minna-test")
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if r.returncode != 0 and not quiet:
        diag(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.returncode == 0


def slurm_node_states():
    r = subprocess.run(["sinfo", "-h", "-N", "-p", PARTITION, "-o", "%N %T"], capture_output=True,
                       text=True, timeout=15)
    return r.stdout.strip().replace("\n", ", ")


def job_node(session_id):
    r = subprocess.run(["squeue", "-h", "-n", "minna-" + session_id, "-o", "%N"],
                       capture_output=True, text=True, timeout=15)
    return r.stdout.strip()


def nodes_available(client):
    st, q = client.call("GET", "/api/v1/queue")
    if st != 200 or not isinstance(q, dict):
        return None
    return [n.get("available") for n in q.get("nodes", [])]


def wait_available(client, want):
    """Until GET /api/v1/queue shows the nodes' availability as @want."""
    end = time.time() + SEEN_WITHIN
    got = None
    while time.time() < end:
        got = nodes_available(client)
        if got == want:
            return True, got
        time.sleep(0.3)
    return False, got


def launch(client, what):
    """A web app session of @client's user; its id, None when refused."""
    st, s = client.launch(app="webapp", cores=1, memory_gb=0.25, hours=0.25, if_busy="wait",
                          queue="interactive")
    if not ok(st == 201, f"{client.user}: {what} ({st})"):
        diag(s)
        return None
    return s["id"]


def runs_on(client, sid, node):
    good, s = client.wait(sid, ("running",), 90)
    where = job_node(sid)
    if not ok(good and where == node,
              f"{client.user}: session {sid} runs, its job on {node} (state {s.get('state')},"
              f" job on {where or 'nothing'})"):
        diag(s)
        diag(f"Slurm's nodes: {slurm_node_states()}")
        return False
    return True


def main():
    t0 = time.time()
    users = (USER1, USER2, USER3)
    tmp, conf = e2e.controller_setup("minna-avail-", users)
    with open(conf) as f:
        text = f.read().replace("[backend]\n", f"[backend]\npartition = {PARTITION}\n", 1)
    with open(conf, "w") as f:
        f.write(text)
    log_path = os.path.join(tmp, "controller.log")
    proc = None
    clients, sids = {}, {}
    try:
        proc, base = e2e.start_controller(conf, log_path)
        if not ok(base is not None, "minna-controller (slurm backend, partition avail) starts"):
            return
        for u in users:
            clients[u] = e2e.Client(base, u, f"pw-{u}-1")
            st, me = clients[u].login()
            if not ok(st == 200, f"{u} logs in"):
                diag(me)
                return
        c1, c2, c3 = (clients[u] for u in users)
        good, got = wait_available(c1, [True, True])
        if not ok(good, f"both nodes available to start with ({got}; Slurm: {slurm_node_states()})"):
            return

        # 1. the node the policy would pick next is drained
        if not ok(scontrol_node(NODES[0], "drain"), f"{NODES[0]} drained in Slurm"):
            return
        t = time.time()
        good, got = wait_available(c1, [False, True])
        if not ok(good, f"the controller shows {NODES[0]} unavailable in {time.time() - t:.1f} s"
                  f" ({got}; Slurm: {slurm_node_states()})"):
            return
        sids[USER1] = launch(c1, f"a session launched with {NODES[0]} drained")
        if sids[USER1] is None or not runs_on(c1, sids[USER1], NODES[1]):
            return

        # 2. back: the policy places there again
        if not ok(scontrol_node(NODES[0], "resume"), f"{NODES[0]} resumed in Slurm"):
            return
        good, got = wait_available(c2, [True, True])
        if not ok(good, f"the controller shows {NODES[0]} available again ({got})"):
            return
        sids[USER2] = launch(c2, f"a session launched with {NODES[0]} back")
        if sids[USER2] is None or not runs_on(c2, sids[USER2], NODES[0]):
            return

        # 3. every node drained: the launch waits, then starts on a resume
        for n in NODES:
            scontrol_node(n, "drain")
        good, got = wait_available(c3, [False, False])
        if not ok(good, f"the controller shows both nodes unavailable ({got};"
                  f" Slurm: {slurm_node_states()})"):
            return
        sids[USER3] = launch(c3, "a session launched with every node drained")
        if sids[USER3] is None:
            return
        time.sleep(3)   # a few poll rounds: nothing may submit it meanwhile
        st, s = c3.session(sids[USER3])
        ok(st == 200 and s.get("state") == "queued" and s.get("wait_reason") == "unavailable"
           and e2e.scheduler_state(sids[USER3]) == "",
           f"it waits: {s.get('state')}, wait reason {s.get('wait_reason')!r}, reason"
           f" {s.get('reason')!r}, no job in Slurm ({e2e.scheduler_state(sids[USER3]) or 'none'})")
        for u in (USER1, USER2):
            st, r = clients[u].session(sids[u])
            ok(st == 200 and r.get("state") == "running",
               f"{u}: the session on a drained node stays {r.get('state')}")
        if not ok(scontrol_node(NODES[1], "resume"), f"{NODES[1]} resumed in Slurm"):
            return
        t = time.time()
        if runs_on(c3, sids[USER3], NODES[1]):
            diag(f"the waiting session ran {time.time() - t:.1f} s after the resume")
        diag(f"done in {time.time() - t0:.1f} s")
    finally:
        for n in NODES:
            scontrol_node(n, "resume", quiet=True)   # Slurm refuses it for a node not drained
        for u, sid in sids.items():
            clients[u].call("DELETE", f"/api/v1/sessions/{sid}")
        if proc is not None and proc.poll() is None:
            e2e.stop_process(proc)
        # whatever the controller left in the partition
        subprocess.run(["scancel", "-p", PARTITION], capture_output=True, timeout=30)
        e2e.controller_teardown(tmp, log_path)


if __name__ == "__main__":
    main()
    sys.exit(1 if e2e.failed else 0)
