/** runNamedTest: what a run stopped on its virtual time limit says about the work still in progress, and that anything thrown fails. */
import { expect } from 'chai';
import { HistoryRecorder } from '../../../suite/history';
import { describeError, runNamedTest, type TestDefinition } from '../../../suite';

describe('runNamedTest', () => {
  it('on the virtual time limit, lists what the test said was still in progress, with how long each has waited', async () => {
    const stuckTest: TestDefinition<undefined> = {
      name: 'TestStuck',
      description: 'a client waits for ever',
      virtualLimitMs: 2000,
      async run(ctx) {
        const history = new HistoryRecorder<string, string>();
        ctx.onStuck(() => history.inFlight().map((op) => `client ${op.clientId}: ${op.input} since ${op.call} ms`));
        await new Promise((r) => setTimeout(r, 500));
        history.end(history.begin(1, 'done early'), 'ok');
        history.begin(2, 'acquire("l")');
        await new Promise(() => setInterval(() => undefined, 100)); // never returns
      },
    };
    const outcome = await runNamedTest(stuckTest, undefined, 1);
    expect(outcome.crash).to.equal('virtual-time-limit');
    expect(outcome.message).to.contain(
      'Still in progress when the run stopped:\n  client 2: acquire("l") since 500 ms',
    );
    expect(outcome.message).not.to.contain('done early');
    const failing: TestDefinition<undefined> = {
      ...stuckTest,
      name: 'TestFails',
      run: async (ctx) => {
        ctx.onStuck(() => ['x']);
        throw new Error('plain failure');
      },
    };
    expect(
      (await runNamedTest(failing, undefined, 1)).message,
      'only time limits and deadlocks list it',
    ).not.to.contain('Still in progress');
  });

  it('fails a test that throws or rejects with undefined or null (code under test can reject with anything)', async () => {
    for (const thrown of [undefined, null]) {
      for (const realTime of [false, true]) {
        const test: TestDefinition<undefined> = {
          name: 'TestRejectsOddly',
          description: 'rejects with a value that is not an error',
          realTime,
          run: () => Promise.reject(thrown),
        };
        const outcome = await runNamedTest(test, undefined, 1);
        expect([outcome.status, outcome.message], `${String(thrown)}, realTime ${realTime}`).to.deep.equal([
          'failed',
          `Error: The test stopped with ${String(thrown)} thrown or rejected instead of an error.`,
        ]);
      }
    }
  });

  it('fails at once, with a message, a test that throws a value whose every reading throws it again (a hostile proxy)', async () => {
    const hostile: object = new Proxy(
      {},
      {
        get: () => {
          throw hostile;
        },
        getPrototypeOf: () => {
          throw hostile;
        },
        has: () => {
          throw hostile;
        },
        ownKeys: () => {
          throw hostile;
        },
        getOwnPropertyDescriptor: () => {
          throw hostile;
        },
      },
    );
    for (const realTime of [false, true]) {
      const test: TestDefinition<undefined> = {
        name: 'TestThrowsAProxy',
        description: 'throws a proxy that throws itself when read',
        realTime,
        run: () => Promise.reject(hostile),
      };
      const outcome = await runNamedTest(test, undefined, 1);
      expect(outcome.status).to.equal('failed');
      expect(outcome.message).to.contain('threw a value that throws again when it is read');
      expect(describeError(hostile)).to.contain('Throw an Error');
    }
  });
});
