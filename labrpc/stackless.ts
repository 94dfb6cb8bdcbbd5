/** Errors made without a stack, for where they are made in bulk (labrpc's lost calls, the grader's crossing). */

/**
 * An error of `prototype`'s class made without its constructor, which captures a stack: most of what an error costs
 * (in a locked-down realm, SES's Error captures it twice), and where it is made in bulk (the simulation's event loop,
 * the grader's crossing) a stack would show only the kit's frames. It has a message, a stack of its first line only,
 * and `fields` as its own (a name other than the prototype's among them), so it prints and compares like one.
 */
export function stacklessError<E extends Error>(
  prototype: E,
  message: string,
  fields: Readonly<Record<string, string>> = {},
): E {
  const e = Object.create(prototype) as E;
  const name = fields.name ?? prototype.name;
  const hidden = (value: string): PropertyDescriptor => ({ value, writable: true, configurable: true });
  Object.defineProperties(e, {
    stack: hidden(message === '' ? name : `${name}: ${message}`),
    message: hidden(message),
  });
  for (const [key, value] of Object.entries(fields))
    Object.defineProperty(e, key, { value, writable: true, configurable: true, enumerable: true });
  return e;
}
