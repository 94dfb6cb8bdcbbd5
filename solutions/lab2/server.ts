/**
 * Lab 2 reference solution — the server.
 *
 * A map from key to (value, version). Puts are conditional on the version, which is what makes a re-sent put
 * harmless: the second copy of a put that already happened finds a newer version and is refused. So the
 * server needs no memory of clients or requests at all.
 */
import type { GetArgs, GetReply, KVService, PutArgs, PutReply, Version } from '../../lab2/rpc';

interface Entry {
  value: string;
  version: Version;
}

export class KVServer implements KVService {
  private readonly data = new Map<string, Entry>();

  /** Returns the key's value and version, or ErrNoKey. */
  Get(args: GetArgs): GetReply {
    const entry = this.data.get(args.key);
    if (!entry) return { err: 'ErrNoKey' };
    return { err: 'OK', value: entry.value, version: entry.version };
  }

  /** Installs the value if the version matches: 0 creates a missing key, n updates a key at version n. */
  Put(args: PutArgs): PutReply {
    const entry = this.data.get(args.key);
    if (!entry) {
      if (args.version !== 0) return { err: 'ErrNoKey' };
      this.data.set(args.key, { value: args.value, version: 1 });
      return { err: 'OK' };
    }
    if (entry.version !== args.version) return { err: 'ErrVersion' };
    entry.value = args.value;
    entry.version += 1;
    return { err: 'OK' };
  }
}
