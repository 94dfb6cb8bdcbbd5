/** Tests for the sweep record: chunks merge into one entry, and sweeps side by side keep each other's entries. */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeEntries, readSweep, recordEntry, type SweepEntry } from '../sweep';

const entry = (test: string, runs: number, seedBase: number, failingSeeds: number[] = []): SweepEntry => ({
  lab: 'lab1',
  test,
  realTime: false,
  runs,
  seedBase,
  failingSeeds,
  message: failingSeeds.length > 0 ? 'failed' : '',
  seconds: runs / 10,
  busyLoops: 0,
  date: '2026-11-24T00:00:00.000Z',
});

describe('sweep record', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-record-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps the entries another sweep recorded after this one started', () => {
    const file = path.join(dir, 'record.json');
    recordEntry('lab1/TestA', entry('TestA', 100, 1), file);
    // Another sweep, started earlier or later, records its own test in between.
    const theirs = { ...readSweep(file), 'lab2/TestB': entry('TestB', 50, 2) };
    fs.writeFileSync(file, JSON.stringify(theirs));
    recordEntry('lab1/TestA', mergeEntries(entry('TestA', 100, 1), entry('TestA', 100, 3)), file);
    const now = readSweep(file);
    expect(Object.keys(now).sort()).to.deep.equal(['lab1/TestA', 'lab2/TestB']);
    expect(now['lab1/TestA'].runs).to.equal(200);
    expect(fs.readdirSync(dir)).to.deep.equal(['record.json']); // no scratch file left behind
  });

  it('merges a chunk into an entry: runs, failing seeds and seconds add up', () => {
    const merged = mergeEntries(entry('TestA', 100, 1, [7]), entry('TestA', 50, 9, [11]));
    expect(merged.runs).to.equal(150);
    expect(merged.failingSeeds).to.deep.equal([7, 11]);
    expect(merged.seconds).to.be.closeTo(15, 1e-9);
  });
});
