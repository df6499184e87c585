"""minna_deploy.py: what the deployment tests share (issue 17).

Both tests run minna as an admin deploys it: the configuration files as
shipped, the daemons started the way their systemd units start them, a
Unix account logging in through the relay on https and launching a real
Jupyter with the local backend.  TAP, processes, test accounts and cleanup
come from tests/security/controller/minna_sec.py.

The tests run in a network namespace of their own (made here with
unshare(CLONE_NEWNET), loopback only): the shipped configurations listen on
fixed ports (443, 8470, 8444) and must be used as written, yet two test runs
on one machine must not fight over them.
"""
import atexit
import ctypes
import http.client
import json
import os
import shlex
import socket
import ssl
import subprocess
import sys
import time
import uuid

from minna_sec import TAP, need, spawn, tail

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns():
    """The calling process (single-threaded, before anything starts) moves
    into a new network namespace with only loopback, up."""
    if _libc.unshare(CLONE_NEWNET) != 0:
        TAP.skip_all(f"unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())}")
    r = subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    need(r.returncode == 0, f"ip link set lo up: {r.stderr.strip()}")


def make_login_user(name, password):
    """A Unix account with a home and a password (what the admin's one step,
    adduser, makes); removed with its home at exit."""
    subprocess.run(["userdel", "-r", "-f", name], capture_output=True)
    r = subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], capture_output=True, text=True)
    need(r.returncode == 0, f"useradd {name}: {r.stderr.strip()}")
    atexit.register(remove_login_user, name)
    r = subprocess.run(["chpasswd"], input=f"{name}:{password}\n", capture_output=True, text=True)
    need(r.returncode == 0, f"chpasswd {name}: {r.stderr.strip()}")


def remove_login_user(name):
    subprocess.run(["pkill", "-KILL", "-U", name], capture_output=True)
    time.sleep(0.2)
    subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


# ---- systemd units, without systemd ------------------------------------------------

def parse_unit(path):
    """{key: [values]} of the [Service] section of a unit file."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            if section == "Service" and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k.strip(), []).append(v.strip())
    return out


def unit_argv(unit):
    """The command a unit's ExecStart= runs, as systemd would run it, under
    setpriv(1) for what systemd would apply: User=/Group= (with the user's
    supplementary groups), NoNewPrivileges=, CapabilityBoundingSet= and
    AmbientCapabilities=.  UMask= is applied by spawn().  What this does not
    do (systemd's mount, device and system-call sandboxing:
    ProtectSystem=, PrivateTmp=, ...) the tests say so."""
    argv = shlex.split(unit["ExecStart"][-1])
    user = unit.get("User", ["root"])[-1]
    group = unit.get("Group", [None])[-1]
    pre = ["setpriv", "--pdeathsig", "KILL"]
    if user != "root":
        pre += ["--reuid", user, "--regid", group or user, "--init-groups"]
    if unit.get("NoNewPrivileges", ["no"])[-1] == "yes":
        pre += ["--no-new-privs"]
    caps = lambda v: ",".join("+" + c.lower().removeprefix("cap_") for c in v.split())
    if "CapabilityBoundingSet" in unit:
        pre += ["--bounding-set", "-all," + caps(unit["CapabilityBoundingSet"][-1])]
    if "AmbientCapabilities" in unit:
        c = caps(unit["AmbientCapabilities"][-1])
        pre += ["--inh-caps", c, "--ambient-caps", c]
    return pre + ["--"] + argv


def unit_umask(unit):
    return int(unit.get("UMask", ["0022"])[-1], 8)


def start_unit(unit_file, log, env=None):
    """Starts what @unit_file's ExecStart= runs, as described in unit_argv."""
    unit = parse_unit(unit_file)
    argv = unit_argv(unit)
    TAP.diag(f"{os.path.basename(unit_file)}: {' '.join(argv)} (umask {unit['UMask'][-1]})")
    return spawn(argv, log, unit_umask(unit), env=env)


