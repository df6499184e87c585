#!/usr/bin/env python3
"""cluster-e2e.py: minna on a cluster of separate hosts, one scheduler.

Usage: cluster-e2e.py slurm|sge MINNA_CONTROLLER POLICY_FILE USER LIAR_USER

Run by run-cluster-suite.sh on the client node of the test cluster
(cluster-net.sh, MNCL_DIR) once the scheduler is up: its master on the
service node (svc, 10.213.0.1), its execution daemons on cn1 and cn2.
Starts minna-controller ([backend] type = slurm|sge, job_host = node) and
minna-relay on the service node (on-node.sh svc), and checks from here:

  - USER and LIAR_USER log in through the relay (the only way in);
  - Jupyter is launched to running; its job runs on a compute node, listens
    on that node's own address (the node the scheduler names, and a socket
    in that node's namespace), and 1+1 over the kernel's WebSocket through
    the relay gives 2;
  - each job runs on the host of the node the policy placed its session on
    (node i on cn<i+1>; Grid Engine: submitted to that host's queue
    instance, qstat -j's hard_queue_list): Jupyter on node 1, the next
    session on node 2;
  - a job of LIAR_USER whose connection file names another host (a decoy
    that answers every request, on the service node) is refused: the
    controller logs it and never routes the session there;
  - the relay restarted: the session answers through the new relay;
  - the controller restarted: the session is recovered, same host and port;
  - the compute node cut off (the bridge's end of its link down): its
    session turns unknown, is never ended, and runs again when the link is
    back, its kernel still there;
  - the session deleted: ended, its job gone from the scheduler;
  - Grid Engine only: a host group lists its hosts in the order they were
    added (the controller's node i is the i-th); cn1's queue instance
    disabled (qmod -d): once the controller shows node 1 unavailable, a new
    session is placed on node 2 and runs on cn2; enabled again (qmod -e):
    node 1 shown available, the next session placed there runs on cn1.
    The instance is enabled again at exit, also when a step fails.

TAP lines without a plan ("ok - ..." / "not ok - ..."), diagnostics "# ...";
exits 0 only if every step passed.  Stops what it started (controller,
relay, decoy) by PID at exit, also when a step fails.
"""
import importlib.util
import json
import os
import re
import shutil
import signal
import secrets
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

SCHED, CONTROLLER, POLICY, USER, LIAR = sys.argv[1:6]
HERE = os.path.dirname(os.path.abspath(__file__))
ON_NODE = os.path.join(HERE, "on-node.sh")
MNCL_DIR = os.environ["MNCL_DIR"]
PREFIX = open(os.path.join(MNCL_DIR, "prefix")).read().strip()
SVC = "10.213.0.1"

