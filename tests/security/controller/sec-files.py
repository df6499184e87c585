#!/usr/bin/python3
"""sec-files.py: another Unix user on the service node reads no secret
(issue 15 item 2).

Both daemons start under umask 0.  A victim account runs a session (jobs as
the user), an attacker account tries to read or list everything the
controller and the relay keep: the database and its -wal/-shm, the state and
session directories, the victim's session token, the cookie key, the admin
secret, the users file, the relay's access log and TLS key.  Every mode and
owner is checked, then the start-up check: looser modes the daemons made
themselves are tightened with a log line naming the file and its mode;
looser secrets the admin provides are refused, naming them.
"""
import os
import stat
import subprocess

from minna_sec import (TAP, Portal, make_user, require_built, require_root, tail)

require_root()
require_built()

VICTIM, ATTACKER = "minnasecv", "minnaseca"
victim = make_user(VICTIM)
make_user(ATTACKER)

p = Portal("files", {VICTIM: "victim-password-1"}, run_as="user", umask_value=0, https=True)
p.start()
st, cookie, csrf = p.login(VICTIM)
TAP.ok(st == 200, "the victim logs in")
sid = p.launch(cookie, csrf, "webapp")
TAP.ok(bool(sid), f"the victim's web app session {sid} runs as {VICTIM}")


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def owner(path):
    return os.lstat(path).st_uid


db = os.path.join(p.state, "controller.db")
sessions = p.state + "-sessions"
sdir = p.session_dir(sid)
token = os.path.join(sdir, "token")
tls_key = os.path.join(p.relay_state, "relay-key.pem")
expect = [
    (p.state, 0o700, 0, "the state directory"),
    (db, 0o600, 0, "controller.db"),
    (db + "-wal", 0o600, 0, "controller.db-wal"),
    (db + "-shm", 0o600, 0, "controller.db-shm"),
    (os.path.join(p.state, "jobs"), 0o700, 0, "the local backend's job records"),
    (sessions, 0o711, 0, "the sessions directory (jobs pass, nobody lists)"),
    (sdir, 0o700, victim.pw_uid, "the victim's session directory"),
    (token, 0o600, victim.pw_uid, "the victim's session token"),
    (p.key_file, 0o600, 0, "the cookie key"),
    (p.users_file, 0o600, 0, "the users file"),
    (p.access_log, 0o600, 0, "the relay's access log"),
    (p.relay_state, 0o700, 0, "the relay's state directory"),
    (tls_key, 0o600, 0, "the relay's TLS key"),
]
for path, want, uid, what in expect:
    if not os.path.exists(path):
        TAP.ok(False, f"{what} exists ({path})")
        continue
    TAP.ok(mode(path) == want and owner(path) == uid,
           f"under umask 0, {what} is {want:04o} and owned by uid {uid}",
           f"{path}: mode {mode(path):04o}, uid {owner(path)}")
for path in sorted(os.listdir(p.state)):
    full = os.path.join(p.state, path)
    if os.path.isfile(full):
        TAP.ok(mode(full) & 0o077 == 0, f"state file {path} gives group and others nothing",
               f"mode {mode(full):04o}")

# ---- the attacker's attempts -----------------------------------------------------

ATTACK = r'''
import os, sys
out = []
for op, path in (l.split(" ", 1) for l in sys.argv[1:]):
    try:
        if op == "read":
            with open(path, "rb") as f:
                f.read(1)
        elif op == "list":
            os.listdir(path)
        elif op == "write":
            with open(path, "ab") as f:
                f.write(b"x")
        out.append(f"GOT {op} {path}")
    except OSError as e:
        out.append(f"DENIED {op} {path} {e.strerror}")
print("\n".join(out))
'''
targets = [("read", db), ("read", db + "-wal"), ("read", db + "-shm"), ("read", token),
           ("read", os.path.join(sdir, "connection")), ("read", os.path.join(sdir, "output.log")),
           ("read", p.key_file), ("read", p.secret_file), ("read", p.users_file),
           ("read", p.access_log), ("read", tls_key), ("read", p.config),
           ("list", p.state), ("list", sessions), ("list", sdir), ("list", p.relay_state),
           ("write", os.path.join(sdir, "app.sh")), ("write", db)]
