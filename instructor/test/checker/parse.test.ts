/** The porcupine-format parsers: good lines, pending and unknown results, and clear errors for bad input. */
import { expect } from 'chai';
import { parseHistory } from '../../../checker/files';
import { detectFormat, ParseError, parseEtcdHistory, parseKvHistory } from '../../../checker/parse/porcupine';

/** Runs `fn` and returns the ParseError it throws. */
function parseErrorOf(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ParseError);
    return err as ParseError;
  }
  throw new Error('expected a ParseError');
}

const kv = (...lines: string[]): string => lines.join('\n') + '\n';
const etcd = (...lines: string[]): string => lines.map((l) => `INFO  jepsen.util - ${l}`).join('\n') + '\n';

describe('porcupine parsers', () => {
  describe('kv format', () => {
    it('pairs invoke and ok per process, with line numbers as times', () => {
      const ops = parseKvHistory(
        kv(
          '{:process 0, :type :invoke, :f :put, :key "a", :value "x"}',
          '{:process 1, :type :invoke, :f :get, :key "a", :value nil}',
          '{:process 0, :type :ok, :f :put, :key "a", :value "x"}',
          '',
          '{:process 1, :type :ok, :f :get, :key "a", :value "x"}',
          '{:process 2, :type :invoke, :f :append, :key "b", :value "q \\"quoted\\""}',
        ),
        'h.txt',
      );
      expect(ops).to.deep.equal([
        { clientId: 0, input: { op: 'put', key: 'a', value: 'x' }, output: 'x', call: 1, return: 3 },
        { clientId: 1, input: { op: 'get', key: 'a' }, output: 'x', call: 2, return: 5 },
        {
          clientId: 2,
          input: { op: 'append', key: 'b', value: 'q "quoted"' },
          output: undefined,
          call: 6,
          return: Infinity,
        },
      ]);
    });

    it('names file, line and expectation for a malformed line', () => {
      const e = parseErrorOf(() =>
        parseKvHistory(
          kv('{:process 0, :type :invoke, :f :get, :key "a", :value nil}', '{:process 0, :type :ok, :f :get}'),
          'bad.txt',
        ),
      );
      expect(e.file).to.equal('bad.txt');
      expect(e.line).to.equal(2);
      expect(e.message).to.match(/^bad\.txt:2: expected a kv event like \{:process 3, :type :invoke/);
    });

    it('rejects a return without a call and a second return', () => {
      const e1 = parseErrorOf(() =>
        parseKvHistory(kv('{:process 4, :type :ok, :f :get, :key "a", :value "x"}'), 'r.txt'),
      );
      expect(e1.message).to.match(/^r\.txt:1: process 4 returns \(:ok :get\) without an operation in progress/);
      const e2 = parseErrorOf(() =>
        parseKvHistory(
          kv(
            '{:process 0, :type :invoke, :f :get, :key "a", :value nil}',
            '{:process 0, :type :ok, :f :get, :key "a", :value ""}',
            '{:process 0, :type :ok, :f :get, :key "a", :value ""}',
          ),
          'twice.txt',
        ),
      );
      expect(e2.message).to.match(/^twice\.txt:3: .*second return/);
    });

    it('rejects a new invoke while the process is busy, and a return for another operation', () => {
      const busy = parseErrorOf(() =>
        parseKvHistory(
          kv(
            '{:process 0, :type :invoke, :f :get, :key "a", :value nil}',
            '{:process 0, :type :invoke, :f :get, :key "a", :value nil}',
          ),
          'b.txt',
        ),
      );
      expect(busy.message).to.equal(
        'b.txt:2: process 0 starts a new operation, but its :get from line 1 has not returned yet',
      );
      const other = parseErrorOf(() =>
        parseKvHistory(
          kv(
            '{:process 0, :type :invoke, :f :get, :key "a", :value nil}',
            '{:process 0, :type :ok, :f :put, :key "a", :value "x"}',
          ),
          'o.txt',
        ),
      );
      expect(other.message).to.match(
        /^o\.txt:2: process 0 returns :put, but its operation in progress \(line 1\) is :get/,
      );
      const key = parseErrorOf(() =>
        parseKvHistory(
          kv(
            '{:process 0, :type :invoke, :f :get, :key "a", :value nil}',
            '{:process 0, :type :ok, :f :get, :key "b", :value "x"}',
          ),
          'k.txt',
        ),
      );
      expect(key.message).to.match(/^k\.txt:2: .*called \(line 1\) with key "a"/);
    });

    it('rejects a put without a value', () => {
      const e = parseErrorOf(() =>
        parseKvHistory(kv('{:process 0, :type :invoke, :f :put, :key "a", :value nil}'), 'p.txt'),
      );
      expect(e.message).to.equal('p.txt:1: expected a string :value for :put, got nil');
    });
  });

  describe('etcd format', () => {
    it('parses reads, writes and cas, with tabs or spaces', () => {
      const ops = parseEtcdHistory(
        etcd(
          '0\t:invoke\t:read\tnil',
          '1 :invoke :write  3',
          '0\t:ok\t:read\tnil',
          '1   :ok   :write   3',
          '2\t:invoke\t:cas\t[3 4]',
          '2\t:fail\t:cas\t[3 4]',
        ),
        'e.log',
      );
      expect(ops).to.deep.equal([
        { clientId: 0, input: { op: 'read' }, output: { value: null }, call: 1, return: 3 },
        { clientId: 1, input: { op: 'write', value: 3 }, output: {}, call: 2, return: 4 },
        { clientId: 2, input: { op: 'cas', from: 3, to: 4 }, output: { ok: false }, call: 5, return: 6 },
      ]);
    });

    it(':info leaves the operation pending forever; a timed-out read ends with an unknown result', () => {
      const ops = parseEtcdHistory(
        etcd(
          '0\t:invoke\t:write\t1',
          '0\t:info\t:write\t:timed-out',
          '1\t:invoke\t:read\tnil',
          '1\t:fail\t:read\t:timed-out',
          '2\t:invoke\t:cas\t[1 2]',
        ),
        'i.log',
      );
      expect(ops.map((o) => [o.return, o.output])).to.deep.equal([
        [Infinity, undefined],
        [4, undefined],
        [Infinity, undefined],
      ]);
    });

    it('names file and line for malformed lines and bad arguments', () => {
      expect(
        parseErrorOf(() => parseEtcdHistory(etcd('0\t:invoke\t:read\tnil') + 'garbage here\n', 'g.log')).message,
      ).to.match(
        /^g\.log:2: expected a Jepsen event like "INFO {2}jepsen\.util - 3<TAB>:invoke<TAB>:read<TAB>nil", got "garbage here"/,
      );
      expect(parseErrorOf(() => parseEtcdHistory(etcd('0\t:invoke\t:cas\t[1]'), 'c.log')).message).to.equal(
        'c.log:1: expected a cas argument like [1 4], got "[1]"',
      );
      expect(parseErrorOf(() => parseEtcdHistory(etcd('0\t:invoke\t:write\tx'), 'w.log')).message).to.equal(
        'w.log:1: expected the value written (an integer), got "x"',
      );
      expect(parseErrorOf(() => parseEtcdHistory(etcd('0\t:ok\t:write\t1'), 'n.log')).message).to.match(
        /^n\.log:1: process 0 returns \(:ok :write\) without/,
      );
      expect(
        parseErrorOf(() => parseEtcdHistory(etcd('0\t:invoke\t:write\t1', '0\t:ok\t:write\t2'), 'm.log')).message,
      ).to.match(/^m\.log:2: process 0 returns :write 2, but it was called \(line 1\) with 1/);
    });
  });

  describe('format detection', () => {
    it('detects each format and refuses text that is neither', () => {
      expect(detectFormat('\n{:process 0, :type :invoke, :f :get, :key "a", :value nil}')).to.equal('kv');
      expect(detectFormat('INFO  jepsen.util - 0\t:invoke\t:read\tnil')).to.equal('etcd');
      expect(detectFormat('hello')).to.equal(undefined);
      expect(parseErrorOf(() => parseHistory('hello\n', 'x.txt')).message).to.match(/^x\.txt:1: expected a kv history/);
    });
  });
});
