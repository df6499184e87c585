#!/usr/bin/python3
"""faultapp.py: the faults suite's app (stdlib only).  Under the session's
base URL: / (a page), big (a 64 MB download sent slowly, so a test can kill
the app in the middle) and ws (a WebSocket that echoes text frames).

    faultapp.py HOST PORT BASE_URL
"""
import base64
import hashlib
import http.server
import socketserver
import struct
import sys
import time

HOST, PORT, BASE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
BIG = 64 * 1024 * 1024
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == BASE or path == BASE.rstrip("/"):
            body = b"minna faults app\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == BASE + "big":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
            chunk = b"x" * 65536
            for _ in range(BIG // len(chunk)):
                self.wfile.write(chunk)
                time.sleep(0.01)
        elif path == BASE + "ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            key = self.headers["Sec-WebSocket-Key"]
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            self.echo()
            self.close_connection = True
        else:
            self.send_error(404)

    def echo(self):
        r = self.rfile
        while True:
            head = r.read(2)
            if len(head) < 2:
                return
            op, n = head[0] & 0x0F, head[1] & 0x7F
            if n == 126:
                n = struct.unpack(">H", r.read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", r.read(8))[0]
            mask = r.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(r.read(n)))
            if op == 8:
                return
            out = bytes([0x80 | op]) + (bytes([len(data)]) if len(data) < 126
                                         else b"\x7e" + struct.pack(">H", len(data))) + data
            self.wfile.write(out)
            self.wfile.flush()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


Server((HOST, PORT), Handler).serve_forever()
