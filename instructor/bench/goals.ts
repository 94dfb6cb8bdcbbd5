/**
 * The kit's speed goals: the bound on each figure of `npm run bench` that has one, and what the bound is set against,
 * so that the bench prints beside each figure whether it meets its goal. A goal is a figure to reach, never a test.
 */

/** One bound on one figure. */
export interface Goal {
  /** The figure, as docs/performance.md's table of goals names it before the bound. */
  readonly figure: string;
  /** At least this value (a rate, a ratio), or below it (a time, a latency). */
  readonly rule: { readonly atLeast: number } | { readonly below: number };
  /** The figure's unit, written after the bound (none for a rate whose unit the figure shows, or a ratio). */
  readonly unit?: string;
  /** What the bound is set against: an anchor measured side by side, or what a student waits for. */
  readonly why: string;
}

/** MIT's Go labrpc on its own TestBenchmark: sequential calls a second on a 2-core machine of this kind (Go is not installed here). */
const MIT_LABRPC_CALLS_PER_S = 55_000;

/** The goals of the bench's figures other than the grades (gradeGoal), and of the ratios to anchors that need Go. */
export const GOALS = {
  labrpcSequential: {
    figure: 'labrpc, sequential calls a second',
    rule: { atLeast: 15 * MIT_LABRPC_CALLS_PER_S },
    why: `15x MIT's Go labrpc, about ${MIT_LABRPC_CALLS_PER_S.toLocaleString('en-US')} sequential calls a second on its TestBenchmark`,
  },
  labrpcOneVirtualSecond: {
    figure: "labrpc, ten clients' virtual second",
    rule: { below: 1000 },
    unit: 'ms',
    why: 'ten clients simulate a second faster than the real clock',
  },
  lab2OverMit: {
    figure: "lab 2's whole grade, as a share of MIT's kvsrv1 and lock suites' time",
    rule: { below: 0.05 },
    why: "MIT's Go suites, 42-51 s here (Go is not installed: measured beside the kit on 2026-11-23 and 2026-11-26)",
  },
  checkerOverPorcupine: {
    figure: "the checker on porcupine's histories, as a share of porcupine's time",
    rule: { below: 0.5 },
    why: "porcupine's own go test on the same histories, whole process (`npm run lincheck`)",
  },
  lab4Throughput: {
    figure: "lab 4's real cluster (5 followers, W=3), writes a second",
    rule: { atLeast: 8000 },
    why: 'the original reports ~250 writes/s, Flask in Docker',
  },
  lab4P95: {
    figure: "lab 4's real cluster, p95 of a write",
    rule: { below: 5 },
    unit: 'ms',
    why: 'the original reports ~120 ms',
  },
  lab5OverRedis: {
    figure: "lab 5's server, as a share of Redis's requests a second",
    rule: { atLeast: 1 },
    why: 'redis-server under the same load generator, in the same run',
  },
  lab6HalfInProcess: {
    figure: 'lab 6, each half (Raft, key/value) of its tests in one process',
    rule: { below: 60_000 },
    unit: 'ms',
    why: "MIT's Go suites take minutes of real time for each half",
  },
  lab6OverMit: {
    figure: "lab 6's whole grade, as a share of MIT's raft1 and kvraft1 suites' time",
    rule: { below: 0.02 },
    why: "MIT's Go suites on a public Go Raft, at least 305 s here (measured on 2026-11-26)",
  },
  oneTestGrade: {
    figure: "a student's one-test grade",
    rule: { below: 300 },
    unit: 'ms',
    why: 'what a student waits for after each change',
  },
} satisfies Record<string, Goal>;

/** Real time of each lab's whole reference grade, s: labs 5 to 7 run real processes or long Raft suites. */
const GRADE_SECONDS: Readonly<Record<string, number>> = {
  lab1: 3,
  lab2: 3,
  lab3: 3,
  lab4: 3,
  lab5: 10,
  lab6: 10,
  lab7: 60,
};

/** The goal of `lab`'s whole reference grade, wall time (what a student waits for, many times an hour). */
export function gradeGoal(lab: string): Goal {
  const seconds = GRADE_SECONDS[lab];
  if (seconds === undefined)
    throw new Error(
      `bench: ${lab} has no goal for its whole grade; add one to GRADE_SECONDS in instructor/bench/goals.ts`,
    );
  return {
    figure: `${lab}'s whole reference grade`,
    rule: { below: seconds * 1000 },
    unit: 'ms',
    why: 'the whole grade a student waits for',
  };
}

/** A goal's bound in words: "at least 8,000", "under 5 ms". */
function boundText(goal: Goal): string {
  const [words, bound] = 'atLeast' in goal.rule ? ['at least', goal.rule.atLeast] : ['under', goal.rule.below];
  return `${words} ${bound.toLocaleString('en-US')}${goal.unit ? ` ${goal.unit}` : ''}`;
}

/**
 * The first cell of each row of docs/performance.md's table of goals, in order: each goal's figure and bound, and
 * one row for the whole grades, whose bounds by lab come from GRADE_SECONDS. A kit test keeps the page's table equal
 * to it, so that a bound changed here is changed there.
 */
export function goalTitles(): string[] {
  const byBound = new Map<number, string[]>();
  for (const [lab, seconds] of Object.entries(GRADE_SECONDS))
    byBound.set(seconds, [...(byBound.get(seconds) ?? []), lab]);
  const grades = [...byBound].map(([seconds, labs]) => `${labs.join(', ')} under ${seconds} s`).join('; ');
  return [
    ...Object.values(GOALS).map((goal: Goal) => `${goal.figure}: ${boundText(goal)}`),
    `each lab's whole reference grade: ${grades}`,
  ];
}

/** Whether `value` meets `goal`. */
function meets(value: number, goal: Goal): boolean {
  return 'atLeast' in goal.rule ? value >= goal.rule.atLeast : value < goal.rule.below;
}

/** The goal as the bench writes it beside a figure: "goal ≥ 8,000: NOT MET (the original reports ~250 writes/s)". */
export function goalNote(value: number, goal: Goal): string {
  const [sign, bound] = 'atLeast' in goal.rule ? ['≥', goal.rule.atLeast] : ['<', goal.rule.below];
  const unit = goal.unit ? ` ${goal.unit}` : '';
  return `goal ${sign} ${bound.toLocaleString('en-US')}${unit}: ${meets(value, goal) ? 'met' : 'NOT MET'} (${goal.why})`;
}
