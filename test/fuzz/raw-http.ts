import { connect } from 'node:net';

/** One answer as the bytes came back: status, headers (lower-cased names) and the body text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * HTTP/1.1 over a fresh loopback socket, bytes exactly as given (fetch would normalise or refuse the hostile
 * ones: control characters, a wrong Content-Length, a foreign Host). The server closes after one answer
 * (`Connection: close`); chunked bodies are de-chunked.
 */
export function rawRequest(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no answer within the time limit'));
    }, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      // A reset after a full answer is still an answer.
      const text = Buffer.concat(chunks);
      if (text.length > 0) resolve(parse(text));
      else reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks);
      if (text.length === 0) reject(new Error('connection closed without an answer'));
      else resolve(parse(text));
    });
    // write, not end: a half-closed socket makes Node drop the answer of a request still being handled.
    sock.write(bytes);
  });
}

function parse(raw: Buffer): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  let body = end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  if (headers['transfer-encoding']?.includes('chunked')) body = dechunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') };
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const nl = b.indexOf('\r\n', i);
    if (nl < 0) break;
    const size = Number.parseInt(b.subarray(i, nl).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(b.subarray(nl + 2, nl + 2 + size));
    i = nl + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Builds the request bytes; `headers` in order, values written as given (hostile ones included). */
export function requestBytes(
  method: string,
  target: string,
  headers: Array<[string, string]>,
  body?: Buffer | undefined,
  opts: { contentLength?: string | undefined } = {},
): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (body !== undefined || opts.contentLength !== undefined)
    lines.push(`Content-Length: ${opts.contentLength ?? String(body?.length ?? 0)}`);
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}
