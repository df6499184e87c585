#!/usr/bin/env python3
"""controller-avail.py: no new session where the scheduler takes no job (issue 14).

Usage: controller-avail.py [slurm|sge] MINNA_CONTROLLER POLICY_FILE USER1 USER2 USER3

Run by run-slurm-suite.sh (slurm, the default: Slurm up with POLICY_FILE's
partition exported beside the suite's own: avail-policy.conf, partition
avail of the nodes avail1 and avail2) and run-sge-suite.sh (sge: Grid Engine
up with tests/sge/avail-policy.conf's queue avail.q exported beside the
suite's own; its hosts are host group @avail's, policy node i the i-th), as
root; the users real Unix users the scheduler runs jobs for.  The real
minna-controller with [backend] type = slurm on that partition / sge on that
queue:

  - with two nodes or more: the first, where the policy would place the
    next session (all empty: the lower index), is made to take no job
    (Slurm: scontrol update state=drain; Grid Engine: qmod -d avail.q@HOST):
    once the controller shows it unavailable (GET /api/v1/queue), USER1's
    session goes to the second and runs there;
  - it is back (resume; qmod -e): once shown available again, USER2's
    session runs on that node (both backends submit to the policy's node:
    Slurm --nodelist, Grid Engine its queue instance QUEUE@HOST);
  - every node taken out (the sessions running there stay running): USER3's
    session waits (queued, wait reason "unavailable", no job in the
    scheduler), neither refused nor lost; the last node back: it starts and
    runs there, and the controller shows it available again.

Grid Engine's cell in the sge suite has one execution host: the first two
steps need a second and are left out there (said in a diagnostic).

Prints TAP lines without a plan ("ok - ..."), diagnostics as "# ..." (also
on stderr once a step failed); exits 0 only if every step passed.  The nodes
are resumed / the queue instances enabled, the sessions stopped, the
controller stopped (by PID) and the jobs it left cancelled at exit, also
when a step fails.
"""
import importlib.util
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("controller_e2e", os.path.join(HERE, "controller-e2e.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)
ARGS = sys.argv[1:]
SCHED = ARGS.pop(0) if ARGS and ARGS[0] in ("slurm", "sge") else "slurm"
CONTROLLER, POLICY, USER1, USER2, USER3 = ARGS[:5]
e2e.SCHED, e2e.CONTROLLER, e2e.POLICY = SCHED, CONTROLLER, POLICY
ok, diag = e2e.ok, e2e.diag
PARTITION = "avail"          # Slurm's partition; Grid Engine's host group @avail
QUEUE = "avail.q"            # Grid Engine's queue
NODES = ("avail1", "avail2")  # Slurm's; Grid Engine's: its host group's hosts (main)
# the controller asks sinfo / qstat at most every 5 s, in a poll round of its own
SEEN_WITHIN = 20


def run(args, quiet=False):
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if r.returncode != 0 and not quiet:
        diag(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()} {r.stdout.strip()}")
    return r.returncode == 0


def take_out(node, quiet=False):
    """The scheduler sends no new job to @node: drained / its instance disabled."""
    if SCHED == "sge":
        return run(["qmod", "-d", f"{QUEUE}@{node}"], quiet)
    return run(["scontrol", "update", f"nodename={node}", "state=drain", "reason=minna-test"],
               quiet)


def bring_back(node, quiet=False):
    """@node takes jobs again: resumed / its instance enabled (Slurm refuses a
    resume of a node not drained: @quiet)."""
    if SCHED == "sge":
        return run(["qmod", "-e", f"{QUEUE}@{node}"], quiet)
    return run(["scontrol", "update", f"nodename={node}", "state=resume"], quiet)


def node_states():
    """The scheduler's own words on the nodes, for diagnostics."""
    args = (["qstat", "-f", "-q", QUEUE] if SCHED == "sge"
            else ["sinfo", "-h", "-N", "-p", PARTITION, "-o", "%N %T"])
    r = subprocess.run(args, capture_output=True, text=True, timeout=15)
    lines = r.stdout.strip().splitlines()
    if SCHED == "sge":
        # an instance's name and its states (the last column when it has one)
        lines = [f"{f[0]} {f[5] if len(f) > 5 else '-'}" for f in map(str.split, lines)
                 if f and f[0].startswith(QUEUE + "@")]
    return ", ".join(lines)


def job_node(session_id):
    if SCHED == "sge":
        # qstat -xml keeps the job names whole; the host of its queue instance
        out = subprocess.run(["qstat", "-u", "*", "-s", "r", "-xml"], capture_output=True,
                             text=True, timeout=15).stdout
        for job in re.findall(r"<job_list.*?</job_list>", out, re.S):
            name = re.search(r"<JB_name>([^<]*)</JB_name>", job)
            queue = re.search(r"<queue_name>[^<@]*@([^<]*)</queue_name>", job)
            if name and queue and name.group(1) == "minna-" + session_id:
                return queue.group(1)
        return ""
    r = subprocess.run(["squeue", "-h", "-n", "minna-" + session_id, "-o", "%N"],
                       capture_output=True, text=True, timeout=15)
    return r.stdout.strip()


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
    if not ok(good and (where == node or node is None),
              f"{client.user}: session {sid} runs, its job on {node or 'a node'}"
              f" (state {s.get('state')}, job on {where or 'nothing'})"):
        diag(s)
        diag(f"the scheduler's nodes: {node_states()}")
        return False
    return True


def main():
    global NODES
    t0 = time.time()
    users = (USER1, USER2, USER3)
    if SCHED == "sge":
        out = subprocess.run(["qconf", "-shgrp_resolved", "@" + PARTITION], capture_output=True,
                             text=True, timeout=15).stdout
        NODES = tuple(out.split())
        if not ok(len(NODES) > 0, f"host group @{PARTITION} has hosts ({' '.join(NODES)})"):
            return
    tmp, conf = e2e.controller_setup("minna-avail-", users)
    where = f"queue = {QUEUE}" if SCHED == "sge" else f"partition = {PARTITION}"
    with open(conf) as f:
        text = f.read().replace("[backend]\n", f"[backend]\n{where}\n", 1)
    with open(conf, "w") as f:
        f.write(text)
    log_path = os.path.join(tmp, "controller.log")
    proc = None
    clients, sids = {}, {}
    n = len(NODES)
    unit = "queue instance" if SCHED == "sge" else "node"
    try:
        proc, base = e2e.start_controller(conf, log_path)
        if not ok(base is not None, f"minna-controller ({SCHED} backend, {where}) starts"):
            return
        for u in users:
            clients[u] = e2e.Client(base, u, f"pw-{u}-1")
            st, me = clients[u].login()
            if not ok(st == 200, f"{u} logs in"):
                diag(me)
                return
        c1, c2, c3 = (clients[u] for u in users)
        good, got = e2e.wait_available(c1, [True] * n, SEEN_WITHIN)
        if not ok(good, f"every node available to start with ({got}; the scheduler: {node_states()})"):
            return

        if n >= 2:
            # 1. the node the policy would pick next takes no job
            if not ok(take_out(NODES[0]), f"{NODES[0]}'s {unit} taken out in {SCHED}"):
                return
            t = time.time()
            good, got = e2e.wait_available(c1, [False] + [True] * (n - 1), SEEN_WITHIN)
            if not ok(good, f"the controller shows {NODES[0]} unavailable in {time.time() - t:.1f} s"
                      f" ({got}; the scheduler: {node_states()})"):
                return
            sids[USER1] = launch(c1, f"a session launched with {NODES[0]} out")
            if sids[USER1] is None or not runs_on(c1, sids[USER1], NODES[1]):
                return

            # 2. back: the policy places there again, and the job runs there
            if not ok(bring_back(NODES[0]), f"{NODES[0]}'s {unit} back in {SCHED}"):
                return
            good, got = e2e.wait_available(c2, [True] * n, SEEN_WITHIN)
            if not ok(good, f"the controller shows {NODES[0]} available again ({got})"):
                return
            sids[USER2] = launch(c2, f"a session launched with {NODES[0]} back")
            if sids[USER2] is None or not runs_on(c2, sids[USER2], NODES[0]):
                return
        else:
            diag(f"one node ({NODES[0]}): the steps that take out one of two are left out")

        # 3. every node out: the launch waits, then starts when one is back
        for node in NODES:
            take_out(node)
        t = time.time()
        good, got = e2e.wait_available(c3, [False] * n, SEEN_WITHIN)
        if not ok(good, f"the controller shows every node unavailable in {time.time() - t:.1f} s"
                  f" ({got}; the scheduler: {node_states()})"):
            return
        sids[USER3] = launch(c3, "a session launched with every node out")
        if sids[USER3] is None:
            return
        time.sleep(3)   # a few poll rounds: nothing may submit it meanwhile
        st, s = c3.session(sids[USER3])
        ok(st == 200 and s.get("state") == "queued" and s.get("wait_reason") == "unavailable"
           and e2e.scheduler_state(sids[USER3]) == "",
           f"it waits: {s.get('state')}, wait reason {s.get('wait_reason')!r}, reason"
           f" {s.get('reason')!r}, no job in {SCHED} ({e2e.scheduler_state(sids[USER3]) or 'none'})")
        for u in (USER1, USER2):
            if u in sids:
                st, r = clients[u].session(sids[u])
                ok(st == 200 and r.get("state") == "running",
                   f"{u}: the session on a node taken out stays {r.get('state')}")
        last = NODES[-1]
        if not ok(bring_back(last), f"{last}'s {unit} back in {SCHED}"):
            return
        t = time.time()
        if runs_on(c3, sids[USER3], last):
            diag(f"the waiting session ran {time.time() - t:.1f} s after {last} was back")
        good, got = e2e.wait_available(c3, [False] * (n - 1) + [True], SEEN_WITHIN)
        ok(good, f"the controller shows {last} available again ({got})")
        diag(f"done in {time.time() - t0:.1f} s")
    finally:
        for node in NODES:
            bring_back(node, quiet=True)
        for u, sid in sids.items():
            if sid is not None:
                clients[u].call("DELETE", f"/api/v1/sessions/{sid}")
        if proc is not None and proc.poll() is None:
            e2e.stop_process(proc)
        # whatever the controller left in the partition / queue
        if SCHED == "sge":
            for sid in sids.values():
                if sid is not None:
                    run(["qdel", "minna-" + sid], quiet=True)
        else:
            subprocess.run(["scancel", "-p", PARTITION], capture_output=True, timeout=30)
        e2e.controller_teardown(tmp, log_path)


if __name__ == "__main__":
    main()
    sys.exit(1 if e2e.failed else 0)
