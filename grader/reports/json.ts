/** results.json: the whole run, machine-readable. */
import { againCommand, historyFileName, replayCommand, rerunCommand, traceFileName } from '../format';
import type { LabResult, RunRecord, TestResult } from '../types';

/** The JSON document written to results.json (also the per-lab part of `--json`). */
export function resultsDocument(r: LabResult, withDetails = true): object {
  return {
    lab: r.lab,
    title: r.title,
    target: r.target,
    score: r.score,
    maxScore: r.maxScore,
    passed: r.passed,
    runsPerTest: r.runsPerTest,
    seed: r.seed ?? null,
    seedBase: r.seedBase ?? null,
    typeErrors: r.typeErrors,
    tests: r.tests.map((t) => testDocument(r, t, withDetails)),
  };
}

function testDocument(r: LabResult, t: TestResult, withDetails: boolean): object {
  const failed = t.status === 'failed';
  return {
    name: t.name,
    description: t.description,
    status: t.status,
    points: t.points,
    maxPoints: t.maxPoints,
    seed: t.seed,
    realTime: t.realTime === true,
    realMs: round(t.realMs),
    virtualMs: round(t.virtualMs),
    rpcs: t.rpcs,
    ops: t.ops,
    traceHash: t.traceHash,
    message: t.message,
    crash: t.crash ?? null,
    failingSeeds: t.failingSeeds,
    replay: failed ? againCommand(r.lab, t, r.target) : null,
    runs: t.runs.map((run) => runDocument(r, run, withDetails, t.realTime === true)),
  };
}

function runDocument(r: LabResult, run: RunRecord, withDetails: boolean, realTime: boolean): object {
  const failed = run.status === 'failed';
  const doc: Record<string, unknown> = {
    seed: run.seed,
    status: run.status,
    realMs: round(run.realMs),
    virtualMs: round(run.virtualMs),
    rpcs: run.rpcs,
    ops: run.ops,
    traceHash: run.traceHash,
    message: run.message,
    crash: run.crash ?? null,
    replay: failed ? (realTime ? rerunCommand(r.lab, run.name, r.target) : replayCommand(r.lab, run.name, run.seed, r.target)) : null,
    history: failed && run.historyHtml ? historyFileName(run.name, run.seed) : null,
    trace: failed && run.trace ? traceFileName(run.name, run.seed) : null,
    minimalFaults: failed && run.minimal ? { total: run.minimal.total, kept: run.minimal.kept.map((f) => f.what), passesWithout: run.minimal.passesWithout, complete: run.minimal.complete } : null,
  };
  if (withDetails && failed) {
    doc.log = run.log;
    doc.output = run.output;
  }
  return doc;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