def wait_tcp(port, proc, log, what, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            need(False, f"{what} exited ({proc.returncode}): {tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    need(False, f"{what} did not come up on port {port}: {tail(log)}")


def wait_log(log, text, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if text in tail(log, 100000):
            return True
        time.sleep(0.1)
    return False


# ---- a browser's walk through the relay on https -------------------------------------

class Client:
    """https://localhost:PORT through the relay, checking the certificate
    against @cafile (the self-signed one made at install)."""

    def __init__(self, port, cafile):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.origin = "https://localhost" + ("" if port == 443 else f":{port}")
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPSConnection("localhost", self.port, context=self.ctx,
                                           timeout=timeout)
        h = {"Origin": self.origin}
        if self.cookie:
            h["Cookie"] = f"minna_session={self.cookie}"
        if self.csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            out = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, out
        except (OSError, http.client.HTTPException) as e:
            return 0, {}, str(e).encode()
        finally:
            conn.close()

    def login(self, user, password):
        st, hd, body = self.request("POST", "/api/v1/login", {"user": user, "password": password})
        if st == 200:
            for part in hd.get("set-cookie", "").split(","):
                part = part.strip()
                if part.startswith("minna_session="):
                    self.cookie = part.split(";")[0].split("=", 1)[1]
            self.csrf = json.loads(body).get("csrf_token")
        return st, body

    def launch(self, app, seconds=180):
        """(session id, final state, last answer)."""
        st, _, body = self.request("POST", "/api/v1/sessions", {"app": app, "hours": 1})
        if st != 201:
            return None, f"launch answered {st}", body
        sid = json.loads(body)["id"]
        end, state = time.time() + seconds, None
        while time.time() < end:
            st, _, body = self.request("GET", f"/api/v1/sessions/{sid}")
            if st == 200:
                state = json.loads(body)["state"]
                if state in ("running", "failed", "ended"):
                    break
            time.sleep(0.3)
        return sid, state, body

    def stop(self, sid):
        return self.request("DELETE", f"/api/v1/sessions/{sid}")[0]

    def jupyter_run(self, sid, code, seconds=90):
        """Starts a kernel of the session's Jupyter through the relay and runs
        @code over the kernel's WebSocket (TLS); its stream output or None."""
        base = f"/s/{sid}/"
        xsrf = "t-" + uuid.uuid4().hex
        h = {"Cookie": f"minna_session={self.cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf,
             "Referer": self.origin + base}
        st, _, out = self.request("POST", base + "api/kernels", {"name": "python3"}, headers=h)
        if st != 201:
            TAP.diag(f"POST {base}api/kernels: {st} {out[:300]!r}")
            return None
        kid = json.loads(out)["id"]
        raw = socket.create_connection(("127.0.0.1", self.port), 30)
        s = self.ctx.wrap_socket(raw, server_hostname="localhost")
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        s.sendall((f"GET {base}api/kernels/{kid}/channels HTTP/1.1\r\nHost: localhost\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\nOrigin: {self.origin}\r\n"
                   f"Cookie: minna_session={self.cookie}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            got = s.recv(4096)
            if not got:
                return None
            head += got
        head, buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            TAP.diag(f"kernel WebSocket: {head[:200]!r}")
            return None
        msg_id = uuid.uuid4().hex
        msg = json.dumps({"header": {"msg_id": msg_id, "username": "t", "session": "s",
                                     "msg_type": "execute_request", "version": "5.3",
                                     "date": "2026-01-01T00:00:00Z"},
                          "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                          "content": {"code": code, "silent": False, "store_history": False,
                                      "user_expressions": {}, "allow_stdin": False,
                                      "stop_on_error": True}}).encode()
        mask = os.urandom(4)
        frame = bytes([0x81]) + (bytes([0x80 | 126]) + len(msg).to_bytes(2, "big")
                                 if len(msg) < 65536
                                 else bytes([0x80 | 127]) + len(msg).to_bytes(8, "big"))
        s.sendall(frame + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
        out, end = "", time.time() + seconds
        s.settimeout(5)
        while time.time() < end:
            while len(buf) >= 2:
                n, off = buf[1] & 0x7F, 2
                if n == 126:
                    if len(buf) < 4:
                        break
                    n, off = int.from_bytes(buf[2:4], "big"), 4
                elif n == 127:
                    if len(buf) < 10:
                        break
                    n, off = int.from_bytes(buf[2:10], "big"), 10
                if len(buf) < off + n:
                    break
                payload, buf = buf[off:off + n], buf[off + n:]
                try:
                    m = json.loads(payload.decode("utf-8", "replace"))
                except ValueError:
                    continue
                if m.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if m["header"]["msg_type"] == "stream":
                    out += m["content"]["text"]
                if m["header"]["msg_type"] == "status" and \
                        m["content"]["execution_state"] == "idle":
                    s.close()
                    return out
            try:
                got = s.recv(65536)
            except (socket.timeout, ssl.SSLError):
                continue
            if not got:
                break
            buf += got
        s.close()
        return out or None


def make_tls(cert, key, owner=None):
    """A self-signed pair for localhost, as the package's postinst makes it."""
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    need(r.returncode == 0, f"openssl req: {r.stderr[-300:]}")
    os.chmod(key, 0o600)
    if owner:
        subprocess.run(["chown", owner, key, cert], check=True)


def make_unit_dirs(unit):
    """What systemd makes before ExecStart: StateDirectory= below /var/lib,
    LogsDirectory= below /var/log, RuntimeDirectory= below /run, owned by
    the unit's User/Group with the unit's modes (0755 unless set)."""
    import pwd
    import grp
    user = unit.get("User", ["root"])[-1]
    group = unit.get("Group", [user])[-1]
    uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
    made = []
    for key, base in (("StateDirectory", "/var/lib"), ("LogsDirectory", "/var/log"),
                      ("RuntimeDirectory", "/run")):
        mode = int(unit.get(key + "Mode", ["0755"])[-1], 8)
        for names in unit.get(key, []):
            for name in names.split():
                path = os.path.join(base, name)
                os.makedirs(path, exist_ok=True)
                os.chown(path, uid, gid)
                os.chmod(path, mode)
                made.append(path)
    return made
