/** A first-in, first-out queue whose take is O(1) however long it grows (an array's shift is not, past ~16k items). */
export class Fifo<T> {
  private items: T[] = [];
  /** Index of the oldest item still queued. */
  private head = 0;

  /** Queues `item` last. */
  push(item: T): void {
    this.items.push(item);
  }

  /** Takes the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T; // let it go
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** How many items are queued. */
  get length(): number {
    return this.items.length - this.head;
  }
}
