/** The locked-down realm's Object.freeze (grader/fast-freeze.ts): what it does to an object is what V8's own does. */
import { expect } from 'chai';
import { freezeStepByStep } from '../../../grader/fast-freeze';

/** V8's own freeze, as every object but the element prototypes gets it (Object.freeze itself is the kit's now). */
const nativeFreeze = (o: object): object => Reflect.apply(Object.freeze, Object, [o]) as object;

/** The accessor pair of every sample (one pair: descriptors compare their functions by identity). */
const getter = (): number => 2;
const setter = (): void => undefined;

/** A fresh object with every kind of own property: data, accessor, symbol-keyed, already non-configurable. */
function sample(): object {
  const o: Record<string | symbol, unknown> = { a: 1, [Symbol('s')]: 'x' };
  Object.defineProperty(o, 'get', { get: getter, set: setter, enumerable: false, configurable: true });
  Object.defineProperty(o, 'fixed', { value: 3, writable: true, configurable: false });
  return o;
}

/** Every own property's descriptor, in key order, and whether the object is frozen and extensible. */
function shape(o: object): unknown {
  return {
    frozen: Object.isFrozen(o),
    extensible: Object.isExtensible(o),
    props: Reflect.ownKeys(o).map((k) => [String(k), Reflect.getOwnPropertyDescriptor(o, k)]),
  };
}

/** The traps a proxy's target sees while `freeze` freezes the proxy. */
function trapsSeen(freeze: (o: object) => object): string[] {
  const seen: string[] = [];
  const handler: ProxyHandler<object> = {};
  for (const trap of ['preventExtensions', 'ownKeys', 'getOwnPropertyDescriptor', 'defineProperty'] as const)
    (handler as Record<string, unknown>)[trap] = (...args: unknown[]) => {
      seen.push(args.length > 1 ? `${trap} ${String(args[1])}` : trap);
      return (Reflect[trap] as (...a: unknown[]) => unknown)(...args);
    };
  freeze(new Proxy(sample(), handler));
  return seen;
}

describe("the locked-down realm's Object.freeze", () => {
  it('freezes as V8 does: the same descriptors, frozen, not extensible, the object returned', () => {
    for (const make of [sample, () => Object.create(sample()) as object, () => function f() {}, () => []]) {
      const mine = make();
      const theirs = make();
      expect(freezeStepByStep(mine)).to.equal(mine);
      nativeFreeze(theirs);
      expect(shape(mine)).to.deep.equal(shape(theirs));
      expect(Object.isFrozen(mine)).to.equal(true);
    }
  });

  it('asks a proxy what the specification says, in its order', () => {
    expect(trapsSeen(freezeStepByStep)).to.deep.equal(trapsSeen(nativeFreeze));
  });

  it('refuses what V8 refuses: a typed array with elements', () => {
    expect(() => nativeFreeze(new Uint8Array(2))).to.throw(TypeError);
    expect(() => freezeStepByStep(new Uint8Array(2))).to.throw(TypeError);
  });

  it('is installed as freeze itself: named freeze, one parameter, no prototype of its own (SES checks functions)', () => {
    expect(Object.freeze.name).to.equal('freeze');
    expect(Object.freeze.length).to.equal(1);
    expect(Object.hasOwn(Object.freeze, 'prototype')).to.equal(false);
    expect(Object.freeze.toString()).to.not.contain('[native code]');
  });
});
