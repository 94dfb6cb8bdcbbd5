/**
 * Servers and services: a Server hosts services; a service is an object whose methods are RPC handlers,
 * callable over the network as "ServiceName.MethodName". A handler takes the arguments and returns the
 * reply, or a promise of it.
 */
import { RpcUsageError } from './errors';
import { brandHarness } from '../world/brand';

/** An RPC handler: arguments in, reply out (sync or async). */
export type Handler = (args: never) => unknown;

/** One service: a name and the handlers it exposes. */
export class Service {
  readonly name: string;
  private readonly handlers = new Map<string, Handler>();

  /**
   * Exposes every method of `receiver` (own or inherited from its class, except the constructor and names
   * starting with "_") as a handler. `name` defaults to the receiver's class name.
   */
  constructor(receiver: object, name?: string) {
    this.name = name ?? (receiver.constructor as { name: string }).name;
    for (let p: object | null = receiver; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const key of Object.getOwnPropertyNames(p)) {
        if (key === 'constructor' || key.startsWith('_') || this.handlers.has(key)) continue;
        const value = (receiver as Record<string, unknown>)[key];
        if (typeof value === 'function') this.handlers.set(key, (value as Handler).bind(receiver));
      }
    }
    if (this.handlers.size === 0) {
      throw new RpcUsageError(`Service "${this.name}" has no methods to call; give its class at least one method.`);
    }
  }

  /** The handler for `method`, or undefined. */
  handler(method: string): Handler | undefined {
    return this.handlers.get(method);
  }

  /** The names of the methods this service exposes. */
  methods(): string[] {
    return [...this.handlers.keys()].sort();
  }
}

/** A server: a set of services reachable under one server name. */
export class Server {
  private readonly services = new Map<string, Service>();
  /** Handlers found so far, by "Service.Method" (every call looks its handler up). */
  private readonly found = new Map<string, Handler>();
  private calls = 0;

  /** Adds a service; accepts a Service or any object (wrapped in a Service named after its class). */
  addService(service: Service | object, name?: string): this {
    const svc = service instanceof Service ? service : new Service(service, name);
    this.services.set(svc.name, svc);
    this.found.clear();
    return this;
  }

  /** How many calls reached this server's handlers. */
  get count(): number {
    return this.calls;
  }

  /** Finds the handler for "Service.Method", or throws an error that lists what exists. */
  resolve(serviceMethod: string): Handler {
    const known = this.found.get(serviceMethod);
    if (known) return known;
    const dot = serviceMethod.lastIndexOf('.');
    const serviceName = dot < 0 ? '' : serviceMethod.slice(0, dot);
    const methodName = serviceMethod.slice(dot + 1);
    const svc = this.services.get(serviceName);
    if (!svc) {
      const known = [...this.services.keys()].map((s) => `"${s}"`).join(', ') || 'none';
      throw new RpcUsageError(
        `Unknown service in "${serviceMethod}": call methods as "Service.Method". Services on this server: ${known}.`,
      );
    }
    const handler = svc.handler(methodName);
    if (!handler) {
      const known = svc
        .methods()
        .map((m) => `"${svc.name}.${m}"`)
        .join(', ');
      throw new RpcUsageError(`Unknown method "${serviceMethod}". Methods of ${svc.name}: ${known}.`);
    }
    this.found.set(serviceMethod, handler);
    return handler;
  }

  /** Counts one delivered call. */
  noteCall(): void {
    this.calls++;
  }
}

brandHarness(Server);
