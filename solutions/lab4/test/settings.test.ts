/**
 * The lab 4 tools' settings: flags, the original's environment variables (WRITE_QUORUM, FOLLOWERS, MIN_DELAY, ...)
 * and defaults, read by one parser; bad values name their flag or variable; --solution without a solution.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NO_SOLUTION, implDirFor } from '../../../lab4/tools/impl';
import { Command, Option } from 'commander';
import {
  SEED_ENV,
  SettingsError,
  resolveRole as roleFrom,
  resolveSettings as settingsFrom,
  sourcesOf,
  withOriginalEnv,
  withoutSeedEnv,
  type Env,
  type SettingFlags,
  type Sources,
  type Use,
} from '../../../lab4/tools/settings';

/** Each setting's flag. */
const FLAG_OF: Record<keyof SettingFlags, string> = {
  role: '--role',
  port: '--port',
  quorum: '--quorum',
  minDelay: '--min-delay',
  maxDelay: '--max-delay',
  followers: '--followers',
  writeTimeout: '--write-timeout',
};

/** `flags` and `env` as a tool's commander reads them (each option with the original's variable: Option.env). */
function parsed(flags: SettingFlags, env: Env): [SettingFlags, Sources] {
  const cmd = new Command().exitOverride();
  for (const flag of Object.values(FLAG_OF)) cmd.addOption(withOriginalEnv(new Option(`${flag} <value>`)));
  const args = Object.entries(flags).flatMap(([k, v]) => [FLAG_OF[k as keyof SettingFlags], v as string]);
  const names = Object.values(SEED_ENV);
  const saved = names.map((n) => [n, process.env[n]] as const);
  for (const n of names) {
    if (env[n] === undefined) delete process.env[n];
    else process.env[n] = env[n];
  }
  try {
    cmd.parse(args, { from: 'user' });
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
  return [cmd.opts<SettingFlags>(), sourcesOf(cmd)];
}

/** The tools' settings from these flags and variables, read through commander as the tools read them. */
function resolveSettings(flags: SettingFlags, env: Env, use: Use) {
  return settingsFrom(...parsed(flags, env), use);
}

/** The node's role from these flags and variables, read through commander. */
function resolveRole(flags: SettingFlags, env: Env) {
  return roleFrom(...parsed(flags, env));
}

const NODE: Use = { followers: 'urls', quorum: true };
const CLUSTER: Use = { followers: 'count or urls', quorum: true };
const QUORUM_TOOL: Use = { followers: 'count', quorum: false, defaults: { port: 0 } };

/** The SettingsError message resolveSettings throws (fails the test if it does not throw one). */
function errorOf(flags: SettingFlags, env: Env, use: Use): string {
  try {
    resolveSettings(flags, env, use);
  } catch (err) {
    expect(err).to.be.instanceOf(SettingsError);
    return (err as Error).message;
  }
  expect.fail('expected a SettingsError');
}

describe("lab4 tools: settings from flags and the original's environment", () => {
  it("uses the original's defaults: port 5000, W 3, 0.1-1 ms, 5 followers on the next ports (cluster)", () => {
    const s = resolveSettings({}, {}, CLUSTER);
    expect(s).to.include({
      port: 5000,
      quorum: 3,
      minDelayMs: 0.1,
      maxDelayMs: 1,
      writeTimeoutMs: 1000,
      followerCount: 5,
    });
    expect(s.followerPorts).to.deep.equal([5001, 5002, 5003, 5004, 5005]);
  });

  it("reads the original's variables, delays in seconds", () => {
    const env = {
      PORT: '6000',
      WRITE_QUORUM: '2',
      MIN_DELAY: '0.0002',
      MAX_DELAY: '0.002',
      FOLLOWERS: 'http://127.0.0.1:6001,http://localhost:6002/',
    };
    const s = resolveSettings({}, env, CLUSTER);
    expect(s).to.include({ port: 6000, quorum: 2, minDelayMs: 0.2, maxDelayMs: 2, followerCount: 2 });
    expect(s.followerUrls).to.deep.equal(['http://127.0.0.1:6001', 'http://localhost:6002']);
    expect(s.followerPorts).to.deep.equal([6001, 6002]);
  });

  it('lets a flag win over its variable (flag delays in ms); blank variables count as unset', () => {
    const s = resolveSettings(
      { quorum: '4', minDelay: '0.5', followers: '4', port: '0' },
      { WRITE_QUORUM: '1', MIN_DELAY: '0.0001', FOLLOWERS: '', PORT: ' ' },
      CLUSTER,
    );
    expect(s).to.include({ quorum: 4, minDelayMs: 0.5, followerCount: 4, port: 0 });
    expect(s.followerPorts).to.deep.equal([0, 0, 0, 0]);
  });

  it("gives a leader node the original's FOLLOWERS URLs, and refuses a count there", () => {
    const s = resolveSettings(
      {},
      { FOLLOWERS: 'http://follower1:5000, http://follower2:5000', WRITE_QUORUM: '2' },
      NODE,
    );
    expect(s.followerUrls).to.deep.equal(['http://follower1:5000', 'http://follower2:5000']);
    expect(errorOf({}, { FOLLOWERS: '5' }, NODE))
      .to.match(/^FOLLOWERS must list the followers' URLs/)
      .and.contain('lab4:cluster');
    expect(errorOf({}, {}, NODE)).to.match(/leader needs its followers/);
  });

  it('names the variable or flag of every bad value', () => {
    const cases: Array<[SettingFlags, Env, Use, RegExp]> = [
      [{}, { WRITE_QUORUM: 'three' }, CLUSTER, /^WRITE_QUORUM must be a whole number.*"three"/],
      [{}, { WRITE_QUORUM: '0' }, CLUSTER, /^WRITE_QUORUM must be .*1 or more/],
      [{ quorum: '2.5' }, {}, CLUSTER, /^--quorum must be a whole number/],
      [{}, { PORT: '70000' }, CLUSTER, /^PORT must be a port number, from 0 to 65535/],
      [{}, { MIN_DELAY: '-1' }, CLUSTER, /^MIN_DELAY must be a delay in seconds/],
      [{ maxDelay: 'soon' }, {}, CLUSTER, /^--max-delay must be a delay in milliseconds/],
      [
        {},
        { MIN_DELAY: '0.002' },
        CLUSTER,
        /MIN_DELAY \(0\.002 s\) is more than the maximum --max-delay \(default 1 ms\)/,
      ],
      [{}, { FOLLOWERS: '99' }, CLUSTER, /^FOLLOWERS must be a number of followers, from 1 to 20/],
      [{}, { FOLLOWERS: 'follower1:5000' }, NODE, /^FOLLOWERS must list follower URLs.*"follower1:5000"/],
      [
        {},
        { FOLLOWERS: 'http://127.0.0.1:5001,http://127.0.0.1:5001' },
        NODE,
        /^FOLLOWERS lists http:\/\/127\.0\.0\.1:5001 twice/,
      ],
      [
        {},
        { FOLLOWERS: '3', WRITE_QUORUM: '4' },
        CLUSTER,
        /^WRITE_QUORUM 4 is more than the 3 follower\(s\) given with FOLLOWERS: set WRITE_QUORUM to 3 or less/,
      ],
      [
        { followers: '2' },
        {},
        CLUSTER,
        /^The default quorum 3 is more than the 2 follower\(s\) given with --followers/,
      ],
      [{ writeTimeout: '0' }, {}, CLUSTER, /^--write-timeout must be a number of milliseconds/],
    ];
    for (const [flags, env, use, want] of cases)
      expect(errorOf(flags, env, use), JSON.stringify({ flags, env })).to.match(want);
  });

  it('checks that a cluster can start the FOLLOWERS it was given on this machine', () => {
    expect(
      errorOf({}, { FOLLOWERS: 'http://follower1:5000,http://follower2:5000,http://follower3:5000' }, CLUSTER),
    ).to.match(/^FOLLOWERS lists http:\/\/follower1:5000, but this tool runs every node on this machine.*FOLLOWERS=5/);
    expect(
      errorOf({}, { FOLLOWERS: 'http://127.0.0.1,http://127.0.0.1:5002,http://127.0.0.1:5003' }, CLUSTER),
    ).to.match(/without a port/);
    expect(
      errorOf({}, { FOLLOWERS: 'http://127.0.0.1:5001,http://localhost:5001,http://127.0.0.1:5003' }, CLUSTER),
    ).to.match(/port 5001 to two followers/);
    expect(
      errorOf({}, { FOLLOWERS: 'http://127.0.0.1:5000,http://127.0.0.1:5002,http://127.0.0.1:5003' }, CLUSTER),
    ).to.match(/port 5000, which is the leader's \(the default leader port\)/);
    expect(errorOf({ port: '65534' }, {}, CLUSTER)).to.match(/^--port 65534 leaves no room for 5 follower ports/);
  });

  it('lab4:quorum takes a count only and ignores WRITE_QUORUM (it tries every W)', () => {
    const s = resolveSettings({}, { FOLLOWERS: '4', WRITE_QUORUM: 'whatever' }, QUORUM_TOOL);
    expect(s).to.include({ followerCount: 4, port: 0 });
    expect(errorOf({}, { FOLLOWERS: 'http://127.0.0.1:5001' }, QUORUM_TOOL)).to.match(
      /^FOLLOWERS must be a number of followers here/,
    );
  });

  it('reads a role from --role or NODE_TYPE', () => {
    expect(resolveRole({}, {})).to.equal('leader');
    expect(resolveRole({}, { NODE_TYPE: 'follower' })).to.equal('follower');
    expect(resolveRole({ role: 'leader' }, { NODE_TYPE: 'follower' })).to.equal('leader');
    expect(() => resolveRole({}, { NODE_TYPE: 'boss' })).to.throw(
      SettingsError,
      /^NODE_TYPE must be leader or follower; got "boss"/,
    );
  });

  it("keeps the original's variables away from the nodes a tool starts (they get flags)", () => {
    const env = withoutSeedEnv({
      FOLLOWERS: '5',
      WRITE_QUORUM: '3',
      NODE_TYPE: 'leader',
      PORT: '1',
      MIN_DELAY: '0',
      MAX_DELAY: '0',
      PATH: '/bin',
    });
    expect(env).to.deep.equal({ PATH: '/bin' });
  });
});

describe('lab4 tools: --solution', () => {
  it('finds the reference solution in the course kit', () => {
    expect(implDirFor(true)).to.equal('solutions/lab4');
    expect(implDirFor(false)).to.equal('lab4');
  });

  it('says plainly that a student template has no reference solution', () => {
    const template = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-template-'));
    try {
      fs.mkdirSync(path.join(template, 'lab4'));
      fs.writeFileSync(path.join(template, 'lab4', 'server.ts'), '');
      expect(implDirFor(false, template)).to.equal('lab4');
      expect(() => implDirFor(true, template)).to.throw(SettingsError, NO_SOLUTION);
      expect(NO_SOLUTION).to.contain(
        "--solution needs the course's own copy of the kit; the student template has no reference solution",
      );
    } finally {
      fs.rmSync(template, { recursive: true, force: true });
    }
  });
});

describe('lab4 tools read the settings with that parser', function () {
  this.timeout(60_000);
  const run = (tool: string, env: Env): { status: number | null; stderr: string } => {
    const r = spawnSync(
      process.execPath,
      [
        '-r',
        path.resolve(__dirname, '../../../grader/register.js'),
        path.resolve(__dirname, '../../../lab4/tools', tool),
      ],
      {
        env: { ...withoutSeedEnv(process.env), TS_NODE_TRANSPILE_ONLY: 'true', NO_COLOR: '1', ...env },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    return { status: r.status, stderr: r.stderr };
  };

  it('lab4:cluster honours FOLLOWERS and WRITE_QUORUM (and refuses a bad pair before starting anything)', () => {
    const r = run('cluster.ts', { FOLLOWERS: '3', WRITE_QUORUM: '4' });
    expect(r.stderr).to.contain('WRITE_QUORUM 4 is more than the 3 follower(s) given with FOLLOWERS');
    expect(r.status).to.equal(2);
  });

  it('a node refuses a count in FOLLOWERS, naming the variable', () => {
    const r = run('node.ts', { NODE_TYPE: 'leader', FOLLOWERS: '5' });
    expect(r.stderr).to.contain("FOLLOWERS must list the followers' URLs");
    expect(r.status).to.equal(2);
  });
});
