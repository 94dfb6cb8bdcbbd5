/** Lab 7's tests hold lab 2's server to lab 2's rules (lab7/test/config-store.ts): one of its own conventions fails them. */
import { expect } from 'chai';
import * as path from 'node:path';
import type { GetArgs, GetReply, KVService, PutArgs, PutReply } from '../../../lab2/rpc';
import { materialiseMutant, removeMutant, type Mutant } from '../../mutants';
import { runNamedTest } from '../../../suite';
import { suite } from '../../../lab7/test/suite';
import { mutants } from '../mutants';

/** The key the reference controller claims configuration numbers under. */
const CLAIM_KEY = 'next';

/**
 * Lab 2's server with a convention of its own for the claim key: its versions are counted from the one after (a put
 * creates it at version -1 and updates it at the stored version + 1), the conditional put still exclusive. Lab 2's
 * rules answer such puts ErrNoKey or ErrVersion.
 */
class ShiftedClaimServer implements KVService {
  private readonly data = new Map<string, { value: string; version: number }>();

  Get(args: GetArgs): GetReply {
    const e = this.data.get(args.key);
    return e ? { err: 'OK', value: e.value, version: e.version } : { err: 'ErrNoKey' };
  }

  Put(args: PutArgs): PutReply {
    const shift = args.key === CLAIM_KEY ? 1 : 0;
    const e = this.data.get(args.key);
    if (!e) {
      if (args.version !== (shift ? -1 : 0)) return { err: 'ErrNoKey' };
      this.data.set(args.key, { value: args.value, version: 1 });
      return { err: 'OK' };
    }
    if (e.version + shift !== args.version) return { err: 'ErrVersion' };
    e.value = args.value;
    e.version += 1;
    return { err: 'OK' };
  }
}

/** The reference controller with mutant claim-trusts-errmaybe, its claim put at the shifted server's versions. */
function shiftedTrustingCtrler(): Mutant {
  const trusting = mutants.find((m) => m.name === 'claim-trusts-errmaybe');
  if (trusting === undefined) throw new Error('mutant claim-trusts-errmaybe is gone from solutions/lab7/mutants.ts');
  return {
    ...trusting,
    name: 'claim-shifted-trusts-errmaybe',
    replace: [
      ...trusting.replace,
      ["next.toString(), r.err === 'OK' ? r.version : 0);", "next.toString(), r.err === 'OK' ? r.version + 1 : -1);"],
    ],
  };
}

describe("lab7: lab 2's server held to lab 2's rules", () => {
  it('fails TestLostClaim5C for a lab 2 server with shifted versions on the claim key, naming the rule', async () => {
    const dir = materialiseMutant(path.resolve(__dirname, '..'), shiftedTrustingCtrler());
    try {
      const impl = { ...suite.load(dir), ConfigServer: ShiftedClaimServer };
      const test = suite.tests.find((t) => t.name === 'TestLostClaim5C');
      if (test === undefined) throw new Error('TestLostClaim5C is gone from lab 7');
      const outcome = await runNamedTest(test, impl, 1);
      expect(outcome.status).to.equal('failed');
      expect(outcome.message).to.contain(`lab 2's key/value server answered Put("next", version -1) with {"err":"OK"}`);
      expect(outcome.message).to.contain('the key does not exist and the version is not 0');
    } finally {
      removeMutant(dir);
    }
  });
});
