/**
 * Servers as machines of their own: under the grader, every `new` of a server class of the code under test loads
 * a fresh copy of its modules, so two servers (and a server and the clerks) share no memory and can talk only
 * through the network, as on real machines. A table at a module's top level cannot stand in for replication, and a
 * server cannot read what a clerk or another server keeps. Under node's loader (the kit's own tests) the class is
 * the shared one.
 */
import { codeLoader, isolatedLoader, type MachineGrants } from './loader';

/** A constructor of a class of the code under test, as the harness calls it. */
type AnyClass = abstract new (...args: never[]) => unknown;

/** What a machine may reach, from the arguments it is made with (lab 5: a server's port, a client's servers). */
export type GrantsOf = (args: readonly unknown[]) => MachineGrants;

/**
 * The class `name` that `file` exports, where each instance is made from a fresh copy of the code under test's
 * modules (under the grader's compartment; elsewhere, the shared class), given `grants` of the arguments when
 * named. `shared` is that class from the shared copy, for what the harness reads off the class itself.
 */
export function machineClass<C extends AnyClass>(
  folder: string,
  file: string,
  name: string,
  shared: C,
  grants?: GrantsOf,
): C {
  // Not exported at all: left undefined, for the grader to explain as a missing export.
  if (!isolatedLoader() || shared === undefined) return shared;
  const loader = codeLoader();
  const fresh = (args: unknown[]): C =>
    loader.fresh(folder, (req) => (req(file) as Record<string, C>)[name], grants?.(args));
  // A function, not a class: `new` on it returns the object made by the fresh copy's class.
  function Machine(...args: unknown[]): unknown {
    return Reflect.construct(fresh(args), args);
  }
  Object.defineProperty(Machine, 'name', { value: shared.name });
  return Machine as unknown as C;
}

/** A function of the code under test, as the harness calls it. */
type AnyFunction = (...args: never[]) => unknown;

/**
 * The function `name` that `file` exports, where each call runs in a fresh copy of the code under test's modules
 * (lab 5's `startServer`: each server it starts a machine of its own), as machineClass makes each instance.
 */
export function machineFunction<F extends AnyFunction>(
  folder: string,
  file: string,
  name: string,
  shared: F,
  grants?: GrantsOf,
): F {
  if (!isolatedLoader() || shared === undefined) return shared;
  const loader = codeLoader();
  function Machine(this: unknown, ...args: unknown[]): unknown {
    const fresh = loader.fresh(folder, (req) => (req(file) as Record<string, F>)[name], grants?.(args));
    return Reflect.apply(fresh, this, args);
  }
  Object.defineProperty(Machine, 'name', { value: shared.name });
  return Machine as unknown as F;
}
