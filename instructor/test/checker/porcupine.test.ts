/** Every history of the porcupine data set gets the verdict the data set records (6 kv + 102 etcd). */
import { expect } from 'chai';
import * as path from 'path';
import { checkLoaded, loadHistoryFile, porcupineDataset } from '../../../checker/files';
import { PORCUPINE_DIR } from './helpers';

describe('porcupine data set verdicts', () => {
  const entries = porcupineDataset(PORCUPINE_DIR);

  it('has all 108 histories (etcd_095 does not exist)', () => {
    expect(entries.filter((e) => e.format === 'kv')).to.have.length(6);
    expect(entries.filter((e) => e.format === 'etcd')).to.have.length(102);
    expect(entries.filter((e) => e.expected === 'ok')).to.have.length(3 + 23);
  });

  for (const entry of entries) {
    const name = `${entry.format}/${path.basename(entry.file)}`;
    it(`${name} is ${entry.expected === 'ok' ? 'linearizable' : 'not linearizable'}`, () => {
      const history = loadHistoryFile(entry.file, entry.format);
      const result = checkLoaded(history, { timeoutMs: 30_000 });
      expect(result.verdict).to.equal(entry.expected);
      if (result.verdict === 'illegal') expect(result.unplaced.length).to.be.greaterThan(0);
    });
  }
});
