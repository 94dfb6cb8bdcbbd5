/** The calls whose handlers are running, oldest first: a list a call joins and leaves without a hash table. */
import type { Call } from './call';
import type { Server } from './service';
import { brandHarness } from '../world/brand';

/** A call waiting for its handler, so that killing the server can fail it at once. */
export interface Flight {
  readonly call: Call;
  readonly server: Server;
  /** Answered, failed, or crashed: nothing more happens to it. */
  settled: boolean;
  /** Its neighbours while it is on the list. */
  prev: Flight | undefined;
  next: Flight | undefined;
  /** On the list now. */
  listed: boolean;
}

/**
 * The running calls. A set would do, but a call joins and leaves it at every call, and a hash table whose entries
 * come and go that fast is rebuilt every few calls; a linked list costs two pointer writes each way.
 */
export class Flights {
  private head: Flight | undefined;
  private tail: Flight | undefined;

  /** Puts a new flight for `call` on `server` at the end of the list and returns it. */
  start(call: Call, server: Server): Flight {
    const flight: Flight = { call, server, settled: false, prev: this.tail, next: undefined, listed: true };
    if (this.tail) this.tail.next = flight;
    else this.head = flight;
    this.tail = flight;
    return flight;
  }

  /** Takes `flight` off the list (a no-op when it is already off). */
  remove(flight: Flight): void {
    if (!flight.listed) return;
    flight.listed = false;
    if (flight.prev) flight.prev.next = flight.next;
    else this.head = flight.next;
    if (flight.next) flight.next.prev = flight.prev;
    else this.tail = flight.prev;
    flight.prev = flight.next = undefined;
  }

  /** Takes each flight `which` accepts off the list, oldest first, and hands it to `then` as it goes. */
  removeWhere(which: (flight: Flight) => boolean, then: (flight: Flight) => void): void {
    for (let f = this.head; f;) {
      const next = f.next;
      if (which(f)) {
        this.remove(f);
        then(f);
      }
      f = next;
    }
  }

  /** Forgets every flight. */
  clear(): void {
    for (let f = this.head; f;) {
      const next = f.next;
      f.listed = false;
      f.prev = f.next = undefined;
      f = next;
    }
    this.head = this.tail = undefined;
  }
}

brandHarness(Flights);
