/** Small JSON-over-HTTP helpers shared by the RPC host and by labs that add their own routes next to it. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A failure with an HTTP status; a handler or route may throw it to answer 4xx/5xx with `{ "error": message }`. */
export class HttpError extends Error {
  readonly status: number;
  override name = 'HttpError';
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Default cap on a request body, bytes. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Reads the whole body as text; rejects with HttpError 413 past `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number = DEFAULT_MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes) {
      req.resume();
      reject(new HttpError(413, `request body of ${declared} bytes is over the limit of ${maxBytes} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(new HttpError(413, `request body is over the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

/** Reads and parses a JSON body (an empty body is `undefined`); malformed JSON is HttpError 400. */
export async function readJson(req: IncomingMessage, maxBytes?: number): Promise<unknown> {
  const text = await readBody(req, maxBytes);
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `malformed JSON in the request body: ${(err as Error).message}`);
  }
}

/** Sends `body` as JSON with `status`. After a 413 the connection is closed (the rest of the body is not read). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  // Encoded once: the length header and the write use the same bytes.
  const bytes = Buffer.from(JSON.stringify(body === undefined ? null : body), 'utf8');
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': bytes.length,
  };
  if (status === 413) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(bytes);
}

/** Answers an error: HttpError keeps its status, anything else is a 500. Always `{ "error": message }`. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof HttpError ? err.status : 500;
  const message = err instanceof Error ? err.message : String(err);
  sendJson(res, status, { success: false, error: message });
}
