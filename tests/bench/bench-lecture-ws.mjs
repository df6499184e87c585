// A small WebSocket client (RFC 6455, text frames) for the lecture
// benchmark: Node 20 has none without a flag, and this one sends the
// portal's cookie in the handshake, as a browser does.
import { randomBytes, createHash } from 'node:crypto';
import http from 'node:http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function connect (url, headers) {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const req = http.request(url, {
      headers: {
        ...headers,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
      },
    });
    req.on('upgrade', (res, socket, head) => {
      const want = createHash('sha1').update(key + GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== want) {
        socket.destroy();
        reject(new Error('WebSocket handshake: wrong Sec-WebSocket-Accept'));
        return;
      }
      resolve(new Socket(socket, head));
    });
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`WebSocket handshake answered HTTP ${res.statusCode}`));
    });
    req.on('error', reject);
    req.end();
  });
}

class Socket {
  constructor (socket, head) {
    this.socket = socket;
    this.buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
    this.parts = [];
    this.onmessage = null;
    this.onclose = null;
    // for the benchmark's failure reports: what came before a close
    this.messages = 0;
    this.closeFrame = null;
    socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.parse(); });
    socket.on('close', () => this.onclose && this.onclose());
    socket.on('error', () => {});
    if (this.buf.length) setImmediate(() => this.parse());
  }

  parse () {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const op = b[0] & 0x0f;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b[1] & 0x80) off += 4;   // servers do not mask, but be lenient
      if (b.length < off + len) return;
      const payload = b.subarray(off, off + len);
      this.buf = b.subarray(off + len);
      if (op === 0x8) {
        // the server closed: its code and reason say why
        this.closeFrame = payload.length >= 2
          ? `${payload.readUInt16BE(0)} ${payload.subarray(2).toString('utf8')}`.trim() : 'no code';
        this.socket.end();
        return;
      }
      if (op === 0x9) {
        this.frame(0xa, payload);
        continue;
      }
      if (op === 0x1 || op === 0x2 || op === 0x0) {
        this.parts.push(Buffer.from(payload));
        if (fin) {
          const msg = Buffer.concat(this.parts).toString('utf8');
          this.parts = [];
          this.messages++;
          if (this.onmessage) this.onmessage(msg);
        }
      }
    }
  }

  frame (op, payload) {
    const mask = randomBytes(4);
    const len = payload.length;
    const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    head[0] = 0x80 | op;
    if (len < 126) head[1] = 0x80 | len;
    else if (len < 65536) { head[1] = 0x80 | 126; head.writeUInt16BE(len, 2); }
    else { head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(len), 2); }
    const body = Buffer.alloc(len);
    for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  send (text) {
    this.frame(0x1, Buffer.from(text, 'utf8'));
  }

  close () {
    try { this.frame(0x8, Buffer.alloc(0)); } catch (e) { /* gone */ }
    this.socket.end();
  }
}
