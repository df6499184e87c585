# minna_desktop: the remote desktop app (apps/desktop.app).
#
# One process per session, run by the job as the user:
#   - TigerVNC's Xvnc on a display it picks itself (-displayfd), with its
#     VNC side on a 0600 Unix socket in the session's directory only (no
#     TCP port, so no VNC password is needed or ever sent) and its X side
#     behind an MIT-MAGIC-COOKIE in a 0600 Xauthority file (other users on
#     the node cannot connect to the display);
#   - Openbox with a menu of this session's programs (terminal, glxgears in
#     software OpenGL), and an xterm open from the start;
#   - websockify's library on the job's port: noVNC's static files from
#     Debian's novnc package under the session's base URL, and the WebSocket
#     at <base_url>websockify proxied to the Xvnc socket.
#
# Every HTTP request and WebSocket upgrade must carry the session's secret
# (the 0600 $MINNA_TOKEN_FILE) in the X-Minna-App-Token header, which
# minna-relay adds to what it forwards for the session's owner (and strips
# from what browsers send): anything else gets 403, so the page, its URL
# and the browser never hold a VNC password or token.
#
# Xvnc outlives browser tabs: closing one only ends its WebSocket; opening
# the session again shows the same desktop.  The job ends when Xvnc does,
# or on SIGTERM (Stop, walltime), which ends the desktop's programs too.

import argparse
import hmac
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from urllib.parse import quote, urlsplit

try:
    from websockify import websocketproxy
except ImportError:
    sys.exit("minna desktop: websockify's Python library is missing"
             " (Debian package python3-websockify)")

HEADER = "X-Minna-App-Token"
NOVNC_DIRS = ("/usr/share/novnc", "/usr/share/javascript/novnc")
GEOMETRY = "1280x800"
WS_PATH = "websockify"
# (menu label, program that must be installed, command)
OPTIONAL_PROGRAMS = (
    ("ParaView", "paraview", "paraview"),
    ("VisIt", "visit", "visit"),
    ("Gmsh", "gmsh", "gmsh"),
    ("PyMOL", "pymol", "pymol"),
    ("Grace (xmgrace)", "xmgrace", "xmgrace"),
    ("gnuplot", "gnuplot", "{term} -e gnuplot"),
)


def fail(text):
    sys.exit(f"minna desktop: {text}")


def read_secret(path):
    try:
        with open(path, encoding="ascii") as f:
            secret = f.read().strip()
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    if len(secret) < 32:
        fail(f"{path}: the secret is shorter than 32 characters")
    return secret.encode("ascii")


def need(program, package):
    path = shutil.which(program)
    if path is None:
        fail(f"{program} is not installed on this node (Debian package {package})")
    return path


def write_private(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), mode)
        f.write(data)


def xauth_entry(cookie):
    """One Xauthority record: FamilyWild, any address, any display number
    (libXau matches an empty number to every display), MIT-MAGIC-COOKIE-1."""
    def counted(b):
        return struct.pack(">H", len(b)) + b
    return (struct.pack(">H", 0xFFFF) + counted(b"") + counted(b"") +
            counted(b"MIT-MAGIC-COOKIE-1") + counted(cookie))


def menu_xml(items):
    def esc(text):
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&quot;"))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<openbox_menu xmlns="http://openbox.org/3.4/menu">',
             '<menu id="root-menu" label="minna desktop">']
    for label, command in items:
        lines.append(f'  <item label="{esc(label)}"><action name="Execute">'
                     f'<command>{esc(command)}</command></action></item>')
    lines += ['  <separator />',
              '  <item label="Reconfigure menu"><action name="Reconfigure" /></item>',
              '</menu>', '</openbox_menu>', '']
    return "\n".join(lines).encode("utf-8")


