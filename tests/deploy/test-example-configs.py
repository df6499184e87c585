#!/usr/bin/python3
"""test-example-configs.py: the two example configurations, as shipped, work
together (issue 17 item 2).

daemons/controller/minna-controller.conf.example and
daemons/relay/relay.conf.example are copied with one substitution, the
paths prefix: /etc/minna, /var/lib/minna*, /var/log/minna and /run/minna
move below this test's directory, and /usr/share/minna/{www,apps} become the
source tree's copies of what `meson install` puts there.  Every other line,
ports and the admin API included, is used as written; the copies are
diffed against the examples to prove it.  The daemons run in a network
namespace of the test's own, so the fixed ports (443, 8470, 8444) of the
examples are free.  What an admin does from source (docs/deploy-local.md:
a service account for the relay, the two secrets, a self-signed TLS pair)
is done here with a test account (minnaexrelay) in place of `minna`; the
daemons are started as the repository's units start them (user, umask,
capabilities, no new privileges; see minna_deploy.unit_argv).  Then a Unix
account logs in through the relay on https and launches Jupyter with the
local backend, which runs 6*7 over its kernel's WebSocket.

The startup checks are tested here too: a controller whose [relay] url is a
unix: socket is refused naming the key; a relay that does not answer is a
warning naming [relay] url; a relay whose access_log directory is missing
exits naming access_log and the directory.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

from minna_sec import (TAP, BUILD, SRC, CONTROLLER, RELAY, need, require_root, require_built,
                       spawn, stop, tail, _dirs, _users)
import minna_deploy as md

require_root()
require_built()
if not os.path.exists("/usr/lib/python3/dist-packages/notebook") and \
        not os.path.exists("/usr/lib/python3/dist-packages/jupyter_server"):
    TAP.skip_all("Debian's Jupyter is not installed")
if not os.path.exists("/etc/pam.d/minna"):
    TAP.skip_all("/etc/pam.d/minna is not installed (./setup.sh test installs it)")
md.enter_netns()

D = tempfile.mkdtemp(prefix="minna-examples-", dir="/var/tmp")
_dirs.append(D)
os.chmod(D, 0o711)   # jobs pass through to their session directories
PREFIXED = ("/etc/minna", "/var/lib/minna", "/var/log/minna", "/run/minna")
SHARE = {"/usr/share/minna/www": os.path.join(SRC, "daemons", "controller", "www"),
         "/usr/share/minna/apps": os.path.join(SRC, "daemons", "controller", "apps")}


def moved(text):
    for old, new in SHARE.items():
        text = text.replace(old, new)
    for p in PREFIXED:
        text = re.sub(re.escape(p) + r"(?=[-/\s]|$)", lambda m: D + m.group(0), text)
    return text


def copy_example(src, dst):
    text = open(src).read()
    out = moved(text)
    a, b = text.splitlines(), out.splitlines()
    changed = [(x, y) for x, y in zip(a, b) if x != y]
    # every changed line differs by the path prefix alone
    bad = [y for x, y in changed
           if y.replace(D, "") != x and
           not any(v in y for v in SHARE.values())]
    TAP.ok(len(a) == len(b) and not bad,
           f"{os.path.basename(src)}: {len(changed)} lines differ, by the paths prefix only", bad)
    with open(dst, "w") as f:
        f.write(out)
    return dict(re.findall(r"^\s*([a-z_]+)\s*=\s*(.*?)\s*$", out, re.M))


etc = os.path.join(D, "etc", "minna")
os.makedirs(os.path.join(etc, "tls"))
os.chmod(os.path.join(D, "etc"), 0o755)
os.chmod(etc, 0o755)
os.chmod(os.path.join(etc, "tls"), 0o755)
ctl_conf = os.path.join(etc, "controller.conf")
rel_conf = os.path.join(etc, "relay.conf")
ctl = copy_example(os.path.join(SRC, "daemons", "controller", "minna-controller.conf.example"), ctl_conf)
rel = copy_example(os.path.join(SRC, "daemons", "relay", "relay.conf.example"), rel_conf)
TAP.ok(rel["controller_url"] == f"http://{ctl['listen']}:{ctl['port']}",
       f"the relay's controller_url ({rel['controller_url']}) is the controller's listen:port")
TAP.ok(ctl["url"] == f"http://{rel['admin_listen']}",
       f"the controller's [relay] url ({ctl['url']}) is the relay's admin_listen")
TAP.ok(ctl["secret_file"] == rel["admin_secret_file"] and ctl["key_file"] == rel["cookie_key_file"],
       "both read the same admin secret and cookie key")

# What the admin does from source (docs/deploy-local.md), with a test
# account for the relay; the units' directories as systemd would make them.
RELAY_USER = "minnaexrelay"
subprocess.run(["userdel", "-f", RELAY_USER], capture_output=True)
r = subprocess.run(["useradd", "--system", "--user-group", "-M", "-d", "/nonexistent",
                    "-s", "/usr/sbin/nologin", RELAY_USER], capture_output=True, text=True)
need(r.returncode == 0, f"useradd {RELAY_USER}: {r.stderr}")
_users.append(RELAY_USER)
for name in ("cookie-key", "admin-secret"):
    path = os.path.join(etc, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    shutil.chown(path, RELAY_USER, RELAY_USER)
md.make_tls(rel["cert_file"], rel["key_file"], f"{RELAY_USER}:{RELAY_USER}")
for d, owner in ((rel["state_dir"], RELAY_USER), (os.path.dirname(rel["access_log"]), RELAY_USER)):
    os.makedirs(d, mode=0o700)
    shutil.chown(d, owner, owner)
for d in (os.path.dirname(D + "/var/lib/x"), os.path.dirname(D + "/var/log/x")):
    os.chmod(d, 0o755)
os.makedirs(D + "/run/minna", mode=0o755, exist_ok=True)


def unit(path, user=None, exe=None, conf=None):
    """The repository's unit, with its ExecStart's program and --config
    pointing at the build tree and this test's copies."""
    u = md.parse_unit(path)
    argv = u["ExecStart"][-1].split()
    argv[0] = exe
    argv[argv.index("--config") + 1] = conf
    u["ExecStart"] = [" ".join(argv)]
    if user:
        u["User"], u["Group"] = [user], [user]
    return u


