/**
 * Lab 2 — types shared by the server, the clerk, the lock and the tests. Given: do not change this file
 * (the grader checks it is untouched).
 *
 * Errors are returned as values, never thrown: every outcome a caller must handle is in the type, so the
 * compiler reminds you of each one. Exceptions are for bugs.
 */

/** A key's version: 0 means "the key does not exist yet"; every successful put adds 1. */
export type Version = number;

/** Arguments of the KVServer.Put RPC. */
export interface PutArgs {
  key: string;
  value: string;
  /** The version the caller believes the key has now (0 to create a new key). */
  version: Version;
}

/** What the server says about a put: done, no such key, or the version did not match. */
export type PutErr = 'OK' | 'ErrNoKey' | 'ErrVersion';

/** Reply of the KVServer.Put RPC. */
export interface PutReply {
  err: PutErr;
}

/** Arguments of the KVServer.Get RPC. */
export interface GetArgs {
  key: string;
}

/** Reply of the KVServer.Get RPC: the value and its version, or ErrNoKey. */
export type GetReply = { err: 'OK'; value: string; version: Version } | { err: 'ErrNoKey' };

/**
 * What Clerk.put returns: the server's answer, or ErrMaybe when a re-sent put got ErrVersion, so the clerk
 * cannot tell whether its first attempt took effect.
 */
export type PutResult = PutErr | 'ErrMaybe';

/** What Clerk.get returns (the same as the server's reply). */
export type GetResult = GetReply;

/** The RPC handlers a lab 2 server offers (called over labrpc as "KVServer.Get" and "KVServer.Put"). */
export interface KVService {
  Get(args: GetArgs): GetReply | Promise<GetReply>;
  Put(args: PutArgs): PutReply | Promise<PutReply>;
}

/** The client-side interface: the tests and the Lock use any object of this shape. */
export interface KVClerk {
  /** Reads a key; retries until the server answers. */
  get(key: string): Promise<GetResult>;
  /** Writes a key if its version matches; retries until the server answers. */
  put(key: string, value: string, version: Version): Promise<PutResult>;
}

/** The lock's interface, as the tests use it. */
export interface DistributedLock extends AsyncDisposable {
  /** Tries to take the lock until `timeoutMs` (virtual) passes; true once it is held. */
  acquire(timeoutMs?: number): Promise<boolean>;
  /** Gives the lock up; it must be held. */
  release(): Promise<void>;
}
