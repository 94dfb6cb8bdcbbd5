/**
 * The harness's brand: the prototypes of the classes whose objects decide a verdict (the world, its random
 * streams, the recorder, the network, each lab's tester) are marked here, so the kit's reachability test can
 * recognise any of their objects wherever it finds one. A WeakSet of prototypes: nothing is stored on the objects.
 */

/** The branded prototypes. */
const harnessPrototypes = new WeakSet<object>();

/** Marks the classes' objects (and their prototypes) as the harness's own. */
export function brandHarness(...classes: ReadonlyArray<abstract new (...args: never[]) => unknown>): void {
  for (const c of classes) harnessPrototypes.add(c.prototype as object);
}

/** True for an object of a branded class, or one of their prototypes. */
export function isHarnessObject(value: object): boolean {
  for (let p: object | null = value; p !== null; p = Object.getPrototypeOf(p) as object | null)
    if (harnessPrototypes.has(p)) return true;
  return false;
}
