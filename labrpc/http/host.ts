/**
 * Serving a labrpc Server over HTTP: `POST /rpc/<Service.Method>` with the arguments as a JSON body answers
 * `200 {"reply": ...}`. Errors are JSON too: 400 malformed JSON, 404 unknown service or method, 405 not a POST,
 * 413 body too large, 4xx from a handler that throws HttpError, 500 a handler that crashed.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RpcUsageError } from '../errors';
import type { Server } from '../service';
import { DEFAULT_MAX_BODY_BYTES, HttpError, readJson, sendError, sendJson } from './json';

/** The path prefix of RPC calls. */
export const RPC_PREFIX = '/rpc/';

/** How long a request (headers and body) may take to arrive, ms: a client that stalls mid-body is cut off after this. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A request handler for routes of your own; return false to let the host answer 404. */
export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** How a host serves. */
export interface RpcHttpOptions {
  /** Largest accepted request body, bytes (default 8 MiB). */
  maxBodyBytes?: number;
  /** A request not received whole within this many ms gets 408 and its connection closed (default 30 s), so a stalled body holds no memory for long. */
  requestTimeoutMs?: number;
  /** Tried before the RPC path for every request: lets a lab add routes (e.g. a REST API) on the same port. */
  routes?: Route;
}

/**
 * Handles one request if its path starts with /rpc/ (returns true), by calling the named handler of `server`
 * with the parsed body; returns false for any other path.
 */
export function handleRpc(
  server: Server,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
): boolean {
  const url = req.url ?? '/';
  if (!url.startsWith(RPC_PREFIX)) return false;
  let method: string;
  try {
    method = decodeURIComponent(url.slice(RPC_PREFIX.length).split('?')[0]);
  } catch {
    req.resume();
    sendError(res, new HttpError(400, `the method name in the path is not valid percent-encoding: ${url}`));
    return true;
  }
  if (req.method !== 'POST') {
    req.resume();
    sendJson(res, 405, {
      success: false,
      error: `RPC calls are POST ${RPC_PREFIX}<Service.Method>; got ${req.method}`,
    });
    return true;
  }
  let handler: (args: unknown) => unknown;
  try {
    handler = server.resolve(method) as (args: unknown) => unknown;
  } catch (err) {
    req.resume();
    sendError(res, err instanceof RpcUsageError ? new HttpError(404, err.message) : err);
    return true;
  }
  readJson(req, maxBodyBytes)
    .then(async (args) => {
      server.noteCall();
      const reply = await handler(args);
      sendJson(res, 200, { reply: reply === undefined ? null : reply });
    })
    .catch((err: unknown) => sendError(res, err));
  return true;
}

/** An HTTP server for one labrpc Server (and optional routes of your own). */
export class RpcHttpHost {
  readonly server: Server;
  private readonly options: RpcHttpOptions;
  readonly http: http.Server;
  private address: AddressInfo | undefined;

  constructor(server: Server, options: RpcHttpOptions = {}) {
    this.server = server;
    this.options = options;
    const requestTimeout = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // Node checks request deadlines every connectionsCheckingInterval ms (default 30 s): check often enough to honour short ones.
    const connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4)));
    this.http = http.createServer({ requestTimeout, connectionsCheckingInterval }, (req, res) => {
      try {
        if (this.options.routes?.(req, res)) return;
        if (handleRpc(this.server, req, res, this.options.maxBodyBytes)) return;
        req.resume();
        sendJson(res, 404, {
          success: false,
          error: `no route for ${req.method} ${req.url}; RPCs are POST ${RPC_PREFIX}<Service.Method>`,
        });
      } catch (err) {
        sendError(res, err);
      }
    });
    // Keep idle connections open longer than clients keep them, so a reused socket is rarely closed under a request.
    this.http.keepAliveTimeout = 65_000;
    this.http.headersTimeout = Math.min(66_000, requestTimeout);
  }

  /** Starts listening (port 0 picks a free port) and resolves to the address. */
  listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        this.address = this.http.address() as AddressInfo;
        resolve(this.address);
      });
    });
  }

  /** The base URL, e.g. http://127.0.0.1:5001 (after listen). */
  get url(): string {
    if (!this.address) throw new Error('RpcHttpHost.url: call listen() first');
    return `http://${this.address.address}:${this.address.port}`;
  }

  /** Stops accepting connections, closes idle and open ones, and resolves when the server is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }
}
