/**
 * Lab 2 — the key/value server. YOU WRITE THIS FILE.
 *
 * The server keeps, for every key, a value and a version. The tests call its methods over the simulated
 * network as "KVServer.Get" and "KVServer.Put". See lab2/README.md, part 1.
 */
import type { GetArgs, GetReply, KVService, PutArgs, PutReply } from './rpc';

export class KVServer implements KVService {
  // TODO: declare the server's state (key -> value and version).

  /** Returns the key's value and version, or ErrNoKey when the key does not exist. */
  Get(args: GetArgs): GetReply {
    // TODO: implement Get.
    throw new Error(
      `TODO: KVServer.Get is not implemented yet (asked for key "${args.key}"); see lab2/README.md, part 1`,
    );
  }

  /**
   * Installs the value if args.version matches the key's version, and adds 1 to the version.
   * A missing key is created (at version 1) only when args.version is 0; otherwise ErrNoKey.
   * A version that does not match gives ErrVersion.
   */
  Put(args: PutArgs): PutReply {
    // TODO: implement Put.
    throw new Error(
      `TODO: KVServer.Put is not implemented yet (asked for key "${args.key}"); see lab2/README.md, part 1`,
    );
  }
}