class Desktop:
    """Xvnc and the programs on its display."""

    def __init__(self, work_dir):
        self.dir = work_dir
        self.socket = os.path.join(work_dir, "vnc.sock")
        self.xauthority = os.path.join(work_dir, "Xauthority")
        self.xvnc = None
        self.children = []
        self.display = None

    def start(self):
        xvnc = need("Xvnc", "tigervnc-standalone-server")
        wm = need("openbox", "openbox")
        term = need("xterm", "xterm")
        write_private(self.xauthority, xauth_entry(secrets.token_bytes(16)))
        try:
            os.unlink(self.socket)
        except FileNotFoundError:
            pass
        read_fd, write_fd = os.pipe()
        self.xvnc = subprocess.Popen(
            [xvnc, "-displayfd", str(write_fd), "-auth", self.xauthority,
             "-geometry", GEOMETRY, "-depth", "24", "-desktop", "minna desktop",
             "-SecurityTypes", "None", "-rfbport", "-1",
             "-rfbunixpath", self.socket, "-rfbunixmode", "0600",
             "-nolisten", "tcp", "-AlwaysShared", "-AcceptSetDesktopSize"],
            pass_fds=(write_fd,), stdin=subprocess.DEVNULL)
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + 60
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
        os.close(read_fd)
        if not number.strip().isdigit():
            self.stop()
            fail("Xvnc did not start (see its messages above)")
        self.display = ":" + number.strip().decode("ascii")
        for _ in range(600):
            if os.path.exists(self.socket):
                break
            time.sleep(0.05)
        print(f"minna desktop: Xvnc on display {self.display}", flush=True)

        env = dict(os.environ)
        env.pop("MINNA_TOKEN_FILE", None)
        env.update(DISPLAY=self.display, XAUTHORITY=self.xauthority,
                   LIBGL_ALWAYS_SOFTWARE="1")
        # this session's Openbox menu first, the user's own ~/.config/openbox
        # and Debian's rc.xml (right click on the desktop: the menu) still apply
        xdg = os.path.join(self.dir, "xdg")
        os.makedirs(os.path.join(xdg, "openbox"), mode=0o700, exist_ok=True)
        items = [("Terminal", f"{term}")]
        if shutil.which("glxgears"):
            items.append(("glxgears (OpenGL, software rendering)", "glxgears"))
        if shutil.which("glxinfo"):
            items.append(("OpenGL information", f"{term} -hold -e glxinfo -B"))
        # visualisation programs a site may install on its nodes: listed
        # when they are there
        for label, program, command in OPTIONAL_PROGRAMS:
            if shutil.which(program):
                items.append((label, command.format(term=term)))
        write_private(os.path.join(xdg, "openbox", "menu.xml"), menu_xml(items), 0o644)
        env["XDG_CONFIG_DIRS"] = xdg + ":" + env.get("XDG_CONFIG_DIRS", "/etc/xdg")
        if shutil.which("xsetroot"):
            subprocess.run(["xsetroot", "-solid", "#2f4f6f"], env=env, check=False)
        # The terminal only once Openbox manages the screen: an xterm that
        # mapped its window while Openbox was still starting stayed unmapped
        # and unframed (seen in 3 of 4 fresh runs).  Openbox runs --startup's
        # command when it is ready; it makes a file we wait for (bounded).
        ready = os.path.join(self.dir, "wm-ready")
        try:
            os.unlink(ready)
        except FileNotFoundError:
            pass
        wm_proc = subprocess.Popen([wm, "--startup", "touch " + shlex.quote(ready)],
                                   env=env, stdin=subprocess.DEVNULL)
        self.children.append(wm_proc)
        deadline = time.monotonic() + 30
        while not os.path.exists(ready) and wm_proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not os.path.exists(ready):
            print("minna desktop: Openbox did not say it was ready "
                  f"({'it exited' if wm_proc.poll() is not None else 'after 30 s'}); "
                  "starting the terminal anyway", flush=True)
        self.children.append(subprocess.Popen(
            [term, "-geometry", "100x30+40+40", "-fa", "Monospace", "-fs", "11",
             "-title", "Terminal"], env=env, stdin=subprocess.DEVNULL))

    def stop(self):
        for p in self.children + ([self.xvnc] if self.xvnc else []):
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 5
        for p in self.children + ([self.xvnc] if self.xvnc else []):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()


