/** The grader's channel reads each line's JSON whole, however the pipe cuts the bytes (a character split across two chunks included). */
import { expect } from 'chai';
import { lineReader } from '../../../grader/channel';

/** Feeds `text`'s UTF-8 bytes to a fresh lineReader in chunks of `size` bytes; returns the messages read. */
function readInChunks(text: string, size: number): unknown[] {
  const got: unknown[] = [];
  const feed = lineReader((msg) => void got.push(msg));
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) feed(bytes.subarray(at, at + size));
  return got;
}

describe('grader channel: lines of JSON from a byte stream', () => {
  const messages = [
    { type: 'done', body: 'a value "é€😀" and a key "ключ"', mac: 'ab' },
    { type: 'log', text: '中文 — 🙂'.repeat(50) },
  ];
  const text = messages.map((m) => `${JSON.stringify(m)}\n`).join('');

  it('reads every message intact, whatever the chunk size (multi-byte characters cut across chunks)', () => {
    for (const size of [1, 2, 3, 5, 7, 64, 1 << 16]) {
      expect(readInChunks(text, size), `chunks of ${size} bytes`).to.deep.equal(messages);
    }
  });

  it('drops a line that is not JSON and goes on with the next', () => {
    expect(readInChunks(`not json\n${text}`, 4)).to.deep.equal(messages);
  });
});
