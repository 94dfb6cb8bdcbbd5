/**
 * Lab 4 — a node as a real HTTP server. Given: runs your KVNode unchanged, with the original's API
 *   POST /set {key, value}   GET /get/<key>   GET /status   POST /replicate {entries, token}
 * plus POST /rpc/KVNode.<Method> (labrpc over HTTP), which the leader uses to reach its followers. Bad input
 * gets a 4xx with a JSON error and never reaches your code; the original's delay is applied to each message the
 * leader sends (DelayedEnd), over keep-alive HTTP connections (HttpEnd).
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server, type RpcEnd } from '../../labrpc';
import { HttpEnd, HttpError, RpcHttpHost, keepAliveAgent, readJson, sendError, sendJson } from '../../labrpc/http';
import { DelayedEnd } from '../delayed-end';
import {
  SERVICE,
  type GetArgs,
  type KVNodeService,
  type LogEntry,
  type NodeConfig,
  type ReplicateArgs,
  type SetArgs,
  type StatusArgs,
} from '../rpc';

/** The constructor of a node (your KVNode, or the solution's). */
export type NodeClass = new (config: NodeConfig, followers: RpcEnd[]) => KVNodeService;

/** How a real node is set up. */
export interface RealNodeOptions {
  KVNode: NodeClass;
  config: NodeConfig;
  /** Base URLs of the followers (leader only). */
  followers: string[];
  /** The original's per-message delay before the leader sends to a follower, ms. */
  minDelayMs: number;
  maxDelayMs: number;
  /** A call to a follower with no answer after this many ms counts as lost (default 1000). */
  rpcTimeoutMs?: number;
  /** Where log lines go (default: nowhere). */
  log?: (line: string) => void;
}

/** Largest /set body, bytes (keys and values are small; anything bigger is refused with 413). */
export const MAX_SET_BODY_BYTES = 64 * 1024;
/** Largest key, characters. */
export const MAX_KEY_LENGTH = 1024;

/** A KVNode served over HTTP. */
export class RealNode {
  private readonly options: RealNodeOptions;
  readonly node: KVNodeService;
  readonly host: RpcHttpHost;
  private readonly ends: HttpEnd[];
  private readonly log: (line: string) => void;
  private badRequests = 0;

  constructor(options: RealNodeOptions) {
    this.options = options;
    this.log = options.log ?? (() => undefined);
    const agent = keepAliveAgent(8);
    this.ends = options.followers.map((url) => new HttpEnd(url, { agent, timeoutMs: options.rpcTimeoutMs ?? 1000 }));
    const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    const delayed = this.ends.map((end) => new DelayedEnd(end, options.minDelayMs, options.maxDelayMs, realSleep));
    this.node = new options.KVNode(options.config, delayed);
    const server = new Server().addService(new CheckedNode(this.node), SERVICE);
    this.host = new RpcHttpHost(server, { routes: (req, res) => this.route(req, res) });
  }

  /** Starts serving (port 0: any free port). */
  listen(port: number, hostname = '127.0.0.1'): Promise<AddressInfo> {
    return this.host.listen(port, hostname);
  }

  /** The node's base URL (after listen). */
  get url(): string {
    return this.host.url;
  }

  /** Stops the node's work and closes its server and connections. */
  async close(): Promise<void> {
    this.node._stop();
    for (const end of this.ends) end.close();
    await this.host.close();
  }

  /** How many requests were refused as bad input so far. */
  get refused(): number {
    return this.badRequests;
  }

  /** The original's REST API; returns false for paths it does not know (then /rpc/ or a 404 follows). */
  private route(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    const endpoint = this.endpoint(req, res, path, url);
    if (!endpoint) return false;
    if (req.method !== endpoint.method) {
      req.resume();
      this.fail(req, res, path, new HttpError(405, `${path} takes ${endpoint.method}, not ${req.method}`));
      return true;
    }
    endpoint.answer().catch((err: unknown) => this.fail(req, res, path, err));
    return true;
  }

  /** The endpoint of the original's API at `path`: the method it takes and what answers it; undefined if none. */
  private endpoint(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    url: string,
  ): { method: 'GET' | 'POST'; answer: () => Promise<void> } | undefined {
    if (path === '/set') return { method: 'POST', answer: () => this.answerSet(req, res) };
    if (path.startsWith('/get/')) return { method: 'GET', answer: () => this.answerGet(path, res) };
    if (path === '/status') return { method: 'GET', answer: () => this.answerStatus(url, res) };
    if (path === '/replicate') return { method: 'POST', answer: () => this.answerReplicate(req, res) };
    return undefined;
  }

