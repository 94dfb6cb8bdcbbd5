/** One reading of a value the code under test hands the harness to judge and to send: its copy, as the network makes it. */
import { World } from '../world';
import { encode } from './codec';
import { RpcUsageError } from './errors';

/** What readOnce gives: the copy, or the error that failed the run (the value was no data the network carries). */
export type ReadOnce = { readonly copy: unknown } | { readonly error: unknown };

/**
 * `value` (RPC arguments, an apply message) read once, as the network copies what it carries. A watcher of the
 * code's calls judges this copy and sends it, so that what it judges is what goes out: the code's value may answer
 * each reading differently (a getter, a proxy, or a view of one through the grader's crossing). A value the network
 * would refuse fails the run here, with the network's error (`what` names it), and is neither judged nor sent. The
 * copy is also what JSON carries over a real connection: a field whose value is undefined is left out.
 */
export function readOnce(value: unknown, what: string): ReadOnce {
  try {
    return { copy: encode(value, what).copy };
  } catch (error) {
    World.maybeCurrent()?.fail(error); // in a real-time test the caller's rejection is the failure
    return { error };
  }
}

/** The error of an RPC whose method is not a string (its name would read differently to each reader). */
export function methodNotAString(method: unknown): RpcUsageError {
  return new RpcUsageError(
    `An RPC was called with a method of type ${method === null ? 'null' : typeof method}; expected a string such as ` +
      '"KVServer.Get" ("Service.Method"). Likely cause: a name built as an object (new String(...), a class extending ' +
      'String) instead of a plain string.',
  );
}

/** `method` as a string, once: anything else fails the run (as readOnce does), for every reader to see one name. */
export function methodOnce(method: unknown): ReadOnce {
  if (typeof method === 'string') return { copy: method };
  const error = methodNotAString(method);
  World.maybeCurrent()?.fail(error);
  return { error };
}
