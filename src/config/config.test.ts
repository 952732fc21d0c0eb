import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { loadConfig, redactConfig } from './config.ts';

function failure(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BerthError) return e;
    throw e;
  }
  throw new Error('expected BERTH_CONFIG_INVALID');
}

describe('loadConfig', () => {
  it('fills every default', () => {
    expect(loadConfig({}, {})).toEqual({
      berthImage: 'berth.local/berth:0.1.0',
      host: '127.0.0.1',
      port: 7070,
      databaseUrl: 'sqlite:.berth/berth.db',
      rolloutTimeoutMs: 300_000,
      reconcileIntervalMs: 180_000,
      logLevel: 'info',
      bodyLimitBytes: 1024 * 1024,
      metrics: 'public',
      rateLimit: { ratePerSecond: 20, burst: 60 },
      limits: { store: 'memory' },
      maxStreamsPerPrincipal: 8,
      memoryProfile: 'lean',
      weakeningGrants: {},
      requestTimeoutMs: 30_000,
      alerts: { evaluationIntervalMs: 10_000, notifiers: [] },
      prober: { enabled: true, concurrency: 512, network: 'auto', metricsMaxApps: 500 },
    });
  });

  it('prober: BERTH_PROBER_ENABLED turns probing off; a bad network or concurrency is refused with its path', () => {
    expect(loadConfig({}, { BERTH_PROBER_ENABLED: 'false' }).prober.enabled).toBe(false);
    expect(loadConfig({ prober: { network: 'cluster' } }, { BERTH_PROBER_ENABLED: 'false' }).prober).toMatchObject({ enabled: false, network: 'cluster' });
    const err = failure(() => loadConfig({ prober: { network: 'everywhere', concurrency: 0 } }, {}));
    expect(err.problems.map((p) => p.path).sort()).toEqual(expect.arrayContaining(['/prober/concurrency', '/prober/network']));
    expect(() => loadConfig({ prober: { typo: 1 } }, {})).toThrow(/prober/);
  });

  it('reads the environment, and explicit values win over it', () => {
    const env = { BERTH_PORT: '8080', BERTH_HOST: '0.0.0.0', BERTH_DATABASE_URL: 'postgres://u:pw@db/berth', BERTH_LOG_LEVEL: 'debug', KUBECONFIG: '/k/a:/k/b' };
    const c = loadConfig({ port: 9090 }, env);
    expect(c).toMatchObject({ port: 9090, host: '0.0.0.0', databaseUrl: 'postgres://u:pw@db/berth', logLevel: 'debug', kubeconfig: '/k/a' });
  });

  it('rejects unknown keys and bad values with their field paths and the variable they came from', () => {
    const err = failure(() => loadConfig({ prot: 1, rolloutTimeoutMs: -5 }, { BERTH_PORT: 'eighty' }));
    expect(err.code).toBe('BERTH_CONFIG_INVALID');
    const paths = err.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/prot', '/rolloutTimeoutMs', '/port']));
    expect(err.problems.find((p) => p.path === '/port')?.message).toContain('BERTH_PORT');
    expect(err.problems.find((p) => p.path === '/prot')?.message).toContain('unknown configuration key');
    expect(failure(() => loadConfig({ logLevel: 'loud' }, {})).problems[0]?.path).toBe('/logLevel');
  });

  it('memoryProfile: BERTH_MEMORY_PROFILE chooses it; any other value is refused with the variable named', () => {
    expect(loadConfig({}, { BERTH_MEMORY_PROFILE: 'v8-defaults' }).memoryProfile).toBe('v8-defaults');
    const err = failure(() => loadConfig({}, { BERTH_MEMORY_PROFILE: 'tiny' }));
    expect(err.problems.map((p) => p.path)).toEqual(['/memoryProfile']);
    expect(err.problems[0]?.message).toContain('BERTH_MEMORY_PROFILE');
  });

  it('is deep-frozen', () => {
    const c = loadConfig({}, {});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('redacts the database password for logs', () => {
    const c = loadConfig({ databaseUrl: 'postgres://berth:s3cret@db:5432/berth' }, {});
    expect(redactConfig(c)['databaseUrl']).toBe('postgres://berth:***@db:5432/berth');
    expect(JSON.stringify(redactConfig(c))).not.toContain('s3cret');
    expect(redactConfig(loadConfig({}, {}))['databaseUrl']).toBe('sqlite:.berth/berth.db');
  });
});

describe('weakeningGrants', () => {
  it('takes known settings per namespace and refuses anything else', () => {
    expect(loadConfig({ weakeningGrants: { legacy: ['dangerouslyWritableRootFilesystem'], lab: ['*'] } }, {}).weakeningGrants).toEqual({
      legacy: ['dangerouslyWritableRootFilesystem'],
      lab: ['*'],
    });
    expect(() => loadConfig({ weakeningGrants: { legacy: ['dangerouslyEverything'] } }, {})).toThrow(/weakeningGrants/);
    expect(() => loadConfig({ weakeningGrants: { Not_A_Namespace: ['*'] } }, {})).toThrow(/weakeningGrants/);
    expect(() => loadConfig({ weakeningGrants: { legacy: [] } }, {})).toThrow(/weakeningGrants/);
  });
});

describe('leader election', () => {
  it('is off by default, and on with a Lease namespace and a PostgreSQL database (env or input)', () => {
    expect(loadConfig({}, {}).leaderElection).toBeUndefined();
    const c = loadConfig({}, { BERTH_LEADER_ELECTION_NAMESPACE: 'berth-system', POD_NAME: 'berth-7c9-x2', BERTH_DATABASE_URL: 'postgres://berth@db/berth' });
    expect(c.leaderElection).toEqual({ namespace: 'berth-system', identity: 'berth-7c9-x2', leaseName: 'berth-leader', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  });

  it('refuses SQLite: replicas share their state through one database', () => {
    expect(() => loadConfig({ leaderElection: { namespace: 'berth-system' } }, {})).toThrow(/several replicas need PostgreSQL/);
    const err = failure(() => loadConfig({ leaderElection: { namespace: 'berth-system' }, databaseUrl: 'sqlite:/tmp/x.db' }, {}));
    expect(err.code).toBe('BERTH_CONFIG_INVALID');
    expect(err.problems.map((p) => p.path)).toEqual(['/leaderElection']);
  });

  it('rejects unknown keys and a bad namespace', () => {
    expect(() => loadConfig({ leaderElection: { namespace: 'Bad_NS' }, databaseUrl: 'postgres://x/y' }, {})).toThrow(/leaderElection/);
    expect(() => loadConfig({ leaderElection: { namespace: 'ok', lease: 'x' }, databaseUrl: 'postgres://x/y' }, {})).toThrow(/leaderElection/);
  });
});