# The single-host suites' helpers (API client, relay requests, WebSocket,
# 1+1 on a kernel, the controller's configuration), pointed at this cluster.
_spec = importlib.util.spec_from_file_location(
    "controller_e2e", os.path.join(HERE, "..", "slurm", "controller-e2e.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)
e2e.SCHED, e2e.CONTROLLER, e2e.POLICY, e2e.USER = SCHED, CONTROLLER, POLICY, USER
e2e.RELAY_HOST = SVC
e2e.RELAY_SCHEME = "https"
ok, diag = e2e.ok, e2e.diag
RELAY = e2e.RELAY
T0 = time.time()


def elapsed():
    return f"{time.time() - T0:.0f} s"


def hosts():
    """The cluster's hosts file: name -> address."""
    out = {}
    with open(os.path.join(MNCL_DIR, "hosts")) as f:
        for line in f:
            f_ = line.split()
            if len(f_) == 2:
                out[f_[1]] = f_[0]
    return out


def on(node, *argv, timeout=30):
    """Run argv on @node; its stdout ('' when it failed)."""
    try:
        r = subprocess.run([ON_NODE, node, *argv], capture_output=True, text=True,
                           timeout=timeout, cwd="/tmp")
    except subprocess.TimeoutExpired:
        return ""
    if r.returncode != 0:
        diag(f"on {node}: {' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
        return ""
    return r.stdout


def svc_free_ports(n):
    """@n ports free on the service node (its own network namespace)."""
    out = on("svc", "python3", "-c",
             "import socket\nss=[socket.socket() for _ in range(%d)]\n"
             "[s.bind(('0.0.0.0', 0)) for s in ss]\nprint(' '.join(str(s.getsockname()[1]) for s in ss))" % n)
    return [int(p) for p in out.split()]


def start_on(node, argv, log):
    return subprocess.Popen([ON_NODE, node, *argv], stdout=subprocess.PIPE, stderr=log,
                            text=True, cwd="/tmp")


def stop(proc, name):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        diag(f"{name} (pid {proc.pid}) ignored SIGTERM for 15 s: killed")
        proc.kill()
        proc.wait()


def job_node(sid):
    """(state, execution host name) of the session's job, as the scheduler says."""
    name = "minna-" + sid
    if SCHED == "slurm":
        out = on("svc", "squeue", "-h", "-n", name, "-o", "%T|%B").strip()
        if "|" not in out:
            return "", ""
        state, node = out.split("|", 1)
        # the node's NodeHostname (NodeName is a logical name, interactive1)
        host = on("svc", "sinfo", "-h", "-N", "-n", node, "-o", "%n").strip().split("\n")[0]
        return state, host
    out = on("svc", "qstat", "-u", "*")
    for line in out.splitlines():
        f = line.split()
        if len(f) > 7 and name.startswith(f[2]) and f[2].startswith("minna-"):
            return f[4], f[7].split("@", 1)[-1]
    return "", ""


def policy_host(s):
    """The compute node of the policy's node of session @s: node i (0-based)
    is cn<i+1> (Slurm's interactive<i+1>, the i-th host of Grid Engine's
    host group @interactive); None when it is not placed."""
    node = s.get("node")
    return f"mncl-cn{node + 1}" if isinstance(node, int) else None


def sge_queue_asked(sid):
    """The queue instance(s) the session's job was submitted to (qstat -j)."""
    out = on("svc", "qstat", "-j", "minna-" + sid)
    m = re.search(r"^hard_queue_list:\s*(\S+)", out, re.M)
    return m.group(1) if m else ""


def check_placed(sid, s, what):
    """The session's job runs on its policy node's host (as the scheduler says,
    waiting up to 30 s for it to run); on Grid Engine it was asked for exactly
    that host's queue instance."""
    want = policy_host(s)
    end = time.time() + 30
    state = host = ""
    while time.time() < end:
        state, host = job_node(sid)
        if state in ("RUNNING", "r"):
            break
        time.sleep(0.5)
    good = want is not None and host == want and state in ("RUNNING", "r")
    asked = ""
    if SCHED == "sge":
        asked = sge_queue_asked(sid)
        good = good and asked == f"interactive.q@{want}"
        asked = f", submitted to {asked or 'no queue instance'}"
    node = s.get("node")
    return ok(good, f"{what}: placed by the policy on node {node + 1 if isinstance(node, int) else '?'}"
              f" ({want}), its job runs on {host or 'nothing'} ({state or 'no job'}){asked}")


def link(node, up):
    """The bridge's end of @node's link up or down (cluster-net.sh names it after the node)."""
    r = subprocess.run(["ip", "-n", PREFIX + "br", "link", "set", node, "up" if up else "down"],
                       capture_output=True, text=True, timeout=10)
    return r.returncode == 0


class Daemons:
    """minna-controller and minna-relay on the service node, restartable."""

    def __init__(self, tmp, conf, secret, ports):
        self.tmp, self.conf, self.secret = tmp, conf, secret
        self.relay_https, self.relay_admin = ports
        self.log = open(os.path.join(tmp, "daemons.log"), "a")
        self.controller = self.relay = None
        self.base = None

    def start_controller(self):
        self.controller = start_on("svc", [CONTROLLER, "--config", self.conf], self.log)
        line = self.controller.stdout.readline()
        if "listening on http://" not in line:
            diag(f"minna-controller: {line!r}")
            return False
        self.base = line.strip().split()[-1]
        return True

    def start_relay(self):
        self.relay = start_on("svc", [
            RELAY, "--listen-https", f"{SVC}:{self.relay_https}", "--listen-http", "",
            "--cert-file", f"{self.tmp}/relay.crt", "--key-file", f"{self.tmp}/relay.key",
            "--admin-listen", f"127.0.0.1:{self.relay_admin}", "--admin-secret-file", self.secret,
            "--cookie-key-file", f"{self.tmp}/cookie-key", "--controller-url", self.base,
            "--state-dir", f"{self.tmp}/relay-state", "--access-log", ""], self.log)
        end = time.time() + 20
        while time.time() < end:
            st, _ = e2e.relay_request(self.relay_https, e2e.Client("", "", ""), "/", timeout=2)
            if st:
                return True
            if self.relay.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    def stop(self):
        stop(self.relay, "minna-relay")
        stop(self.controller, "minna-controller")

    def log_text(self):
        self.log.flush()
        with open(os.path.join(self.tmp, "daemons.log")) as f:
            return f.read()


class RelayClient(e2e.Client):
    """The API client, through the relay from the client node."""

    def __init__(self, relay_port, user, password):
        super().__init__(f"https://{SVC}:{relay_port}", user, password)


def write_apps(apps_dir, decoy_port):
    shutil.copytree(os.path.join(e2e.SRC, "daemons", "controller", "apps"), apps_dir)
    # A job that lies about its host: its connection file names the decoy on
    # the service node, which answers the readiness probe; were the lie
    # believed, the session would run with its route to the decoy.
    lie = f"{{ echo '[connection]'; echo 'host={SVC}'; echo 'port={decoy_port}'; }}"
    with open(os.path.join(apps_dir, "liar.app"), "w") as f:
        f.write("[app]\nname = Liar\nreadiness_path =\n"
                f'command = {lie} > "{{session_dir}}/connection.lie" && mv "{{session_dir}}/connection.lie"'
                ' "{session_dir}/connection"\\nexec sleep 600\n'
                "[field cores]\nmin = 1\nmax = 2\ndefault = 1\n"
                "[field memory_gb]\nmin = 0.1\nmax = 4\ndefault = 1\n"
                "[field hours]\nmin = 0.001\nmax = 1\ndefault = 1\n")


DECOY = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"decoy")
    def log_message(self, *a):
        pass
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
"""


# ---- the steps ------------------------------------------------------------------

def step_jupyter(ctx):
    c, rp = ctx["user"], ctx["relay_port"]
    t = time.time()
    st, s = c.launch(app="jupyter", cores=1, memory_gb=3, hours=0.5, if_busy="wait")
    if not ok(st == 201, f"Jupyter launch through the relay accepted ({st})"):
        diag(s)
        return None
    sid = s["id"]
    ctx["launched"].append((c, sid))
    ctx["after_launch"]()
    up, s = c.wait(sid, ("running", "failed", "ended"), 120)
    if not ok(up and s["state"] == "running",
              f"Jupyter session reaches running in {time.time() - t:.1f} s"):
        diag(s)
        return None
    state, node = job_node(sid)
    addr = hosts().get(node)
    ok(state in ("RUNNING", "r") and node in ("mncl-cn1", "mncl-cn2"),
       f"its job runs on compute node {node} ({state})")
    check_placed(sid, s, "Jupyter (the first session)")
    port = listen_port(s)
    ok(addr is not None and s.get("host") == addr,
       f"the app listens on that node's own address: {s.get('host')}:{port}"
       f" (the node's is {addr})")
    listening = on(node, "ss", "-Htln", f"sport = :{port}") if port else ""
    ok(port and f"{addr}:{port}" in listening,
       f"the listening socket is in {node}'s network namespace")
    ctx["node"] = node.replace("mncl-", "")
    url = s["url"]
    good, st, body = e2e.relay_wait(rp, c, url + "api/status", lambda st, b: st == 200, 30)
    if not ok(good, f"GET {url}api/status through the relay: {st}"):
        diag(body[-300:])
        return sid
    try:
        kid, result = e2e.one_plus_one(rp, c, url)
        ok(result == "2", f"1+1 on a kernel over the relay's WebSocket gives {result!r}")
        ctx["kernel"] = kid
    except (OSError, ValueError, KeyError) as e:
        ok(False, f"1+1 on a kernel over the relay's WebSocket ({e})")
    return sid


def listen_port(s):
    """The port the session's job listens on, from its events (the API shows no port)."""
    for e in s.get("events") or []:
        m = re.search(r"job listens on \S+:(\d+)", e.get("message") or "")
        if m:
            return int(m.group(1))
    return None


def launch_liar(ctx):
    c = ctx["liar"]
    st, s = c.launch(app="liar", cores=1, memory_gb=0.5, hours=0.1, if_busy="wait")
    if ok(st == 201, f"the lying job of {LIAR} launched ({st})"):
        ctx["liar_sid"] = s["id"]
        ctx["launched"].append((c, s["id"]))
    else:
        diag(s)


def step_liar(ctx, daemons):
    sid = ctx.get("liar_sid")
    if sid is None:
        return
    c = ctx["liar"]
    pat = re.compile(rf"session {sid}: connection file \S+ names {re.escape(SVC)}:{ctx['decoy_port']},"
                     r" not an address of node (\S+); ignored")
    end = time.time() + 60
    m = None
    while time.time() < end and m is None:
        m = pat.search(daemons.log_text())
        if m is None:
            time.sleep(0.5)
    st, s = c.session(sid)
    if not ok(m is not None, f"the controller refuses the lie ({SVC}:{ctx['decoy_port']}),"
              f" naming the job's node ({m.group(1) if m else 'no such log line'})"):
        diag(s)
    ok(st == 200 and s["state"] == "starting" and not s.get("url"),
       f"the lying session is not routed: {s.get('state')}")
    ok(f"names {SVC}:{ctx['decoy_port']}" in (s.get("reason") or ""),
       f"its owner sees why: {s.get('reason')}")
    # launched while Jupyter had node 1: the policy spreads it to node 2
    if check_placed(sid, s, "the second session"):
        ok(s.get("node") == 1, f"the second session is on node 2 (node {s.get('node')}, 0-based)")
    st, _ = c.call("DELETE", f"/api/v1/sessions/{sid}")
    ended, s = c.wait(sid, ("ended", "failed"), 60)
    ok(ended, f"the lying session is ended by DELETE ({s.get('state')})")


def step_relay_restart(ctx, daemons, sid, url):
    c, rp = ctx["user"], ctx["relay_port"]
    stop(daemons.relay, "minna-relay")
    t = time.time()
    if not ok(daemons.start_relay(), "minna-relay restarted"):
        return
    good, st, _ = e2e.relay_wait(rp, c, url + "api/status", lambda st, b: st == 200, 30)
    ok(good, f"the session answers through the new relay {time.time() - t:.1f} s after its"
       f" restart ({st})")


def step_controller_restart(ctx, daemons, sid, before):
    c, rp = ctx["user"], ctx["relay_port"]
    stop(daemons.controller, "minna-controller")
    t = time.time()
    if not ok(daemons.start_controller(), "minna-controller restarted"):
        return
    back, s = c.wait(sid, ("running", "failed", "ended"), 60)
    ok(back and s["state"] == "running" and s.get("host") == before.get("host")
       and listen_port(s) == listen_port(before),
       f"the session is recovered {time.time() - t:.1f} s after the controller's restart:"
       f" {s.get('state')} on {s.get('host')}:{listen_port(s)}")
    good, st, _ = e2e.relay_wait(rp, c, before["url"] + "api/status", lambda st, b: st == 200, 30)
    ok(good, f"and answers through the relay ({st})")


def step_cut_off(ctx, sid, before):
    c, rp, node = ctx["user"], ctx["relay_port"], ctx["node"]
    if not ok(link(node, False), f"{node} cut off (its link down at the bridge)"):
        return
    t = time.time()
    try:
        seen = set()

        def look():
            st, s = c.session(sid)
            if st == 200:
                seen.add(s["state"])
        unknown, s = c.wait(sid, ("unknown", "ended", "failed"), 150, look)
        if not ok(unknown and s["state"] == "unknown",
                  f"its session turns unknown {time.time() - t:.1f} s after the cut"):
            diag(s)
        else:
            diag(f"reason: {s.get('reason')}")
        ok(not (seen & {"ended", "failed"}), f"never ended meanwhile (seen: {sorted(seen)})")
    finally:
        t = time.time()
        up = link(node, True)
    if not ok(up, f"{node}'s link back up"):
        return
    back, s = c.wait(sid, ("running", "ended", "failed"), 150)
    if not ok(back and s["state"] == "running",
              f"the session runs again {time.time() - t:.1f} s after the link returned"):
        diag(s)
        return
    good, st, body = e2e.relay_wait(rp, c, before["url"] + "api/kernels",
                                    lambda st, b: st == 200, 30)
    kid = ctx.get("kernel")
    ok(good and (kid is None or kid in body),
       f"it answers through the relay again, its kernel still there ({st})")


def step_end(ctx, sid):
    c = ctx["user"]
    st, _ = c.call("DELETE", f"/api/v1/sessions/{sid}")
    ended, s = c.wait(sid, ("ended", "failed"), 60)
    ok(ended and s["state"] == "ended", f"DELETE ends the session ({s.get('state')})")
    end = time.time() + 30
    state = "?"
    while time.time() < end:
        state, _ = job_node(sid)
        if state in ("", "CANCELLED", "COMPLETING"):
            break
        time.sleep(0.5)
    ok(state in ("", "CANCELLED", "COMPLETING"), f"its job is gone from the scheduler ({state or 'gone'})")


# ---- Grid Engine: the host group's order, a disabled queue instance ------------

def qconf_ok(*argv):
    r = subprocess.run([ON_NODE, "svc", "qconf", *argv], capture_output=True, text=True,
                       timeout=30, cwd="/tmp")
    if r.returncode != 0:
        diag(f"qconf {' '.join(argv)}: exit {r.returncode}: {(r.stderr + r.stdout).strip()[-300:]}")
    return r.returncode == 0


def step_hostgroup_order(tmp):
    """Grid Engine lists a host group's hosts in the order they were added,
    not sorted: the controller's policy node i is the i-th (docs/deploy-sge.md)."""
    got = on("svc", "qconf", "-shgrp_resolved", "@interactive").split()
    ok(got == ["mncl-cn1", "mncl-cn2"],
       f"@interactive lists its hosts as added, cn1 then cn2: {' '.join(got)}")
    group = "@minnaorder"
    path = os.path.join(tmp, "order.hgrp")
    with open(path, "w") as f:
        f.write(f"group_name {group}\nhostlist NONE\n")
    if not qconf_ok("-Ahgrp", path):
        ok(False, f"a scratch host group {group} made")
        return
    try:
        added = ["mncl-cn2", "mncl-svc", "mncl-cn1"]   # neither sorted nor reversed
        for h in added:
            qconf_ok("-aattr", "hostgroup", "hostlist", h, group)
        got = on("svc", "qconf", "-shgrp_resolved", group).split()
        ok(got == added, f"hosts added to {group} as {' '.join(added)} are listed so: {' '.join(got)}")
    finally:
        qconf_ok("-dhgrp", group)


def launch_webapp(ctx, client, what):
    st, s = client.launch(app="webapp", cores=1, memory_gb=0.25, hours=0.1, if_busy="wait")
    if not ok(st == 201, f"{client.user}: {what} ({st})"):
        diag(s)
        return None, s
    ctx["launched"].append((client, s["id"]))
    return s["id"], s


def step_instance_disabled(ctx):
    """cn1's queue instance disabled: the policy places the next session on
    node 2, its job runs on cn2; enabled: node 1 takes the next again."""
    c1, c2 = ctx["user"], ctx["liar"]
    instance = "interactive.q@mncl-cn1"
    t = time.time()
    if not ok(on("svc", "qmod", "-d", instance) != "", f"qmod -d {instance}"):
        return
    ctx["disabled"] = instance
    good, got = e2e.wait_available(c1, [False, True], 25)
    if not ok(good, f"the controller shows node 1 (mncl-cn1) unavailable {time.time() - t:.1f} s"
              f" after qmod -d ({got})"):
        return
    sid1, s1 = launch_webapp(ctx, c1, "a session launched with mncl-cn1 disabled")
    if sid1 is None:
        return
    ok(s1.get("node") == 1, f"the policy places it on node 2 (node {s1.get('node')}, 0-based)")
    # placed at launch: cn1 may come back while it starts (it is pinned to cn2)
    t = time.time()
    if not ok(on("svc", "qmod", "-e", instance) != "", f"qmod -e {instance}"):
        return
    ctx.pop("disabled")
    good, got = e2e.wait_available(c1, [True, True], 25)
    ok(good, f"the controller shows node 1 available again {time.time() - t:.1f} s after qmod -e"
       f" ({got})")
    up, s1 = c1.wait(sid1, ("running", "failed", "ended"), 90)
    if not ok(up and s1["state"] == "running", f"it runs ({s1.get('state')})"):
        diag(s1)
    check_placed(sid1, s1, "the session launched with mncl-cn1 disabled")
    sid2, s2 = launch_webapp(ctx, c2, "a session launched with mncl-cn1 back")
    if sid2 is None:
        return
    up, s2 = c2.wait(sid2, ("running", "failed", "ended"), 90)
    if not ok(up and s2["state"] == "running", f"it runs ({s2.get('state')})"):
        diag(s2)
    # the policy's rule: fewest jobs, then the lowest index
    if check_placed(sid2, s2, "the session launched with mncl-cn1 back"):
        ok(s2.get("node") == 0, f"it is on node 1 again (node {s2.get('node')}, 0-based)")
    for c, sid in ((c1, sid1), (c2, sid2)):
        c.call("DELETE", f"/api/v1/sessions/{sid}")


def main():
    tmp = tempfile.mkdtemp(prefix="mncl-e2e-", dir="/var/tmp")
    os.chmod(tmp, 0o711)   # jobs (the users) reach state/sessions/<id>
    ports = svc_free_ports(4)
    ctl_port, relay_https, relay_admin, _ = ports
    decoy_port = 20999     # in the controller's port range; the service node's namespace is ours
    secret = os.path.join(tmp, "admin-secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(secrets.token_hex(24) + "\n")
    apps_dir = os.path.join(tmp, "apps")
    write_apps(apps_dir, decoy_port)
    conf = e2e.write_config(tmp, ctl_port, f"http://127.0.0.1:{relay_admin}", secret, apps_dir)
    daemons = Daemons(tmp, conf, secret, (relay_https, relay_admin))
    # the site's certificate, for the service node's name and address; the
    # client trusts it and nothing else
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=mncl-svc",
                    "-addext", f"subjectAltName=DNS:mncl-svc,IP:{SVC}",
                    "-keyout", f"{tmp}/relay.key", "-out", f"{tmp}/relay.crt"],
                   check=True, capture_output=True, timeout=30)
    os.chmod(f"{tmp}/relay.key", 0o600)
    tls = ssl.create_default_context(cafile=f"{tmp}/relay.crt")
    e2e.RELAY_SSL = tls
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls)))
    decoy = None
    if not ok(bool(RELAY) and os.access(RELAY, os.X_OK), f"minna-relay is built ({RELAY or 'MINNA_BUILD_DIR not set'})"):
        return
    ctx = {"relay_port": relay_https, "decoy_port": decoy_port, "launched": []}
    try:
        for u in (USER, LIAR):
            subprocess.run([CONTROLLER, "passwd", "--config", conf, u], input=f"pw-{u}-1\n",
                           text=True, check=True, capture_output=True, timeout=30)
        decoy = start_on("svc", ["python3", "-c", DECOY, SVC, str(decoy_port)], daemons.log)
        if not ok(daemons.start_controller(), f"minna-controller ({SCHED} backend) starts on the"
                  " service node"):
            return
        if not ok(daemons.start_relay(), f"minna-relay starts on the service node ({SVC}:{relay_https})"):
            return
        for key, u in (("user", USER), ("liar", LIAR)):
            cl = ctx[key] = RelayClient(relay_https, u, f"pw-{u}-1")
            st, me = cl.login()
            if not ok(st == 200, f"{u} logs in through the relay from the client node"):
                diag(me)
                return
        ctx["after_launch"] = lambda: launch_liar(ctx)
        sid = step_jupyter(ctx)
        diag(f"at {elapsed()}")
        step_liar(ctx, daemons)
        diag(f"at {elapsed()}")
        if sid is None or "node" not in ctx:
            return
        running, before = ctx["user"].wait(sid, ("running",), 30)
        if not ok(running, f"the Jupyter session still runs ({before.get('state')})"):
            diag(before)
            return
        step_relay_restart(ctx, daemons, sid, before["url"])
        step_controller_restart(ctx, daemons, sid, before)
        diag(f"at {elapsed()}")
        step_cut_off(ctx, sid, before)
        diag(f"at {elapsed()}")
        step_end(ctx, sid)
        if SCHED == "sge":
            t = time.time()
            step_hostgroup_order(tmp)
            step_instance_disabled(ctx)
            diag(f"Grid Engine's host group order and disabled instance: {time.time() - t:.1f} s")
        diag(f"done at {elapsed()}")
    finally:
        if ctx.get("disabled"):
            on("svc", "qmod", "-e", ctx["disabled"])
        for c, sid in ctx["launched"]:
            try:
                st, s = c.session(sid)
                if st == 200 and s["state"] not in ("ended", "failed"):
                    c.call("DELETE", f"/api/v1/sessions/{sid}")
            except Exception:   # best effort; the scheduler's teardown kills jobs anyway
                pass
        daemons.stop()
        stop(decoy, "decoy")
        if e2e.failed or os.environ.get("MINNA_E2E_LOG"):
            diag(daemons.log_text()[-6000:])
        if os.environ.get("MINNA_KEEP_TEST_DIR"):
            diag(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# SIGTERM (meson's timeout, the suite's trap) unwinds through main's finally
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
try:
    main()
except Exception as ex:   # a step that broke is a failure, with its traceback
    import traceback
    ok(False, f"cluster-e2e.py: {type(ex).__name__}: {ex}")
    diag(traceback.format_exc())
sys.exit(1 if e2e.failed else 0)
