#!/usr/bin/python3
"""sec-metrics-ports.py: the controller's /metrics is not public, and no
user can take every job port (issue 15 item 9).

/metrics through the relay and straight to the controller: without a
credential, as a portal user, as an admin, with the scraper's bearer and a
wrong one.  Then a second Unix account locks every port lock file of the
jobs' range (flock needs no more than a readable file) while a victim
launches a web app: the victim's job still gets a port; with at most the
allowed number of locks the attacker's ports are left alone; without the
limit (--locks-per-user 0) job-launch finds no port, which is the attack.
"""
import json
import os
import socket
import subprocess
import time

from minna_sec import (CONTROLLER, TAP, Portal, make_user, need, require_built, require_root,
                       spawn, stop)

require_root()
require_built()

VICTIM, ATTACKER = "minnasecpv", "minnasecpa"
victim = make_user(VICTIM)
attacker = make_user(ATTACKER)


def free_range(n):
    for base in range(31000, 39000, 50):
        ok = True
        for port in range(base, base + n):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            s.close()
            if not ok:
                break
        if ok:
            return base
    need(False, "a free range of ports")


N = 10
base = free_range(N)
metrics_secret = "metrics-" + os.urandom(16).hex()
metrics_file = f"/var/tmp/minna-sec-metrics-{os.getpid()}"
p = Portal("metrics", {VICTIM: "victim-password-1", "alice": "alice-password-1",
                       "boss": "boss-password-1"}, run_as="user", admins=("boss",),
           extra=f"port_min = {base}\nport_max = {base + N - 1}\n",
           server_extra=f"metrics_secret_file = {metrics_file}")
mfile = os.path.join(p.dir, "metrics-secret")
with open(os.open(mfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write(metrics_secret + "\n")
text = open(p.config).read().replace(metrics_file, mfile)
with open(p.config, "w") as f:
    f.write(text)
p.start()

# ---- /metrics ------------------------------------------------------------------
_, alice, _ = p.login("alice", via_relay=True)
_, boss, _ = p.login("boss", via_relay=True)
cases = [
    ("through the relay, no credential", True, {}, 401),
    ("through the relay, a portal user's login", True, {"Cookie": f"minna_session={alice}"}, 403),
    ("through the relay, an admin's login", True, {"Cookie": f"minna_session={boss}"}, 200),
    ("through the relay, a wrong bearer", True, {"Authorization": "Bearer " + "x" * 40}, 401),
    ("through the relay, the relay's admin secret as bearer", True,
     {"Authorization": f"Bearer {p.secret}"}, 401),
    ("straight to the controller, no credential", False, {}, 401),
    ("straight to the controller, the scraper's bearer", False,
     {"Authorization": f"Bearer {metrics_secret}"}, 200),
    ("straight to the controller, the bearer with another case", False,
     {"Authorization": f"bearer {metrics_secret}"}, 401),
]
for name, relay, headers, want in cases:
    st, hd, body = p.request("GET", "/metrics", headers=headers, via_relay=relay)
    good = st == want and ((b"minna_logins_total" in body) == (want == 200))
    TAP.ok(good, f"/metrics {name}: {want}", f"got {st}: {body[:200]!r}")

# ---- port locks ------------------------------------------------------------------------
lock_dir = os.path.join(p.dir, "ports")
HOLD = r'''
import fcntl, os, sys, time
fds = []
for port in sys.argv[2:]:
    path = os.path.join(sys.argv[1], "port-" + port)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fds.append(fd)
print("holding", len(fds), flush=True)
time.sleep(600)
'''


def hold(ports):
    log = os.path.join(p.dir, f"hold-{len(ports)}.log")
    proc = subprocess.Popen(["/usr/bin/python3", "-c", HOLD, lock_dir] + [str(x) for x in ports],
                            user=ATTACKER, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    end = time.time() + 10
    while time.time() < end and "holding" not in open(log).read():
        time.sleep(0.05)
    need("holding" in open(log).read(), f"the attacker holds {len(ports)} locks: {open(log).read()}")
    return proc


def session_port(sid):
    st, _, body = p.request("GET", "/api/v1/routes", headers={"Authorization": f"Bearer {p.secret}"})
    for r in json.loads(body)["routes"]:
        if r["id"] == sid:
            return int(r["upstream"].rsplit(":", 1)[1])
    return None


os.makedirs(lock_dir, exist_ok=True)
os.chmod(lock_dir, 0o1777)

# the attack, with the limit off: job-launch finds no port
holder = hold(range(base, base + N))
r = subprocess.run([CONTROLLER, "job-launch", "--host", "127.0.0.1", "--ports", f"{base}-{base + N - 1}",
                    "--lock-dir", lock_dir, "--locks-per-user", "0",
                    "--connection-file", "/tmp/minna-sec-unused-connection", "--", "/bin/true"],
                   user=VICTIM, capture_output=True, text=True, cwd="/")
TAP.ok(r.returncode != 0 and "no free port" in r.stderr,
       f"without the limit, {ATTACKER} holding all {N} port locks leaves no port (the attack)",
       r.stdout + r.stderr)

# with the limit (8): the victim's session still starts
_, cookie, csrf = p.login(VICTIM)
sid = p.launch(cookie, csrf, "webapp")
port = session_port(sid)
out = open(os.path.join(p.session_dir(sid), "output.log")).read()
TAP.ok(port is not None and base <= port < base + N,
       f"{ATTACKER} holding all {N} locks: {VICTIM}'s web app still gets port {port}")
TAP.ok("more than the 8 a user may hold" in out, "job-launch says whose locks it did not honour",
       out[-500:])
st, _, body = p.request("GET", f"/s/{sid}/", headers={"Cookie": f"minna_session={cookie}"},
                        via_relay=True)
TAP.ok(st == 200 and sid.encode() in body, "and the app answers through the relay")
st, _, _ = p.request("DELETE", f"/api/v1/sessions/{sid}",
                     headers={"Cookie": f"minna_session={cookie}", "X-CSRF-Token": csrf})
holder.kill()
holder.wait()
time.sleep(1)

# within the limit the attacker's locks are honoured: the victim gets another port
held = list(range(base, base + 8))
holder = hold(held)
sid = p.launch(cookie, csrf, "webapp")
port = session_port(sid)
TAP.ok(port is not None and port not in held and base <= port < base + N,
       f"{ATTACKER} holding 8 locks (the limit): {VICTIM}'s app takes a free port ({port})")
holder.kill()
holder.wait()
TAP.done()
