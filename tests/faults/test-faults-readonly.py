#!/usr/bin/python3
"""A database whose file system turns read-only while the controller runs
(issue 20).  Needs root: the database ([state] database) lives on a small
ext4 file system of its own, on a loop device the test makes, mounted with
errors=remount-ro; the test makes the kernel take it read-only the way a
disk error does (/sys/fs/ext4/DEV/trigger_fs_error), with the controller's
database open for writing (a tmpfs refuses a remount read-only then).

While it is read-only, a stop and a launch are answered 503 with the
reason, logged, and nothing changes: the session runs on as stored, its job
and its route stay, no session is made.  A file system the kernel took
read-only after an error becomes writable only through an unmount (and
fsck), as an admin would do it: the controller is stopped, the file system
checked and mounted again, the controller started; then the stored
sessions, the API, the processes and the relay's routes agree, and nothing
acknowledged is lost.
"""
import atexit
import os
import shutil
import subprocess
import sys
import time

# The mount lives in a mount namespace of the test's own (the controller and
# its jobs are its children): a namespace another program makes meanwhile
# (ip netns exec, unshare: other tests on the machine) would hold a copy of
# the mount, and the device stays busy after the umount (e2fsck: "in use").
if os.geteuid() == 0 and not os.environ.get("MINNA_FAULTS_OWN_MOUNT_NS") and shutil.which("unshare"):
    os.environ["MINNA_FAULTS_OWN_MOUNT_NS"] = "1"
    sys.stdout.flush()
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable,
                          os.path.abspath(__file__)])

import faults_lib as fl
from faults_lib import TAP, need

if os.geteuid() != 0:
    TAP.skip_all("needs root (a loop device and a mount)")
fl.ms.require_built()
for tool in ("mkfs.ext4", "losetup", "e2fsck"):
    if subprocess.run(["which", tool], capture_output=True).returncode != 0:
        TAP.skip_all(f"{tool} is not installed (e2fsprogs, mount)")

p = fl.Portal("readonly")
mnt = os.path.join(p.dir, "dbfs")
img = os.path.join(p.dir, "dbfs.img")
os.makedirs(mnt)
with open(img, "wb") as f:
    f.truncate(16 << 20)
r = subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal", img], capture_output=True, text=True)
need(r.returncode == 0, f"mkfs.ext4: {r.stderr}")
r = subprocess.run(["losetup", "-f", "--show", img], capture_output=True, text=True)
if r.returncode != 0:
    TAP.skip_all(f"no loop device: {r.stderr.strip()}")
loop = r.stdout.strip()


def mount():
    r = subprocess.run(["mount", "-o", "errors=remount-ro", loop, mnt], capture_output=True, text=True)
    need(r.returncode == 0, f"mount {loop}: {r.stderr}")
    os.chmod(mnt, 0o700)


@atexit.register
def cleanup():
    # after the daemons are gone (minna_sec's cleanup runs after this one:
    # atexit is last in, first out) a lazy unmount is enough
    subprocess.run(["umount", "-l", mnt], capture_output=True)
    subprocess.run(["losetup", "-d", loop], capture_output=True)


mount()
p.db = os.path.join(mnt, "controller.db")
with open(p.config) as f:
    conf = f.read().replace("[state]\n", f"[state]\ndatabase = {p.db}\n", 1)
with open(p.config, "w") as f:
    f.write(conf)
sysfs = f"/sys/fs/ext4/{os.path.basename(loop)}/trigger_fs_error"
if not os.path.exists(sysfs):
    TAP.skip_all(f"{sysfs} is missing (kernel without ext4's trigger_fs_error)")


def read_only():
    for line in open("/proc/mounts"):
        f = line.split()
        if f[1] == mnt:
            # the kernel shows an error's read-only as "emergency_ro" (6.x)
            opts = f[3].split(",")
            return "ro" in opts or "emergency_ro" in opts
    return False


t0 = time.time()
p.start()
acked = set()
for who in ("alice", "bob", "ops"):
    p.user(who)
st, sid, body = p.launch_raw()
need(sid is not None, f"launch: {st} {body}")
acked.add(sid)
s = p.wait_state(sid, ("running",), seconds=40)
need(s is not None and s["state"] == "running", f"{sid} runs: {s}")
routes = p.routes()
stored = p.stored()

# ---- the database's file system turns read-only under the controller ----
with open(sysfs, "w") as f:
    f.write("minna faults suite: read-only database\n")
TAP.ok(read_only(), f"the database's file system ({loop}) is read-only now, the controller running")
st, body = p.api("DELETE", f"/api/v1/sessions/{sid}")
reason = body.get("error", "") if isinstance(body, dict) else str(body)
TAP.ok(st == 503 and "read-only" in reason.lower() and p.db in reason,
       f"stop: 503 with the reason, naming the database ({reason!r})", f"{st} {body}")
st2, sid2, body2 = p.launch_raw("bob")
reason2 = body2.get("error", "") if isinstance(body2, dict) else str(body2)
TAP.ok(st2 == 503 and sid2 is None and "read-only" in reason2.lower(),
       f"launch: 503 with the reason ({reason2!r})", f"{st2} {body2}")
log = p.new_log()
TAP.ok("stop refused" in log and "launch for bob refused" in log, "... both logged",
       log[-1500:])
time.sleep(1)   # polls meanwhile: nothing they would store may change anything
s = p.session(sid)
TAP.ok(s is not None and s["state"] == "running" and p.job_alive(sid) and sid in p.routes(),
       "... nothing changed: the session runs as stored, its job runs, its route stays", s)
st, bobs = p.api("GET", "/api/v1/sessions", "bob")
TAP.ok(st == 200 and not bobs["sessions"] and p.stored() == stored,
       "... no session was made, the database holds what it held", f"{bobs} {p.stored()}")
f = p.faults()
TAP.ok(not f["store"]["ok"] and "read-only" in (f["store"]["last_error"] or "").lower(),
       "GET /api/v1/faults shows the store's refusal", f)

# ---- writable again: as an admin does it after a disk error ----
p.stop_controller()
p.controller.wait(20)
r = subprocess.run(["umount", mnt], capture_output=True, text=True)
need(r.returncode == 0, f"umount: {r.stderr}")
r = subprocess.run(["e2fsck", "-f", "-y", loop], capture_output=True, text=True)
if r.returncode == 8 and "in use" in r.stdout + r.stderr:
    # what holds it, for the log
    print("# " + subprocess.run(["sh", "-c", f"grep -l {loop} /proc/[0-9]*/mountinfo | head"],
                                capture_output=True, text=True).stdout.replace("\n", " "), flush=True)
TAP.ok(r.returncode in (0, 1), f"e2fsck of the file system: exit {r.returncode}", r.stdout + r.stderr)
mount()
TAP.ok(not read_only(), "mounted again, writable")
p.start_controller()
why = p.wait_agree(acked, seconds=30)
TAP.ok(why is None and p.session(sid)["state"] == "running",
       "the controller started again: the session runs, stored sessions, API, processes and"
       " routes agree", why or p.new_log()[-1500:])
st, sid2, body2 = p.launch_raw("bob")
TAP.ok(st == 201, "a launch is taken again", f"{st} {body2}")
if sid2:
    p.wait_state(sid2, ("running",), "bob", seconds=40)
    p.end_all("bob")
p.end_all()
why = p.wait_agree(acked)
TAP.ok(why is None and p.session(sid)["state"] == "ended",
       f"stopped: ended, everything agrees ({time.time() - t0:.1f} s in all)", why)
TAP.done()
