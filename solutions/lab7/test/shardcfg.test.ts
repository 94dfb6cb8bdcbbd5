/** The given shard configuration of lab 7: numbering, balance, few moves, and the string form stored in lab 2's service. */
import { expect } from 'chai';
import fc from 'fast-check';
import { GID1, key2shard, NSHARDS, NUM_FIRST, ShardConfig } from '../../../lab7/shardcfg';
import type { Gid } from '../../../lab7/shardcfg';

/** The servers a test gives group `gid`. */
function names(gid: Gid): string[] {
  return [0, 1, 2].map((i) => `g${gid}-${i}`);
}

/** How many shards each member holds. */
function loads(cfg: ShardConfig): number[] {
  return cfg.gids().map((g) => cfg.shardsOf(g).length);
}

/** Fails unless every shard is owned by a member and the members' loads differ by at most one. */
function expectBalanced(cfg: ShardConfig): void {
  const gids = cfg.gids();
  for (const g of cfg.shards) expect(gids.includes(g), `shard owner ${g} among ${gids.join(', ')}`).to.equal(true);
  const l = loads(cfg);
  expect(Math.max(...l) - Math.min(...l), `loads ${l.join(', ')}`).to.be.at.most(1);
}

/** One step of a random history: join a new gid or remove a present one. */
type Step = { join: Gid } | { leave: number };

describe('lab7 shardcfg (given): configurations, join and leave', () => {
  it('the first configuration gives every shard to group 1', () => {
    const cfg = ShardConfig.first(names(GID1));
    expect(cfg.num).to.equal(NUM_FIRST);
    expect(cfg.shards).to.deep.equal(new Array(NSHARDS).fill(GID1));
    expect(cfg.servers(GID1)).to.deep.equal(names(GID1));
    expect(cfg.gids()).to.deep.equal([GID1]);
  });

  it('join numbers the next configuration, balances, and leaves the old one as it was', () => {
    const c1 = ShardConfig.first(names(1));
    const c2 = c1.join(new Map([[2, names(2)]]));
    expect(c2.num).to.equal(c1.num + 1);
    expect(c1.shards).to.deep.equal(new Array(NSHARDS).fill(1));
    expect(loads(c2)).to.deep.equal([6, 6]);
    // Group 1 keeps its lowest shards; only shards that had to move did.
    expect(c2.shardsOf(1)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    const c3 = c2.join(new Map([[3, names(3)]]));
    expectBalanced(c3);
    expect(c3.shards.filter((g, s) => g !== c2.shards[s]).length).to.equal(4);
  });

  it('leave hands the leaving groups’ shards to the others and balances', () => {
    const c = ShardConfig.first(names(1))
      .join(new Map([[2, names(2)]]))
      .join(new Map([[3, names(3)]]));
    const d = c.leave([2]);
    expect(d.num).to.equal(c.num + 1);
    expect(d.gids()).to.deep.equal([1, 3]);
    expectBalanced(d);
    // Only group 2's shards moved.
    for (let s = 0; s < NSHARDS; s++) if (c.shards[s] !== 2) expect(d.shards[s]).to.equal(c.shards[s]);
    expect(d.leave([1, 3]).shards).to.deep.equal(new Array(NSHARDS).fill(0));
  });

  it('refuses a gid that is already a member, a gid below 1, and leaving a group that is not one', () => {
    const c = ShardConfig.first(names(1));
    expect(() => c.join(new Map([[1, names(1)]]))).to.throw(/already in configuration 1/);
    expect(() => c.join(new Map([[0, names(0)]]))).to.throw(/above 0/);
    expect(() => c.leave([7])).to.throw(/group 7 is not in configuration 1/);
  });

  it('any history of joins and leaves stays balanced and moves only the shards it must', () => {
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.integer({ min: 2, max: 40 }).map((join) => ({ join })),
      fc.nat().map((leave) => ({ leave })),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        let cfg = ShardConfig.first(names(1));
        for (const st of steps) {
          const before = cfg;
          if ('join' in st) {
            if (cfg.has(st.join)) continue;
            cfg = cfg.join(new Map([[st.join, names(st.join)]]));
          } else {
            if (cfg.gids().length <= 1) continue;
            const gone = cfg.gids()[st.leave % cfg.gids().length];
            cfg = cfg.leave([gone]);
            expect(cfg.shardsOf(gone)).to.deep.equal([]);
          }
          expect(cfg.num).to.equal(before.num + 1);
          expectBalanced(cfg);
          // A group that stays keeps as many of its shards as its new share allows: no shard moves needlessly.
          for (const g of cfg.gids()) {
            if (!before.has(g)) continue;
            const kept = cfg.shardsOf(g).filter((s) => before.shards[s] === g).length;
            const want = Math.min(before.shardsOf(g).length, cfg.shardsOf(g).length);
            expect(kept, `group ${g} kept ${kept} of its shards`).to.equal(want);
          }
        }
      }),
      { seed: 45, numRuns: 300 },
    );
  });

  it('the same steps give the same configuration every time', () => {
    const run = (): string =>
      ShardConfig.first(names(1))
        .join(new Map([[5, names(5)]]))
        .join(
          new Map([
            [3, names(3)],
            [9, names(9)],
          ]),
        )
        .leave([1])
        .toString();
    expect(run()).to.equal(run());
  });

  it('toString and fromString round-trip; anything else is a clear error', () => {
    const c = ShardConfig.first(names(1)).join(new Map([[2, names(2)]]));
    const back = ShardConfig.fromString(c.toString());
    expect(back.num).to.equal(c.num);
    expect(back.shards).to.deep.equal(c.shards);
    expect(back.servers(2)).to.deep.equal(names(2));
    expect(() => ShardConfig.fromString('nope')).to.throw(/not JSON that toString wrote/);
    expect(() => ShardConfig.fromString('{"num":1,"shards":[1],"groups":[]}')).to.throw(/12 gids/);
  });

  it('key2shard spreads keys over every shard, the same way every time', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const s = key2shard(`k${i}`);
      expect(s).to.be.within(0, NSHARDS - 1);
      expect(key2shard(`k${i}`)).to.equal(s);
      seen.add(s);
    }
    expect(seen.size).to.equal(NSHARDS);
    expect(key2shard('')).to.equal(key2shard(''));
  });
});
