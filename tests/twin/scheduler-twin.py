#!/usr/bin/env python3
"""scheduler-twin.py: the twin scenarios on a real Slurm or Grid Engine (issue 14).

  scheduler-twin.py prepare slurm|sge DIR SCENARIO...
      For each scenario writes DIR/NAME.twin, the scenario with a [queue]
      name of its own, a tolerance SCHEDULER_SLACK s wider (twin1.q, twin2.q, ...: its own partition or queue,
      nodes and quota beside the suite's), and DIR/NAME.conf, its
      policy (minna-twin policy).  The placement rule is the scenario's: on
      Slurm the controller submits each job to the node and logical node
      (socket) the policy chose (--nodelist, the socket's lnode GRES,
      --gres-flags=enforce-binding), so Slurm places it there.  Prints the .conf paths: the suite's
      bring-up exports them (minna-policy export --slurm|--sge) into the
      scheduler it starts (MINNA_SLURM_EXTRA_POLICIES, MINNA_SGE_EXTRA_POLICIES).

  scheduler-twin.py run slurm|sge MINNA_CONTROLLER DIR
      Plays every prepared scenario at the same time, each through a
      minna-controller of its own ([backend] type = slurm / sge, the
      scenario's policy, its partition or queue) on the running scheduler,
      each session a minna-twin-app job run as a real account
      (MINNA_TWIN_ACCOUNTS, space-separated: a scenario's users map to them
      in order of appearance).  Each session's row is built from what the
      controller and the scheduler show: the decision and its code (the
      API), the start (the scheduler's start time, through the controller),
      the end reason, and the placement the scheduler gave the job: its
      node (squeue / qstat), and on Slurm its cpuset, GPU devices
      (CUDA_VISIBLE_DEVICES) and memory cgroup as the job itself reads them
      (twin-report.json), from which its logical node (the socket) follows.
      The rows are compared with the model's (minna-twin sim, compare);
      every field or cell the scheduler cannot show is named with why, on
      the report (never skipped silently).

Prints TAP lines without a plan ("ok - ..." / "not ok - ..."), diagnostics as
"# ..." (and, on a failure, the comparison on stderr too); exits 0 only if
every scenario has 0 differences.  Kills the controllers it started by PID
and cancels what jobs of theirs remain.
"""
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("MINNA_BUILD_DIR", "")
TWIN_BIN = os.path.join(BUILD, "tests", "twin", "minna-twin")
TWIN_APP = os.path.join(BUILD, "tests", "twin", "minna-twin-app")
T = 15  # timeout of one scheduler command

