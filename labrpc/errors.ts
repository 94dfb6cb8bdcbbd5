/** Errors that the simulated network hands to callers. */
import { stacklessError } from './stackless';

/** What a TimeoutError says. */
function timeoutMessage(method: string, endName: string, owner: string | undefined): string {
  return `RPC ${method} from ${owner === undefined ? '' : `${owner}, `}end "${endName}" got no reply (the request or the reply was lost, or the server is down)`;
}

/** The message or its reply was lost (or the server is unreachable): the caller cannot know whether it ran. */
export class TimeoutError extends Error {
  readonly method: string;
  readonly endName: string;
  override name = 'TimeoutError';
  constructor(
    method: string,
    endName: string,
    /** Who sent through the end, as the trace page names that lane (when the test named it). */
    owner?: string,
  ) {
    super(timeoutMessage(method, endName, owner));
    this.method = method;
    this.endName = endName;
  }
}

/** The TimeoutError of a call the network lost, made without a stack (stacklessError); its fields are a TimeoutError's own. */
export function lostCall(method: string, endName: string, owner?: string): TimeoutError {
  return stacklessError(TimeoutError.prototype, timeoutMessage(method, endName, owner), {
    name: 'TimeoutError',
    method,
    endName,
  });
}

/** A call that can never work: an unknown service or method, or an end that was never connected. */
export class RpcUsageError extends Error {
  override name = 'RpcUsageError';
}

/** A value that cannot cross the network unchanged. */
export class SerializationError extends Error {
  override name = 'SerializationError';
}
