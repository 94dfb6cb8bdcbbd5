/** The kit's checks of lab 5's command model: its replies are redis-server 7.0's, as the recorded corpus holds them. */
import { expect } from 'chai';
import { RequestParser } from '../../../lab5/resp';
import { CommandModel, newConnection } from '../../../lab5/test/command-model';
import { exactBytes, judgeReply, modelPacket } from '../../../lab5/test/model-judge';
import { comparable, escapeBytes, loadCorpus, showStep, stepBytes } from '../../../lab5/test/redis-corpus';

/** Replays every recorded sequence through the model; returns the disagreements and how many replies were loose. */
function replayCorpus(): { differences: string[]; compared: number; loose: number } {
  const differences: string[] = [];
  let compared = 0;
  let loose = 0;
  for (const seq of loadCorpus().sequences) {
    const model = new CommandModel(Date.now());
    const conn = newConnection();
    const parser = new RequestParser();
    let r = 0;
    for (const step of seq.steps) {
      for (const s of modelPacket(model, conn, parser, stepBytes(step))) {
        const recorded = seq.replies[r++];
        if (recorded === undefined) {
          differences.push(`"${seq.name}": the model replies to more commands than Redis did, at ${showStep(step)}`);
          break;
        }
        compared++;
        if (exactBytes(s.expect) === undefined) loose++;
        const why = judgeReply(s.expect, recorded, s.args, 0);
        if (why !== undefined)
          differences.push(
            `"${seq.name}" at ${showStep(step)}: Redis replied "${escapeBytes(comparable(step, recorded))}", ` +
              `the model expects "${escapeBytes(exactBytes(s.expect) ?? s.expect.kind)}" (${why})`,
          );
      }
    }
    if (r < seq.replies.length)
      differences.push(`"${seq.name}": the model gave ${r} replies, Redis ${seq.replies.length}`);
  }
  return { differences, compared, loose };
}

describe('lab5 command model', () => {
  it("replies to every command of the recorded corpus as redis-server 7.0 did (KEYS and SCAN's keys as sorted lists)", () => {
    const { differences, compared, loose } = replayCorpus();
    expect(differences.slice(0, 10), `${differences.length} disagreement(s)`).to.deep.equal([]);
    const recorded = loadCorpus().sequences.reduce((n, seq) => n + seq.replies.length, 0);
    expect(compared, 'replies compared').to.equal(recorded);
    expect(loose / compared, 'replies the model leaves loose (SCAN steps it cannot fix)').to.be.lessThan(0.01);
  });

  it('the corpus check can fail: a model that forgets KEEPTTL disagrees with Redis', () => {
    const model = new CommandModel(Date.now());
    const conn = newConnection();
    model.execute(conn, ['SET', 'k', 'v', 'EX', '100']);
    model.execute(conn, ['SET', 'k', 'w', 'KEEPTTL']);
    const ttl = model.execute(conn, ['TTL', 'k']);
    expect(judgeReply(ttl, ':100\r\n', ['TTL', 'k'], 0)).to.equal(undefined);
    expect(judgeReply(ttl, ':-1\r\n', ['TTL', 'k'], 0)).to.be.a('string');
  });

  it('runs nothing after QUIT in the same packet, and keeps a transaction per connection', () => {
    const model = new CommandModel(Date.now());
    const [a, b] = [newConnection(), newConnection()];
    const packet = Buffer.from('SET k 1\r\nQUIT\r\nSET k 2\r\n');
    const steps = modelPacket(model, a, new RequestParser(), packet);
    expect(steps.map((s) => exactBytes(s.expect))).to.deep.equal(['+OK\r\n', '+OK\r\n']);
    expect(exactBytes(model.execute(b, ['GET', 'k']))).to.equal('$1\r\n1\r\n');
    expect(exactBytes(model.execute(b, ['MULTI']))).to.equal('+OK\r\n');
    expect(exactBytes(model.execute(b, ['INCR', 'k']))).to.equal('+QUEUED\r\n');
    expect(exactBytes(model.execute(a, ['GET', 'k']))).to.equal(undefined); // a has ended: no reply
    expect(exactBytes(model.execute(b, ['EXEC']))).to.equal('*1\r\n:2\r\n');
    expect(exactBytes(model.execute(b, ['EXEC']))).to.equal('-ERR EXEC without MULTI\r\n');
  });

  it('expires keys on its own clock and counts them in INFO', () => {
    const model = new CommandModel(1_000_000);
    const conn = newConnection();
    model.execute(conn, ['SET', 'k', 'v', 'PX', '50']);
    model.now += 49n;
    expect(exactBytes(model.execute(conn, ['PTTL', 'k']))).to.equal(':1\r\n');
    model.now += 1n;
    expect(exactBytes(model.execute(conn, ['GET', 'k']))).to.equal('$-1\r\n');
    const info = model.execute(conn, ['INFO']);
    expect(info.kind === 'info' && info.stats).to.include({ expiredLo: 1, expiredHi: 1, keys: 0, totalLo: 4 });
  });
});
