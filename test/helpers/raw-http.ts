// Raw HTTP/1.1 over a TCP socket, for the tests that replay a client's requests byte for byte
// (header order and framing as Go's net/http writes them), which fetch would rewrite.
import { connect } from 'node:net';

/** One HTTP answer: status, lower-cased headers, body parsed as JSON when it is JSON, else text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Sends raw request bytes to 127.0.0.1:port and reads one answer (fastify always sends Content-Length). */
export function sendRaw(port: number, request: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1]);
      const headers: Record<string, string> = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (buf.byteLength < end + 4 + length) return;
      socket.destroy();
      const text = buf.subarray(end + 4, end + 4 + length).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      resolve({ status, headers, body });
    });
    socket.write(request);
  });
}