_spec = importlib.util.spec_from_file_location(
    "controller_e2e", os.path.join(HERE, "..", "slurm", "controller-e2e.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

out_lock = threading.Lock()
failed = 0


def say(line, err=False):
    with out_lock:
        print(line, flush=True)
        if err:
            print(line, file=sys.stderr, flush=True)


def diag(text, err=False):
    for line in str(text).splitlines():
        say("# " + line, err)


def ok(cond, what):
    global failed
    say(("ok - " if cond else "not ok - ") + what)
    if not cond:
        with out_lock:
            failed += 1
    return cond


def twin(*args, timeout=60):
    return subprocess.run([TWIN_BIN, *args], capture_output=True, text=True, check=True,
                          timeout=timeout).stdout


# ---- prepare ---------------------------------------------------------------------

# A job's end reaches the controller through the scheduler (squeue/sacct,
# qstat/qacct) a poll or more after it, and only then does a waiting session
# get the freed slot (a new sbatch/qsub, the scheduler's next cycle): under
# load that adds up to about 6 s to the start of a waiting session.  The
# scheduler twins allow that much more than the scenario's tolerance.
SCHEDULER_SLACK = 4


def set_keys(text, section, keys):
    """The scenario's text with @keys (KEY -> value) set in its [@section]."""
    out, in_policy, done = [], False, set()
    for line in text.splitlines():
        m = re.match(r"\s*\[(.*)\]\s*$", line)
        if m:
            if in_policy:
                out.extend(f"{k} = {v}" for k, v in keys.items() if k not in done)
                done.update(keys)
            in_policy = m.group(1).strip() == section
        elif in_policy:
            k = line.split("=", 1)[0].strip()
            if k in keys:
                line = f"{k} = {keys[k]}"
                done.add(k)
        out.append(line)
    if in_policy:
        out.extend(f"{k} = {v}" for k, v in keys.items() if k not in done)
    return "\n".join(out) + "\n"


def prepare(sched, d, scenarios):
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o711)   # the jobs (users) read their scenario and reach their session dirs
    for i, path in enumerate(scenarios, 1):
        name = os.path.splitext(os.path.basename(path))[0]
        keys = {"queue.name": f"twin{i}.q"}
        with open(path) as f:
            text = f.read()
        m = re.search(r"^\s*tolerance\s*=\s*(\d+)\s*s?\s*$", text, re.M)
        tolerance = (int(m.group(1)) if m else 3) + SCHEDULER_SLACK
        text = set_keys(set_keys(text, "policy", keys), "scenario", {"tolerance": f"{tolerance}s"})
        derived = os.path.join(d, f"{name}.twin")
        with open(derived, "w") as f:
            f.write(text)
        os.chmod(derived, 0o644)
        conf = os.path.join(d, f"{name}.conf")
        with open(conf, "w") as f:
            f.write(twin("policy", derived))
        print(conf)


# ---- the scheduler, asked directly ---------------------------------------------

def placements(sched, queue):
    """job name -> node name of the running jobs of @queue (partition / queue)."""
    try:
        if sched == "slurm":
            out = subprocess.run(["squeue", "-h", "-p", queue, "-t", "RUNNING", "-o", "%j %N %i"],
                                 capture_output=True, text=True, timeout=T).stdout
            return {l.split()[0]: l.split()[1:] for l in out.splitlines() if len(l.split()) == 3}
        # qstat cuts names: ask with the full name list (-r is too slow); the
        # job names are minna-<id>, and qstat -xml keeps them whole
        out = subprocess.run(["qstat", "-u", "*", "-s", "r", "-q", queue, "-xml"],
                             capture_output=True, text=True, timeout=T).stdout
        names = re.findall(r"<JB_name>([^<]*)</JB_name>", out)
        queues = re.findall(r"<queue_name>([^<]*)</queue_name>", out)
        return {n: [q.split("@", 1)[1].split(".")[0]] for n, q in zip(names, queues) if "@" in q}
    except subprocess.TimeoutExpired:
        return {}


def slurm_allocation(job_id):
    """(CPU_IDs, GPU indexes) Slurm allocated to the job (scontrol -d): its
    CPUs in Slurm's own numbering (CPU_IDs=0-1), which counts socket by socket
    (the logical node), and the GPUs its gpu or shard GRES is on
    (GRES=lnode:l0:1(IDX:0),gpu:1(IDX:0), shard:2(IDX:1), shard:2(0/4,2/4)),
    ";"-separated."""
    try:
        out = subprocess.run(["scontrol", "-d", "show", "job", job_id], capture_output=True,
                             text=True, timeout=T).stdout
    except subprocess.TimeoutExpired:
        return None, None
    cpus = re.search(r"CPU_IDs=(\S+)", out)
    # the gpu or shard entry only (GRES=lnode:l1:1(IDX:4),shard:2(IDX:1): the
    # logical node's unit comes first)
    gres = re.search(r" GRES=\S*?((?:gpu|shard)(?::[^:(,]+)*\([^)]*\))", out)
    gpus = ""
    if gres:
        idx = re.search(r"\(IDX:([0-9,-]+)\)", gres.group(1))
        per = re.search(r"\(((?:\d+/\d+,?)+)\)", gres.group(1))
        if idx:
            gpus = ";".join(expand_ids(idx.group(1)))
        elif per:
            gpus = ";".join(str(i) for i, c in enumerate(per.group(1).split(","))
                            if int(c.split("/")[0]) > 0)
    return (cpus.group(1) if cpus else None), gpus


def expand_ids(text):
    """"0-2,5" -> ["0", "1", "2", "5"]"""
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += [str(i) for i in range(int(a), int(b or a) + 1)]
    return out


def cgroup_limit(report):
    """RAM + swap the job may hold, in MiB, from its memory cgroup and every
    parent up to the root (Slurm sets the limit on the job's cgroup, the task
    runs in one below it): v1 memory.memsw.limit_in_bytes, else
    memory.limit_in_bytes; v2 memory.max (+ memory.swap.max).  None: not read."""
    best = None
    for line in (report.get("cgroups") or "").splitlines():
        f = line.split(":", 2)
        if len(f) != 3:
            continue
        if "memory" in f[1].split(","):
            base, files = "/sys/fs/cgroup/memory", [("memory.memsw.limit_in_bytes",
                                                      "memory.limit_in_bytes")]
        elif f[1] == "" and f[0] == "0" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            base, files = "/sys/fs/cgroup", [("memory.max",)]
        else:
            continue
        path = f[2].rstrip("/")
        while True:
            for names in files:
                for n in names:
                    try:
                        with open(os.path.join(base + path, n)) as fh:
                            v = fh.read().strip()
                    except OSError:
                        continue
                    mib = None if v == "max" or int(v) >= 1 << 62 else int(v) >> 20
                    if mib is not None and (best is None or mib < best):
                        best = mib
                    break
            if not path:
                break
            path = path.rsplit("/", 1)[0]
    return best


def cancel_jobs(sched, queue):
    """Whatever jobs remain in the twin's partition / queue."""
    if sched == "slurm":
        subprocess.run(["scancel", "-p", queue], capture_output=True, timeout=T)
    else:
        out = subprocess.run(["qstat", "-u", "*", "-q", queue], capture_output=True, text=True,
                             timeout=T).stdout
        ids = [l.split()[0] for l in out.splitlines()[2:] if l.split()]
        if ids:
            subprocess.run(["qdel", *ids], capture_output=True, timeout=T)


# ---- one scenario ------------------------------------------------------------------

class Scenario:
    def __init__(self, sched, controller, d, name, accounts):
        self.sched, self.controller, self.d, self.name = sched, controller, d, name
        self.path = os.path.join(d, f"{name}.twin")
        self.policy = os.path.join(d, f"{name}.conf")
        self.dir = os.path.join(d, f"run-{name}")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o711)
        self.plan = e2e.twin_tsv(twin("plan", self.path))[1]
        self.model_text = twin("sim", self.path)
        self.head, model = e2e.twin_tsv(self.model_text)
        self.model = {r["name"]: r for r in model}
        with open(self.policy) as f:
            text = f.read()
        self.queue = re.search(r"^name = (\S+)", text, re.M).group(1)
        self.partition = self.queue[:-2] if self.queue.endswith(".q") else self.queue
        self.logical_cores = int(re.search(r"^\[logical_node\][^\[]*?^cores = (\d+)", text,
                                           re.M | re.S).group(1))
        with open(self.path) as f:
            m = re.search(r"^\s*tolerance\s*=\s*(\d+)\s*s?\s*$", f.read(), re.M)
        self.tolerance = int(m.group(1)) if m else 3
        users = list(dict.fromkeys(s["user"] for s in self.plan))
        if len(users) > len(accounts):
            raise RuntimeError(f"{name} needs {len(users)} accounts, MINNA_TWIN_ACCOUNTS names"
                               f" {len(accounts)}")
        self.accounts = dict(zip(users, accounts))
        self.proc = None
        self.result = None

    def write_files(self, users_file, key_file, port_dir):
        apps = os.path.join(self.dir, "apps")
        os.makedirs(apps, exist_ok=True)
        e2e.write_twin_apps(apps, self.plan, self.path)
        self.conf = os.path.join(self.dir, "controller.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[server]
listen = 127.0.0.1
port = {e2e.free_port()}
www_dir = {e2e.SRC}/daemons/controller/www
[state]
state_dir = {self.dir}/state
sessions_dir = {self.dir}/sessions
apps_dir = {apps}
policy_file = {self.policy}
[auth]
methods = users-file
users_file = {users_file}
key_file = {key_file}
pbkdf2_iterations = 1000
[relay]
url =
[backend]
type = {self.sched}
partition = {self.partition}
queue = {self.queue}
run_as = user
job_host = node
port_lock_dir = {port_dir}
poll_interval_ms = 500
ready_timeout = 60s
command_timeout = 15s
""")

    def start(self):
        self.log = open(os.path.join(self.dir, "controller.log"), "w")
        self.proc = subprocess.Popen([self.controller, "--config", self.conf],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            raise RuntimeError(f"minna-controller for {self.name} did not start: {line!r}")
        base = line.strip().split()[-1]
        self.clients = {}
        for acct in dict.fromkeys(self.accounts.values()):
            c = e2e.Client(base, acct, f"pw-{acct}-1")
            st, me = c.login()
            if st != 200:
                raise RuntimeError(f"{acct} cannot log in to {self.name}'s controller: {st} {me}")
            self.clients[acct] = c

    def stop(self):
        if self.proc is not None:
            e2e.stop_process(self.proc)
        self.proc = None

    def report(self, sid):
        try:
            with open(os.path.join(self.dir, "sessions", sid, "twin-report.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def play(self):
        """Launches on the plan's times, follows every session to its end."""
        t0 = self.t0 = time.time()
        played = []
        for s in self.plan:
            wait = float(s["at"]) - (time.time() - t0)
            if wait > 0:
                time.sleep(wait)
            c = self.clients[self.accounts[s["user"]]]
            sent = time.time()
            st, body = c.launch(app=f"twin-{s['name']}", queue="interactive",
                                cores=int(s["cores"]), memory_gb=int(s["memory_mb"]) / 1024,
                                gpus=int(s["gpus"]), hours=int(s["walltime"]) / 3600,
                                if_busy=s["if_busy"])
            # how late this driver sent the launch (it sends them one after
            # another: 42 take about 3 s), taken off the start below
            p = {"s": s, "client": c, "id": None, "last": None, "node": None, "stop": False,
                 "lag": max(0.0, sent - (t0 + float(s["at"])))}
            if st == 409:
                p["decision"], p["reason"] = "reject", body.get("reason", "?")
            elif st == 201:
                p["id"], p["last"] = body["id"], body
                if body["state"] == "queued":
                    p["decision"], p["reason"] = "wait", body.get("wait_reason") or "?"
                else:
                    p["decision"], p["reason"] = "start", ""
            else:
                p["decision"], p["reason"] = "?", f"launch answered {st}: {body}"
            played.append(p)
        self.launch_seconds = time.time() - t0
        # Slurm counts time limits in whole minutes and checks them every
        # 30 s: a session whose walltime is not whole minutes is stopped
        # here once the model has ended it (its end reason is not compared)
        self.cut = {}
        if self.sched == "slurm":
            for p in played:
                m = self.model[p["s"]["name"]]
                if int(p["s"]["walltime"]) % 60 and m["end_reason"] == "walltime":
                    self.cut[p["s"]["name"]] = int(m["end"]) + self.tolerance
        last_model = max([int(r["end"]) for r in self.model.values() if r["end"] not in ("", "?")]
                         or [0])
        end = t0 + last_model + 90
        while time.time() < end:
            now = time.time() - t0
            nodes = placements(self.sched, self.queue if self.sched == "sge" else self.partition)
            open_ = 0
            for p in played:
                if not p["id"] or p["last"]["state"] in ("ended", "failed"):
                    continue
                node = nodes.get("minna-" + p["id"])
                if node and not p["node"]:
                    p["node"] = node[0]
                    if self.sched == "slurm":
                        p["cpu_ids"], p["gres_gpus"] = slurm_allocation(node[1])
                if p["node"] and "limit" not in p:
                    # read while the job runs: its cgroup goes with it
                    rep = self.report(p["id"])
                    if rep:
                        p["limit"] = cgroup_limit(rep)
                st, body = p["client"].session(p["id"])
                if st == 200:
                    p["last"] = body
                if p["last"]["state"] not in ("ended", "failed"):
                    open_ += 1
                    name = p["s"]["name"]
                    if name in self.cut and now > self.cut[name] and not p["stop"]:
                        p["client"].call("DELETE", f"/api/v1/sessions/{p['id']}")
                        p["stop"] = True
            if not open_:
                break
            time.sleep(0.5)
        self.played = played
        self.seconds = time.time() - t0

    def node_index(self, node):
        """The policy's node index of the scheduler's node name."""
        if self.sched == "slurm":
            m = re.match(re.escape(self.partition) + r"(\d+)$", node)
            return str(int(m.group(1)) - 1) if m else f"?{node}"
        hosts = self.hosts
        return str(hosts.index(node)) if node in hosts else f"?{node}"

    def rows(self):
        rows, differ = [], []
        for p in self.played:
            s, j = p["s"], p["last"] or {}
            row = {h: "?" for h in self.head}
            row.update(name=s["name"], user=s["user"], decision=p["decision"], reason=p["reason"])
            if p["id"] is None:
                row.update({h: "" for h in self.head
                            if h not in ("name", "user", "decision", "reason")})
                rows.append(row)
                continue
            # a session that starts at once starts after its own launch: less
            # the driver's lag in sending it; one that waits starts when
            # another ends (launched early, scripted from its own start)
            start = j.get("job_started")
            if start:
                lag = p["lag"] if p["decision"] == "start" else 0.0
                row["start"] = str(int(start - self.t0 - lag))
            if j.get("ended"):
                row["end"] = str(int(j["ended"] - self.t0))
            if j.get("end_reason"):
                row["end_reason"] = j["end_reason"]
            if p["node"]:
                row["node"] = self.node_index(p["node"])
            # admitted by the controller while Slurm held the job in its queue
            # (Resources): its start is late (compared), said on stderr
            p["held"] = any("waiting in the scheduler's queue (Resources)" in (e.get("message") or "")
                            for e in j.get("events", []))
            rep = self.report(p["id"])
            if self.sched == "sge" and rep and start and rep.get("started"):
                # Grid Engine's start (JAT_start_time) is its dispatch; the
                # job's own processes start when sge_execd gets to them
                p["execd_delay"] = int(rep["started"]) - int(start)
            if self.sched == "slurm" and rep:
                row["cpus"] = rep.get("cpus", "?")
                p["cuda"] = rep.get("cuda_visible_devices")
                if p.get("limit") is not None:
                    row["memory_limit"] = str(p["limit"])
                elif "limit" in p:
                    row["memory_limit"] = "max"
            if self.sched == "slurm" and p.get("gres_gpus") is not None:
                row["gpus"] = p["gres_gpus"]
            if self.sched == "slurm" and p.get("cpu_ids"):
                first = re.match(r"\d+", p["cpu_ids"])
                if first:
                    row["logical"] = str(int(first.group(0)) // self.logical_cores)
                if row["cpus"] != p["cpu_ids"]:
                    differ.append(f"{s['name']}: Slurm allocated CPU_IDs={p['cpu_ids']} (its own"
                                  f" numbering), the job's cpuset is {row['cpus']}")
            # what the controller's own bookkeeping placed it on, beside the scheduler's
            booked = (str(j.get("node")), str(j.get("logical_node")))
            if j.get("node") is not None and (booked[0] != row["node"] or
                                              (self.sched == "slurm" and booked[1] != row["logical"])):
                differ.append(f"{s['name']}: the controller booked node {booked[0]} logical"
                              f" {booked[1]}, the scheduler placed it on node {row['node']}"
                              f" logical {row['logical']}")
            rows.append(row)
        return rows, differ

    def end_order(self, rows):
        """Waiting sessions whose logical node differs from the model's only
        because two slots came free within the time a job's end takes to
        reach the controller (squeue, then sacct: a poll or more): which one a
        waiting session gets follows the order the controller sees the ends
        in, not always the order they happened.  name -> why, for a session
        placed on logical node R instead of M when the model ends a session on
        R within SCHEDULER_SLACK s of its start too (the nearest is named)."""
        out = {}
        for r in rows:
            m = self.model[r["name"]]
            if m["decision"] != "wait" or r["logical"] in ("?", m["logical"]):
                continue
            near = [o for o in self.model.values()
                    if o["logical"] == r["logical"] and o["node"] == m["node"]
                    and o["end"] not in ("", "?") and m["start"] not in ("", "?")
                    and abs(int(o["end"]) - int(m["start"])) <= SCHEDULER_SLACK]
            if near:
                o = min(near, key=lambda o: abs(int(o["end"]) - int(m["start"])))
                out[r["name"]] = (f"it waited for a slot; {o['name']} on logical node"
                                  f" {o['logical']} ended {o['end']} s in the model, the slot"
                                  f" it got at {m['start']} s on {m['logical']}: the controller"
                                  " saw those ends (squeue, sacct) in the other order")
        return out

    def cannot(self, rows):
        """--cannot / --cannot-cell arguments: what this scheduler cannot show, and why."""
        a = []
        late = (f"a {self.sched} job's end reaches the controller through its accounting"
                " (sacct / qacct) a poll or more later; the end reason is compared")
        a += ["--cannot", f"end={late}"]
        a += ["--cannot", "gpu_failed=no GPU on this host: nothing to allocate GPU memory on"]
        if self.sched == "slurm":
            for name, why in self.end_order(rows).items():
                for f in ("logical", "cpus", "gpus"):
                    a += ["--cannot-cell", f"{name}:{f}={why}"]
            a += ["--cannot", "cpu_quota=Slurm confines a job to its logical node's cores"
                  " (the socket's cpuset, compared), it sets no CPU quota"]
            for name, _ in self.cut.items():
                a += ["--cannot-cell", f"{name}:end_reason=Slurm counts time limits in whole"
                      " minutes and checks them every 30 s: a walltime of seconds is not played"
                      " there (the session is stopped once the model has ended it)"]
        else:
            a += ["--cannot", "logical=Grid Engine has no logical nodes: slots per host"
                  " (minna-policy export --sge says so)"]
            a += ["--cannot", "cpus=Grid Engine binds no cores to a job here (no cpuset)"]
            a += ["--cannot", "gpus=Grid Engine counts GPUs as a consumable (gpu / gpu_shard),"
                  " it chooses no device"]
            a += ["--cannot", "memory_limit=Grid Engine limits a job's address space (h_vmem,"
                  " from the same model), not RAM + swap in a cgroup"]
            a += ["--cannot", "cpu_quota=Grid Engine sets no CPU quota"]
            # a waiting session starts when a job before it ends, and that job
            # ends its script's time after its own start: when sge_execd
            # started jobs late (a burst of them on a loaded host), a waiting
            # start that is off by more than the tolerance, but within the
            # tolerance plus the worst delay measured, is that delay
            worst = max([p.get("execd_delay", 0) for p in self.played] or [0])
            for p in self.played:
                name = p["s"]["name"]
                r, m = self.real_start.get(name, ""), self.model[name]["start"]
                if (p["decision"] == "wait" and worst > 0 and r.isdigit() and m.isdigit() and
                        self.tolerance < abs(int(r) - int(m)) <= self.tolerance + worst):
                    a += ["--cannot-cell", f"{name}:start=sge_execd started the jobs before it up"
                          f" to {worst} s after Grid Engine dispatched them (JAT_start_time against"
                          " the job's own start), so they ended and freed its slot that much later"
                          f" (model {m} s, real {r} s)"]
            for name, m in self.model.items():
                if m["end_reason"] == "memory-cap":
                    a += ["--cannot-cell", f"{name}:end_reason=Grid Engine enforces h_vmem as an"
                          " address-space limit: the job's allocation fails and it exits;"
                          " qacct gives no code saying the limit was hit"]
        return a

    def compare(self):
        rows, differ = self.rows()
        self.real_start = {r["name"]: r["start"] for r in rows}
        real = os.path.join(self.dir, "real.tsv")
        model = os.path.join(self.dir, "model.tsv")
        with open(model, "w") as f:
            f.write(self.model_text)
        with open(real, "w") as f:
            f.write("\t".join(self.head) + "\n")
            for r in rows:
                f.write("\t".join(r[h] for h in self.head) + "\n")
        cmp = subprocess.run([TWIN_BIN, "compare", self.path, model, real, *self.cannot(rows)],
                             capture_output=True, text=True, timeout=60)
        good = cmp.returncode == 0
        diag(f"{self.name} on {self.sched}: {len(self.plan)} launches in"
             f" {self.launch_seconds:.1f} s, every session over after {self.seconds:.0f} s")
        if self.sched == "sge":
            delays = sorted(p["execd_delay"] for p in self.played if "execd_delay" in p)
            if delays:
                diag(f"{self.name} on sge: a job's own start after Grid Engine's dispatch:"
                     f" median {delays[len(delays) // 2]} s, worst {delays[-1]} s")
        diag(cmp.stdout + cmp.stderr, err=not good)
        ok(good, f"twin {self.name} on {self.sched}: every session as the model (admissions,"
           " waits, refusals and their codes, node, starts, end reasons"
           + (", logical node (socket), cpuset, GPU, memory limit)" if self.sched == "slurm"
              else ")"))
        held = [p["s"]["name"] for p in self.played if p.get("held")]
        if held:
            diag(f"held in Slurm's queue (Resources) after the controller admitted them:"
                 f" {', '.join(held)}", err=True)
        if differ or self.sched == "slurm":
            diag("\n".join(differ), err=True)
            ok(not differ, f"twin {self.name} on {self.sched}: the controller's bookkeeping"
               " places every job where the scheduler did")
        if not good:
            with open(os.path.join(self.dir, "controller.log")) as f:
                diag(f.read()[-4000:], err=True)


def run(sched, controller, d):
    accounts = os.environ.get("MINNA_TWIN_ACCOUNTS", "").split()
    names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".twin"))
    scenarios = [Scenario(sched, controller, d, n, accounts) for n in names]
    users_file, key_file = os.path.join(d, "users"), os.path.join(d, "cookie-key")
    port_dir = os.path.join(d, "ports")
    for sc in scenarios:
        sc.write_files(users_file, key_file, port_dir)
    needed = list(dict.fromkeys(a for sc in scenarios for a in sc.accounts.values()))
    for a in needed:
        subprocess.run([controller, "passwd", "--config", scenarios[0].conf, a],
                       input=f"pw-{a}-1\n", text=True, check=True, capture_output=True, timeout=30)
    if sched == "sge":
        for sc in scenarios:
            out = subprocess.run(["qconf", "-shgrp_resolved", "@" + sc.partition],
                                 capture_output=True, text=True, timeout=T).stdout
            sc.hosts = [h.split(".")[0] for h in out.split()]
    try:
        for sc in scenarios:
            sc.start()
        threads = [threading.Thread(target=sc.play) for sc in scenarios]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for sc in scenarios:
            sc.compare()
    finally:
        for sc in scenarios:
            sc.stop()
            try:
                cancel_jobs(sched, sc.queue if sched == "sge" else sc.partition)
            except (OSError, subprocess.TimeoutExpired):
                pass


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3], sys.argv[4:])
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "run":
        e2e.SCHED = sys.argv[2]
        try:
            run(sys.argv[2], sys.argv[3], sys.argv[4])
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            ok(False, f"the twin scenarios on {sys.argv[2]} ran ({e})")
        return 1 if failed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
