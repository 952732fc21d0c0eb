import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/** The postgres image's Node.js scripts (CommonJS: inside the image no package.json says otherwise). */
const require = createRequire(import.meta.url);
const sh = require('../../images/postgres/sh.cjs') as { parse(line: string): { argv: string[]; redirects: { fd: number; path?: string; dupOf?: number; append?: boolean; input?: boolean }[] } };
const entrypoint = require('../../images/postgres/docker-entrypoint.cjs') as {
  plan(args: string[]): { server: boolean; argv: string[] };
  settings(env: Record<string, string | undefined>): { user: string; password: string; db: string; auth: string; initdbArgs: string[]; pgdata: string; listen: string };
  serverArgs(s: { listen: string }, rest: string[]): string[];
};

describe('the postgres image\'s /bin/sh command runner', () => {
  it('runs the command lines initdb writes for popen and system', () => {
    expect(sh.parse('"/usr/lib/postgresql/15/bin/postgres" -V')).toEqual({ argv: ['/usr/lib/postgresql/15/bin/postgres', '-V'], redirects: [] });
    expect(sh.parse('"/usr/lib/postgresql/15/bin/postgres" --boot -X 16777216 -F -c log_checkpoints=false  ')).toEqual({
      argv: ['/usr/lib/postgresql/15/bin/postgres', '--boot', '-X', '16777216', '-F', '-c', 'log_checkpoints=false'],
      redirects: [],
    });
    expect(sh.parse('"/p/postgres" --check -F -c max_connections=100 -c shared_buffers=1000 -c dynamic_shared_memory_type=posix < "/dev/null" > "/dev/null" 2>&1')).toEqual({
      argv: ['/p/postgres', '--check', '-F', '-c', 'max_connections=100', '-c', 'shared_buffers=1000', '-c', 'dynamic_shared_memory_type=posix'],
      redirects: [
        { fd: 0, path: '/dev/null', append: false, input: true },
        { fd: 1, path: '/dev/null', append: false, input: false },
        { fd: 2, dupOf: 1 },
      ],
    });
    expect(sh.parse('"/p/postgres" --single -F -O -j template1 >/dev/null').redirects).toEqual([{ fd: 1, path: '/dev/null', append: false, input: false }]);
    expect(sh.parse("'/a b/x' \"q\\\"uote\" '>'")).toEqual({ argv: ['/a b/x', 'q"uote', '>'], redirects: [] });
  });

  it('refuses anything that needs a shell', () => {
    for (const line of ['a | b', 'a; b', 'a && b', 'echo $HOME', 'echo `id`', 'ls *', 'exec "/p/postgres" -D x', '(a)', '', 'echo "$X"']) {
      expect(() => sh.parse(line), line).toThrow();
    }
  });
});

describe('the postgres image\'s entrypoint', () => {
  it('runs postgres for options, the named program otherwise, as the official image', () => {
    expect(entrypoint.plan([])).toEqual({ server: true, argv: ['postgres'] });
    expect(entrypoint.plan(['-c', 'max_connections=50'])).toEqual({ server: true, argv: ['postgres', '-c', 'max_connections=50'] });
    expect(entrypoint.plan(['postgres', '-c', 'x=1'])).toEqual({ server: true, argv: ['postgres', '-c', 'x=1'] });
    expect(entrypoint.plan(['psql', '-h', 'db'])).toEqual({ server: false, argv: ['psql', '-h', 'db'] });
  });

  it('reads the official environment contract, with the sandbox\'s POD_IP as the only listen address', () => {
    expect(entrypoint.settings({ POSTGRES_PASSWORD: 'pw' })).toMatchObject({ user: 'postgres', db: 'postgres', auth: 'scram-sha-256', pgdata: '/var/lib/postgresql/data', listen: '*' });
    const s = entrypoint.settings({ POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'pw', POSTGRES_INITDB_ARGS: ' --data-checksums  -E UTF8', PGDATA: '/d/pgdata', POD_IP: '127.10.0.4', POSTGRES_HOST_AUTH_METHOD: 'md5' });
    expect(s).toMatchObject({ user: 'app', db: 'app', auth: 'md5', initdbArgs: ['--data-checksums', '-E', 'UTF8'], pgdata: '/d/pgdata', listen: '127.10.0.4' });
    // The container's own args come after the entrypoint's, so they win.
    expect(entrypoint.serverArgs(s, ['-c', 'port=5433'])).toEqual(['-c', 'listen_addresses=127.10.0.4', '-c', 'unix_socket_directories=/var/run/postgresql', '-c', 'port=5433']);
  });
});
