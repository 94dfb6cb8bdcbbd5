/** Errors that the simulated network hands to callers. */

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

/**
 * The TimeoutError of a call the network lost, made without capturing a stack: it is made in the simulation's event
 * loop, so its stack would show nothing but the kit's frames, and capturing it is most of what the error costs (in a
 * locked-down realm, SES's Error captures it twice). Its fields are a TimeoutError's own.
 */
export function lostCall(method: string, endName: string, owner?: string): TimeoutError {
  const e = Object.create(TimeoutError.prototype) as TimeoutError;
  const message = timeoutMessage(method, endName, owner);
  const hidden = (value: string): PropertyDescriptor => ({ value, writable: true, configurable: true });
  const field = (value: string): PropertyDescriptor => ({
    value,
    writable: true,
    configurable: true,
    enumerable: true,
  });
  Object.defineProperties(e, {
    stack: hidden(`TimeoutError: ${message}`),
    message: hidden(message),
    name: field('TimeoutError'),
    method: field(method),
    endName: field(endName),
  });
  return e;
}

/** A call that can never work: an unknown service or method, or an end that was never connected. */
export class RpcUsageError extends Error {
  override name = 'RpcUsageError';
}

/** A value that cannot cross the network unchanged. */
export class SerializationError extends Error {
  override name = 'SerializationError';
}
