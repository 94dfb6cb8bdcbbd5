/** Errors made without a stack, for where they are made in bulk (labrpc's lost calls, the grader's crossing). */

/** The fields of an error that has none but its message. */
const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze({});
/** The descriptors of an error's stack and message: not enumerable, as an Error's own. */
const HIDDEN_STACK: PropertyDescriptor = { value: '', writable: true, configurable: true };
const HIDDEN_MESSAGE: PropertyDescriptor = { value: '', writable: true, configurable: true };

/**
 * An error of `prototype`'s class made without its constructor, which captures a stack: most of what an error costs
 * (in a locked-down realm, SES's Error captures it twice), and where it is made in bulk (the simulation's event loop,
 * the grader's crossing) a stack would show only the kit's frames. It has a message, a stack of its first line only,
 * and `fields` as its own (a name other than the prototype's among them), so it prints and compares like one.
 */
export function stacklessError<E extends Error>(
  prototype: E,
  message: string,
  fields: Readonly<Record<string, string>> = NO_FIELDS,
): E {
  const e = Object.create(prototype) as E;
  const name = fields.name ?? prototype.name;
  // One descriptor each, filled for this error and emptied after: defining a property on a fresh object runs no
  // code, and a descriptor made per error was most of what an error cost.
  HIDDEN_STACK.value = message === '' ? name : `${name}: ${message}`;
  HIDDEN_MESSAGE.value = message;
  Object.defineProperty(e, 'stack', HIDDEN_STACK);
  Object.defineProperty(e, 'message', HIDDEN_MESSAGE);
  HIDDEN_STACK.value = HIDDEN_MESSAGE.value = '';
  for (const key in fields) {
    // A key the prototype chain has ("name", frozen there) is defined; any other is assigned, which makes the same
    // writable, enumerable, configurable field.
    if (key in prototype)
      Object.defineProperty(e, key, { value: fields[key], writable: true, configurable: true, enumerable: true });
    else (e as unknown as Record<string, string>)[key] = fields[key];
  }
  return e;
}
