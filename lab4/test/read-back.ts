/** Lab 4's real-HTTP tests read back what they wrote from every node: what a node reports of itself is no verdict. */
import * as http from 'node:http';
import { TestFailure } from '../../suite';
import { requestJson } from '../tools/lib';

/** The values the test wrote to each key (any of them may be the one a replica holds: writes to a key may overlap). */
export class Written {
  private readonly values = new Map<string, Set<string>>();

  /** Notes a write of `value` to `key` (made, whether or not it was acknowledged). */
  add(key: string, value: string): void {
    const set = this.values.get(key) ?? new Set<string>();
    set.add(value);
    this.values.set(key, set);
  }

  /** The keys written, in the order first written. */
  keys(): string[] {
    return [...this.values.keys()];
  }

  /** True when the test wrote `value` to `key`. */
  has(key: string, value: unknown): boolean {
    return typeof value === 'string' && (this.values.get(key)?.has(value) ?? false);
  }
}

/** A short picture of a value for a message. */
function shortly(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 80)}... (${s.length} characters)` : s;
}

/**
 * Reads every key the test wrote from every node (`GET /get/<key>`): each must answer 200 with a value the test wrote
 * to that key. `what` says what happened before, for the message.
 */
export async function readBack(
  nodes: ReadonlyArray<{ name: string; url: string }>,
  written: Written,
  what: string,
): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  try {
    for (const node of nodes) {
      const keys = written.keys();
      // Read side by side (the agent keeps at most 8 connections), judged in the order written.
      const answers = await Promise.all(
        keys.map((key) => requestJson(agent, `${node.url.replace(/\/$/, '')}/get/${encodeURIComponent(key)}`, 'GET')),
      );
      for (const [i, key] of keys.entries()) {
        const { status, body } = answers[i];
        if (status === 200 && body.success === true && written.has(key, body.value)) continue;
        throw new TestFailure(
          `${what}, GET /get/${key} at ${node.name} answered HTTP ${status} ${shortly(body)}; expected 200 with a value ` +
            `the test wrote to ${JSON.stringify(key)}. Every replica must hold every acknowledged write (the test reads ` +
            'each key back from every node: what /status reports is not taken as proof). Likely causes: a write ' +
            "acknowledged before a quorum of followers applied it; a follower's Replicate answered OK without applying the " +
            'entries; a key or value changed on the way (URL decoding of the key, JSON escapes of the value); or a ' +
            'follower restarted empty that was never caught up.',
        );
      }
    }
  } finally {
    agent.destroy();
  }
}