def novnc_version():
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "novnc"],
                           capture_output=True, text=True, timeout=10, check=False)
        return r.stdout.strip().split(":")[-1] if r.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def make_handler(secret, base_url, novnc_dir):
    ws_path = base_url + WS_PATH
    # noVNC's own settings come from the query: the WebSocket path below the
    # relay's session prefix, resize the remote desktop to the window,
    # reconnect when the connection drops.  Nothing secret.
    start_page = ("vnc.html?autoconnect=true&resize=remote&reconnect=true"
                  "&reconnect_delay=1000&path=" + quote(ws_path.lstrip("/"), safe="/"))

    package_json = json.dumps({"name": "novnc", "version": novnc_version()}).encode("utf-8")

    class Handler(websocketproxy.ProxyRequestHandler):
        server_version = "minna-desktop"
        sys_version = ""

        def _relayed(self):
            given = self.headers.get(HEADER, "")
            return bool(given) and hmac.compare_digest(given.encode("ascii", "replace"), secret)

        def _refuse(self, code, text):
            body = (text + "\n").encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def handle_upgrade(self):
            if not self._relayed():
                self._refuse(403, "Open this desktop from the minna portal.")
                return
            if urlsplit(self.path).path != ws_path:
                self._refuse(404, "No WebSocket here.")
                return
            super().handle_upgrade()

        def _static(self, head):
            if not self._relayed():
                self._refuse(403, "Open this desktop from the minna portal.")
                return
            path = urlsplit(self.path).path
            if path == base_url + "package.json":
                # noVNC's page asks for its version here (Debian's novnc
                # has no package.json): the installed package's
                body = package_json
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)
                return
            if path in (base_url, base_url.rstrip("/")):
                self.send_response(302)
                self.send_header("Location", base_url + start_page)
                self.send_header("Content-Length", "0")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                return
            if not path.startswith(base_url) or path == ws_path:
                self._refuse(404, "Not found.")
                return
            if head:
                websocketproxy.ProxyRequestHandler.do_HEAD(self)
            else:
                websocketproxy.ProxyRequestHandler.do_GET(self)

        def do_GET(self):
            self._static(False)

        def do_HEAD(self):
            self._static(True)

        def translate_path(self, path):
            rel = urlsplit(path).path[len(base_url):]
            parts = [p for p in rel.split("/") if p not in ("", ".", "..")]
            return os.path.join(novnc_dir, *parts)

        def list_directory(self, path):
            self._refuse(404, "Not found.")

        def end_headers(self):
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "same-origin")
            super().end_headers()

        def log_message(self, format, *args):
            # the job's output.log: request line and status, no headers
            sys.stderr.write("minna desktop: %s\n" % (format % args))

    return Handler


def main():
    ap = argparse.ArgumentParser(description="minna's remote desktop app (see desktop.app)")
    ap.add_argument("--host", default=os.environ.get("MINNA_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("MINNA_PORT", "0")))
    ap.add_argument("--base-url", default=os.environ.get("MINNA_BASE_URL", "/"))
    ap.add_argument("--token-file", default=os.environ.get("MINNA_TOKEN_FILE", ""))
    ap.add_argument("--session-dir", default=os.environ.get("MINNA_SESSION_DIR", ""))
    args = ap.parse_args()
    if not args.token_file:
        fail("no token file (--token-file or MINNA_TOKEN_FILE)")
    if not args.session_dir:
        fail("no session directory (--session-dir or MINNA_SESSION_DIR)")
    if args.port <= 0:
        fail("no port (--port or MINNA_PORT)")
    base_url = args.base_url if args.base_url.endswith("/") else args.base_url + "/"
    secret = read_secret(args.token_file)
    novnc = next((d for d in NOVNC_DIRS if os.path.isfile(os.path.join(d, "vnc.html"))), None)
    if novnc is None:
        fail("noVNC is not installed on this node (Debian package novnc)")

    os.umask(0o077)
    work = os.path.join(args.session_dir, "desktop")
    os.makedirs(work, mode=0o700, exist_ok=True)
    os.chmod(work, 0o700)
    desktop = Desktop(work)
    server = None
    stopping = threading.Event()

    def on_term(signum, frame):
        stopping.set()
        if server is not None:
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        desktop.start()
        server = websocketproxy.LibProxyServer(
            RequestHandlerClass=make_handler(secret, base_url, novnc),
            listen_host=args.host, listen_port=args.port, web=novnc,
            unix_target=desktop.socket)
        server.daemon_threads = True

        def watch_xvnc():
            code = desktop.xvnc.wait()
            if not stopping.is_set():
                print(f"minna desktop: Xvnc ended (exit code {code})", flush=True)
                stopping.set()
                server.shutdown()

        threading.Thread(target=watch_xvnc, daemon=True).start()
        print(f"minna desktop: noVNC at {base_url} on {args.host}:{args.port}", flush=True)
        if not stopping.is_set():
            server.serve_forever()
    finally:
        desktop.stop()
    code = desktop.xvnc.returncode if desktop.xvnc else 1
    return 0 if stopping.is_set() and code in (0, -signal.SIGTERM, None) else 1


if __name__ == "__main__":
    sys.exit(main())