ctl_unit = unit(os.path.join(SRC, "daemons", "controller", "minna-controller.service"),
                exe=CONTROLLER, conf=ctl_conf)
rel_unit = unit(os.path.join(SRC, "daemons", "relay", "minna-relay.service"), user=RELAY_USER,
                exe=RELAY, conf=rel_conf)


def start(u, name, extra_env=None):
    log = os.path.join(D, name + ".log")
    argv = md.unit_argv(u)
    TAP.diag(f"{name}: {' '.join(argv)}")
    env = dict(os.environ, **(extra_env or {}))
    return spawn(argv, log, md.unit_umask(u), env=env), log


# ---- startup checks ----------------------------------------------------------------

# 1. the relay's log directory missing
logdir = os.path.dirname(rel["access_log"])
os.rename(logdir, logdir + ".away")
p, log = start(rel_unit, "relay-nolog")
try:
    p.wait(20)
except subprocess.TimeoutExpired:
    stop(p)
out = tail(log, 50)
TAP.ok(p.returncode not in (None, 0) and "access_log" in out and f"{logdir} does not exist" in out,
       "a missing access_log directory: the relay exits naming the key and the directory", out)
os.rename(logdir + ".away", logdir)

# 2. a unix: admin socket in [relay] url is refused at start, naming the key
bad_conf = os.path.join(etc, "controller-unix.conf")
open(bad_conf, "w").write(open(ctl_conf).read().replace(
    f"url = {ctl['url']}", "url = unix:/run/minna/relay-admin.sock"))
r = subprocess.run([CONTROLLER, "--config", bad_conf], capture_output=True, text=True, timeout=30)
TAP.ok(r.returncode != 0 and "[relay] url" in r.stderr and "unix:/run/minna/relay-admin.sock" in r.stderr,
       "[relay] url = unix:...: the controller refuses to start naming the key", r.stderr[-400:])
os.unlink(bad_conf)

# 3. no relay answering: a warning naming [relay] url (the example as it is)
t0 = time.time()
cp, clog = start(ctl_unit, "controller-alone")
md.wait_tcp(int(ctl["port"]), cp, clog, "minna-controller")
warned = md.wait_log(clog, "[relay] url http://127.0.0.1:8444: the relay's admin API does not answer",
                     40)
TAP.ok(warned, f"no relay: the controller warns naming [relay] url after {time.time() - t0:.0f} s",
       tail(clog))
stop(cp)

# ---- both daemons from the examples ---------------------------------------------------
cp, clog = start(ctl_unit, "controller")
md.wait_tcp(int(ctl["port"]), cp, clog, "minna-controller")
rp, rlog = start(rel_unit, "relay")
md.wait_tcp(443, rp, rlog, "minna-relay (443)")
TAP.ok(md.wait_log(clog, "the relay's admin API answers", 30),
       "the controller reaches the relay's admin API as configured", tail(clog))

USER, PASSWORD = "minnaexuser", "ex-" + os.urandom(6).hex()
md.make_login_user(USER, PASSWORD)
c = md.Client(443, rel["cert_file"])
st, _, body = c.request("GET", "/login")
TAP.ok(st == 200 and b"<html" in body.lower(), f"https://localhost/login: the portal's page ({st})",
       body[:200])
st, body = c.login(USER, PASSWORD)
TAP.ok(st == 200 and c.cookie, f"{USER} logs in with its Unix password (PAM) through the relay",
       body[:300])
sid, state, body = c.launch("jupyter")
TAP.ok(state == "running", f"Jupyter launched by the local backend runs (session {sid})",
       f"{state}: {body[:400]!r}\n{tail(clog)}")
if state == "running":
    out = c.jupyter_run(sid, "import os; print(6*7, os.getuid() == os.geteuid() != 0)")
    TAP.ok(out is not None and out.startswith("42 True"),
           "6*7 runs in the kernel over its WebSocket through the relay, as the user", repr(out))
    st, _, _ = c.request("GET", f"/s/{sid}/api/status")
    TAP.ok(st == 200, f"/s/{sid}/api/status through the relay: {st}")
    TAP.ok(c.stop(sid) in (200, 202, 204), "the session is stopped")
alog = rel["access_log"]
TAP.ok(os.path.exists(alog) and os.stat(alog).st_mode & 0o777 == 0o600 and
       os.stat(alog).st_uid == __import__("pwd").getpwnam(RELAY_USER).pw_uid,
       "the access log is written, 0600, the relay user's")
stop(rp)
stop(cp)
md.remove_login_user(USER)
TAP.done()
