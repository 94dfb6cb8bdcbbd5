/**
 * Lab 6 — the persister: a peer's stable storage, which survives a crash. Given: do not change this file
 * (the grader checks it is untouched).
 *
 * A crash keeps exactly what the last `save` stored: the tester restarts a peer with a copy of its persister
 * taken at the crash, so anything a peer kept only in memory is gone.
 */

/** Stable storage for one peer: Raft's state and the service's latest snapshot, saved together. */
export class Persister {
  private raftState = '';
  private snapshotData = '';

  /** Replaces both the Raft state and the snapshot, at once (pass `readSnapshot()` to keep the snapshot as it is). */
  save(raftState: string, snapshot: string): void {
    if (typeof raftState !== 'string' || typeof snapshot !== 'string')
      throw new TypeError(
        `Persister.save(raftState, snapshot) takes two strings (got ${typeof raftState} and ${typeof snapshot}): ` +
          'encode your state with JSON.stringify, and pass persister.readSnapshot() to keep the snapshot.',
      );
    this.raftState = raftState;
    this.snapshotData = snapshot;
  }

  /** The Raft state of the last save ('' when nothing was ever saved). */
  readRaftState(): string {
    return this.raftState;
  }

  /** The snapshot of the last save ('' when there is none). */
  readSnapshot(): string {
    return this.snapshotData;
  }

  /** The size of the saved Raft state, in characters (the snapshot tests bound it). */
  raftStateSize(): number {
    return this.raftState.length;
  }

  /** The size of the saved snapshot, in characters. */
  snapshotSize(): number {
    return this.snapshotData.length;
  }

  /** @internal the tester's copy at a crash: what a restarted peer finds. */
  copy(): Persister {
    const p = new Persister();
    p.raftState = this.raftState;
    p.snapshotData = this.snapshotData;
    return p;
  }
}
