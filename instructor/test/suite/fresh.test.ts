/** requireFresh: a private copy of the student's modules, for memory tests. */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireFresh } from '../../../suite/fresh';

describe('requireFresh: a private copy of the student modules', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-fresh-'));
    fs.writeFileSync(
      path.join(dir, 'store.js'),
      'const seen = [];\nexports.remember = (x) => seen.push(x);\nexports.count = () => seen.length;\n',
    );
    fs.writeFileSync(
      path.join(dir, 'server.js'),
      "const store = require('./store');\nexports.put = (x) => store.remember(x);\nexports.count = () => store.count();\n",
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  type Api = { put: (x: unknown) => void; count: () => number };

  it('gives each copy its own top-level state, shared by the files loaded together, and leaves the cache as it was', () => {
    const file = path.join(dir, 'server.js');
    const shared = require(file) as Api;
    const cachedBefore = Object.keys(require.cache)
      .filter((k) => k.startsWith(dir))
      .sort();
    shared.put(1);
    const a = requireFresh(dir, (req) => req(file) as Api);
    const b = requireFresh(dir, (req) => ({
      server: req(file) as Api,
      store: req(path.join(dir, 'store.js')) as { count: () => number },
    }));
    a.put('x');
    a.put('y');
    b.server.put('z');
    expect([shared.count(), a.count(), b.server.count()]).to.deep.equal([1, 2, 1]);
    expect(b.store.count(), 'files loaded in one call share one copy').to.equal(1);
    expect(
      Object.keys(require.cache)
        .filter((k) => k.startsWith(dir))
        .sort(),
      'the fresh copies are not cached',
    ).to.deep.equal(cachedBefore);
    expect(require(file), 'the suite keeps its own copy').to.equal(shared);
  });
});
