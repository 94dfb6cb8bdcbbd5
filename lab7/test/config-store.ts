/** Lab 2's server as lab 7's tests use it: every reply it gives held to lab 2's rules, with lab 2's store run beside it. */
import { readOnce } from '../../labrpc/read-once';
import type { KVService as ConfigService } from '../../lab2/rpc';
import { showCommand } from '../../lab6/test/harness';
import { KVModel, sameGet, type StoreGet } from '../../suite/versioned-store';
import { TestFailure } from '../../suite';
import { World } from '../../world';

/** A reply of lab 2's server as the tester judges it: the one reading of it that is judged and sent on. */
type Reply = { err?: unknown; value?: unknown; version?: unknown } | null | undefined;

/** What a call of lab 2's server is, for a message: `Put("next", version 2)`. */
type Shown = string;

/** Why lab 2's server may answer otherwise than lab 2's rules in a lab 7 run, said once in every such failure. */
const STORE_CAUSES =
  'Lab 7 holds every reply of lab 2’s server (your lab2/server.ts, which keeps the configuration) to lab 2’s rules, ' +
  'as lab 2’s own tests do: the tests judge the controllers by those rules. Likely causes: lab 2’s server changed ' +
  'since it passed lab 2 (npm run grade lab2), or a convention of its own for some keys (versions counted from ' +
  'another number, a key created at a version other than 0, a value or version stored otherwise than the put said); ' +
  'a controller that relies on such a convention does not run on lab 2’s rules.';

/** The rule Get follows, for a message. */
const GET_RULE =
  'Get answers the value of the key’s last put answered OK and the number of such puts as its version, or ErrNoKey ' +
  'when no put created it';

/**
 * Lab 2's server (`server`, the student's) behind the tester: calls reach it one at a time, in the order they come
 * (its effects then have one order, the model's), and each reply is compared with lab 2's store, run beside it;
 * a reply the rules do not give fails the test, naming the rule.
 */
export class CheckedConfigStore {
  private readonly server: ConfigService;
  private readonly model = new KVModel();
  /** The call before, which the next one waits for. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(server: ConfigService) {
    this.server = server;
  }

  /** KVServer.Get, checked: what an RPC or the tester's own read gets. */
  get(args: { key: string }): Promise<Reply> {
    return this.inTurn(async () => {
      const reply = await this.read(this.server.Get(args), 'Get');
      this.checkGet(args.key, reply);
      return reply;
    });
  }

  /** KVServer.Put, checked (and carried out in the model when lab 2's rules carry it out). */
  put(args: { key: string; value: string; version: number }): Promise<Reply> {
    return this.inTurn(async () => {
      const reply = await this.read(this.server.Put(args), 'Put');
      this.checkPut(args, reply);
      return reply;
    });
  }

  /**
   * True when lab 2's rules would carry out a put with these arguments now: its key missing and its version 0, or
   * its key at exactly its version (read from the store run beside the server, which every reply is held to).
   */
  wouldAccept(args: unknown): boolean {
    const put = args as { key?: unknown; version?: unknown } | null;
    if (typeof put?.key !== 'string' || typeof put.version !== 'number') return false;
    return this.model.version(put.key) === put.version;
  }

  /** Runs `call` once every call before it has finished, whatever became of it. */
  private inTurn<T>(call: () => Promise<T>): Promise<T> {
    const run = this.queue.then(call, call);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The server's reply (or its promise), read once: the copy judged is the copy sent on. */
  private async read(reply: unknown, method: string): Promise<Reply> {
    const once = readOnce(await reply, `lab 2's server's reply to ${method}`);
    if ('error' in once) throw once.error;
    return once.copy as Reply;
  }

  private checkGet(key: string, reply: Reply): void {
    const want = this.model.get(key);
    const got = { err: String(reply?.err), value: reply?.value, version: reply?.version };
    if (!sameGet(got, want))
      this.mismatch(`Get(${showCommand(key)})`, showReply(reply), `${showGet(want)}: ${GET_RULE}`);
  }

  private checkPut(args: { key: string; value: string; version: number }, reply: Reply): void {
    const want = this.model.put(args.key, args.value, args.version);
    if (reply?.err !== want.err)
      this.mismatch(
        `Put(${showCommand(args.key)}, version ${args.version})`,
        showReply(reply),
        `${want.err}: ${want.rule}`,
      );
  }

  private mismatch(call: Shown, got: string, want: string): never {
    const failure = new TestFailure(
      `lab 2's key/value server answered ${call} with ${got}, given every put it answered before in this test; ` +
        `expected what lab 2's rules answer, ${want}. ${STORE_CAUSES}`,
    );
    World.current().fail(failure);
    throw failure;
  }
}

/** A reply as a message shows it. */
function showReply(reply: Reply): string {
  if (reply?.err === 'OK' && 'value' in reply)
    return `OK, value ${showCommand(reply.value)} at version ${showCommand(reply.version)}`;
  return showCommand(reply);
}

/** What lab 2's store answers a Get, as a message shows it. */
function showGet(want: StoreGet): string {
  return want.err === 'OK' ? `OK, value ${showCommand(want.value)} at version ${want.version}` : 'ErrNoKey';
}