jobs = os.path.join(p.state, "jobs")
targets += [("read", os.path.join(jobs, n)) for n in os.listdir(jobs)]
r = subprocess.run(["/usr/bin/python3", "-c", ATTACK] + [f"{op} {path}" for op, path in targets],
                   user=ATTACKER,
                   capture_output=True, text=True, cwd="/")
lines = r.stdout.splitlines()
TAP.ok(len(lines) == len(targets), f"the attacker ({ATTACKER}) tried {len(targets)} reads, lists and writes",
       r.stderr)
for line in lines:
    TAP.ok(line.startswith("DENIED"), f"{ATTACKER}: {line}")

# the victim's own job may read its token (it hands it to its app), nobody else
r = subprocess.run(["/usr/bin/python3", "-c", ATTACK, f"read {token}"], user=VICTIM,
                   capture_output=True, text=True, cwd="/")
TAP.ok(r.stdout.startswith("GOT"), f"{VICTIM} reads its own session token", r.stdout + r.stderr)

# ---- the start-up check -------------------------------------------------------------

p.stop_relay()
p.stop_controller()
os.chmod(p.state, 0o755)
os.chmod(db, 0o644)
os.chmod(os.path.join(p.state, "jobs"), 0o755)
before = tail(p.controller_log, 100000)
p.start_controller()
log = tail(p.controller_log, 100000)[len(before):]
TAP.ok(f"{db} had mode 0644" in log and mode(db) == 0o600,
       "a controller.db left 0644 is made 0600 at start, the log naming the file and its mode", log)
TAP.ok(f"{p.state} had mode 0755" in log and mode(p.state) == 0o700,
       "a state directory left 0755 is made 0700 at start, logged", log)
p.stop_controller()

for path, what in ((p.key_file, "the cookie key"), (p.users_file, "the users file"),
                   (p.secret_file, "the relay's admin secret")):
    os.chmod(path, 0o640)
    before = tail(p.controller_log, 100000)
    rc = p.start_controller(expect_fail=True)
    log = tail(p.controller_log, 100000)[len(before):]
    TAP.ok(rc not in (None, 0) and path in log and "0640" in log,
           f"the controller refuses to start with {what} readable by its group, naming it and its mode",
           f"exit {rc}: {log}")
    if rc is None:
        p.stop_controller()
    os.chmod(path, 0o600)

p.start_controller()
os.chmod(p.access_log, 0o644)
before = tail(p.relay_log, 100000)
p.start_relay()
log = tail(p.relay_log, 100000)[len(before):]
TAP.ok(mode(p.access_log) == 0o600 and p.access_log in log,
       "the relay's access log left 0644 is made 0600 at start, logged", log)
p.stop_relay()
for path, what in ((p.key_file, "the cookie key"), (p.secret_file, "the admin secret")):
    os.chmod(path, 0o644)
    before = tail(p.relay_log, 100000)
    rc = p.start_relay(expect_fail=True)
    log = tail(p.relay_log, 100000)[len(before):]
    TAP.ok(rc not in (None, 0) and path in log and "0644" in log,
           f"the relay refuses to start with {what} readable by others, naming it and its mode",
           f"exit {rc}: {log}")
    if rc is None:
        p.stop_relay()
    os.chmod(path, 0o600)

# ---- the units -------------------------------------------------------------------------

for unit in ("daemons/controller/minna-controller.service", "daemons/relay/minna-relay.service"):
    from minna_sec import SRC
    text = open(os.path.join(SRC, unit)).read()
    TAP.ok("\nUMask=0077\n" in text, f"{unit} sets UMask=0077")

TAP.done()
