/**
 * HttpEnd: an RpcEnd over real HTTP, the client half of RpcHttpHost. Node code written against RpcEnd runs
 * unchanged on it: a call resolves to the reply, or rejects with labrpc's TimeoutError when the host cannot be
 * reached, the connection breaks, or no reply comes in time (as in the simulation, the caller cannot tell
 * whether the handler ran).
 */
import * as http from 'node:http';
import { RpcUsageError, TimeoutError } from '../errors';
import type { RpcEnd } from '../network';
import { RPC_PREFIX } from './host';
import { methodNotAString } from '../read-once';

/** How an HttpEnd calls. */
export interface HttpEndOptions {
  /** A call with no reply after this many ms rejects with TimeoutError (default 1000). */
  timeoutMs?: number;
  /** The keep-alive agent to use (share one between ends to the same host); default: the end's own. */
  agent?: http.Agent;
  /** The end's name in TimeoutError messages (default: the base URL). */
  name?: string;
}

/** The host answered, but with an error (a handler crashed, or refused the arguments). */
export class RemoteError extends Error {
  readonly status: number;
  readonly method: string;
  override name = 'RemoteError';
  constructor(status: number, method: string, message: string) {
    super(`${method} failed on the remote host (HTTP ${status}): ${message}`);
    this.status = status;
    this.method = method;
  }
}

/** Makes a keep-alive agent suited to many small concurrent calls. */
export function keepAliveAgent(maxSockets = 64): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
}

/** The client side of an RPC connection over HTTP. */
export class HttpEnd implements RpcEnd {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly ownAgent: boolean;
  private readonly timeoutMs: number;
  readonly name: string;

  /** `baseUrl` is the host's address, e.g. http://127.0.0.1:5001. */
  constructor(baseUrl: string, options: HttpEndOptions = {}) {
    this.url = new URL(baseUrl);
    if (this.url.protocol !== 'http:') throw new RpcUsageError(`HttpEnd speaks plain http://; got ${baseUrl}`);
    this.ownAgent = options.agent === undefined;
    this.agent = options.agent ?? keepAliveAgent();
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.name = options.name ?? this.url.origin;
  }

  call<Reply = unknown>(method: string, args?: unknown): Promise<Reply> {
    if (typeof method !== 'string') return Promise.reject(methodNotAString(method));
    let body: Buffer;
    try {
      // Encoded once: the length header and the write use the same bytes.
      const text = args === undefined ? '' : (JSON.stringify(args) as string | undefined);
      if (text === undefined) throw new Error(`a ${typeof args} is not JSON`);
      body = Buffer.from(text, 'utf8');
    } catch (err) {
      return Promise.reject(
        new RpcUsageError(`The arguments of ${method} cannot be sent as JSON: ${(err as Error).message}`),
      );
    }
    return new Promise<Reply>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const req = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method: 'POST',
          path: RPC_PREFIX + encodeURIComponent(method),
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', () => fail(new TimeoutError(method, this.name)));
          res.on('end', () => {
            if (settled) return;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: { reply?: unknown; error?: string } | undefined;
            try {
              parsed = JSON.parse(text) as { reply?: unknown; error?: string };
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status === 200 && parsed && 'reply' in parsed) {
              settled = true;
              clearTimeout(timer);
              resolve(parsed.reply as Reply);
              return;
            }
            const message = parsed?.error ?? (text.slice(0, 200) || `HTTP ${status}`);
            fail(status === 404 ? new RpcUsageError(message) : new RemoteError(status, method, message));
          });
        },
      );
      const timer = setTimeout(() => {
        fail(new TimeoutError(method, this.name));
        req.destroy();
      }, this.timeoutMs);
      req.on('error', () => fail(new TimeoutError(method, this.name)));
      req.end(body);
    });
  }

  /** Closes the end's own agent's sockets (a shared agent is left to its owner). */
  close(): void {
    if (this.ownAgent) this.agent.destroy();
  }
}