  /** Answers a request that failed: a 4xx (bad input, counted) or 5xx, logged either way. */
  private fail(req: IncomingMessage, res: ServerResponse, path: string, err: unknown): void {
    if (err instanceof HttpError && err.status < 500) {
      this.badRequests++;
      this.log(`refused ${req.method} ${path}: ${err.status} ${err.message}`);
    } else {
      this.log(`error on ${req.method} ${path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    sendError(res, err);
  }

  /** POST /set {key, value}: 200 once the write is acknowledged, 403 on a follower, 503 when it failed. */
  private answerSet(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return readJson(req, MAX_SET_BODY_BYTES).then(async (body) => {
      const args = checkSetArgs(body);
      const reply = await this.node.Set(args);
      if (reply.err === 'OK')
        sendJson(res, 200, {
          success: true,
          key: args.key,
          value: args.value,
          seq: reply.seq,
          replicas: reply.replicas,
        });
      else if (reply.err === 'ErrNotLeader') throw new HttpError(403, reply.message);
      else sendJson(res, 503, { success: false, error: reply.message, code: reply.err });
    });
  }

  /** GET /get/<key>: the value, or 404 when the key is missing. */
  private answerGet(path: string, res: ServerResponse): Promise<void> {
    return Promise.resolve().then(async () => {
      let key: string;
      try {
        key = decodeURIComponent(path.slice('/get/'.length));
      } catch {
        throw new HttpError(400, 'the key in the path is not valid percent-encoding');
      }
      const reply = await this.node.Get(checkGetArgs({ key }));
      if (reply.err === 'OK') sendJson(res, 200, { success: true, key, value: reply.value });
      else sendJson(res, 404, { success: false, key, error: 'Key not found' });
    });
  }

  /** GET /status[?nodata]: the node's role, log positions and counters (and its data unless nodata). */
  private answerStatus(url: string, res: ServerResponse): Promise<void> {
    return Promise.resolve().then(async () => {
      const st = await this.node.Status({ noData: /[?&]nodata\b/.test(url) });
      sendJson(res, 200, {
        node_type: st.role,
        id: st.id,
        data_count: st.dataCount,
        last_seq: st.lastSeq,
        commit_seq: st.commitSeq,
        followers: this.options.followers,
        quorum: this.options.config.role === 'leader' ? this.options.config.quorum : undefined,
        refused_requests: this.badRequests,
        rpc_calls: this.host.server.count,
        data: st.data,
      });
    });
  }

  /** POST /replicate {entries, token}: 200 when applied, 409 when refused, 403 on the leader or without the token. */
  private answerReplicate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return readJson(req).then(async (body) => {
      const reply = await this.node.Replicate(checkReplicateArgs(body));
      if (reply.err === 'ErrNotFollower')
        throw new HttpError(403, `${this.options.config.id} is the leader; only followers accept replication`);
      if (reply.err === 'ErrForbidden')
        throw new HttpError(
          403,
          `${this.options.config.id} accepts replication only from its leader (the call did not carry the cluster's token)`,
        );
      sendJson(res, reply.err === 'OK' ? 200 : 409, { success: reply.err === 'OK', ...reply });
    });
  }
}

/** The node as served on /rpc/: arguments are checked first, so bad input is a 400 and never reaches the node. */
class CheckedNode {
  private readonly node: KVNodeService;

  constructor(node: KVNodeService) {
    this.node = node;
  }
  Set(args: unknown): ReturnType<KVNodeService['Set']> {
    return this.node.Set(checkSetArgs(args));
  }
  Get(args: unknown): ReturnType<KVNodeService['Get']> {
    return this.node.Get(checkGetArgs(args));
  }
  Status(args: unknown): ReturnType<KVNodeService['Status']> {
    const a = (args ?? {}) as StatusArgs;
    return this.node.Status({ noData: a.noData === true });
  }
  Replicate(args: unknown): ReturnType<KVNodeService['Replicate']> {
    return this.node.Replicate(checkReplicateArgs(args));
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function checkKey(v: unknown, where: string): string {
  if (v === undefined) throw new HttpError(400, `missing field "key"${where}`);
  if (typeof v !== 'string') throw new HttpError(400, `field "key"${where} must be a string, got ${typeName(v)}`);
  if (v.length === 0) throw new HttpError(400, `field "key"${where} must not be empty`);
  if (v.length > MAX_KEY_LENGTH)
    throw new HttpError(400, `field "key"${where} is longer than ${MAX_KEY_LENGTH} characters`);
  return v;
}

function checkValue(v: unknown, where: string): string {
  if (v === undefined) throw new HttpError(400, `missing field "value"${where}`);
  if (typeof v !== 'string') throw new HttpError(400, `field "value"${where} must be a string, got ${typeName(v)}`);
  return v;
}

/** Checks a /set body; throws HttpError 400 saying what is wrong. */
export function checkSetArgs(body: unknown): SetArgs {
  if (!isObject(body))
    throw new HttpError(400, `the body must be a JSON object {"key": string, "value": string}, got ${typeName(body)}`);
  return { key: checkKey(body.key, ''), value: checkValue(body.value, '') };
}

/** Checks Get arguments. */
export function checkGetArgs(args: unknown): GetArgs {
  if (!isObject(args))
    throw new HttpError(400, `the arguments must be an object {"key": string}, got ${typeName(args)}`);
  return { key: checkKey(args.key, '') };
}

/**
 * Checks a /replicate body: {entries: [{seq, key, value}, ...], token} with consecutive seqs. A missing token
 * reaches the node as "" (which it refuses: only its leader knows the token); a token that is not a string is a 400.
 */
export function checkReplicateArgs(body: unknown): ReplicateArgs {
  if (!isObject(body))
    throw new HttpError(
      400,
      `the body must be a JSON object {"entries": [...], "token": string}, got ${typeName(body)}`,
    );
  if (body.token !== undefined && typeof body.token !== 'string')
    throw new HttpError(400, `field "token" must be a string, got ${typeName(body.token)}`);
  if (!Array.isArray(body.entries))
    throw new HttpError(400, `field "entries" must be an array, got ${typeName(body.entries)}`);
  const entries: LogEntry[] = body.entries.map((e: unknown, i: number) => {
    const where = ` of entries[${i}]`;
    if (!isObject(e))
      throw new HttpError(400, `entries[${i}] must be an object {"seq", "key", "value"}, got ${typeName(e)}`);
    if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 1)
      throw new HttpError(400, `field "seq"${where} must be a whole number >= 1`);
    return { seq: e.seq, key: checkKey(e.key, where), value: checkValue(e.value, where) };
  });
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].seq !== entries[i - 1].seq + 1)
      throw new HttpError(
        400,
        `entries must have consecutive seqs; entries[${i}] has #${entries[i].seq} after #${entries[i - 1].seq}`,
      );
  }
  return { entries, token: body.token ?? '' };
}
