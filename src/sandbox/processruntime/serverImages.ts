import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import type { ImageRef } from '../kubelet/imageCatalog.ts';
import { serverExecArgv, serverImageKind } from '../kubelet/serverExecArgv.ts';
import { POSTGRES_ENTRYPOINT, S3_SERVER_SOURCE } from './serverScripts.ts';

/** What a server image needs from the runtime to start one container. */
export interface ServerLaunchContext {
  podIP: string;
  /** The container's `command` and `args` as written. */
  command: string[];
  args: string[];
  /** The container's environment (image, Service links, the pod spec's own variables). */
  env: Record<string, string>;
  /** The host directory for a path inside the container: in a mounted volume, else the pod's own scratch space. */
  hostPath(containerPath: string): string;
  /** Creates `dir` (a path `hostPath` returned) owned by the container's user, mode 0700, as a data directory must be. */
  ownDir(dir: string): void;
  /** A private directory of this pod for runtime files (sockets, password files), owned by the container's user. */
  runDir(name: string): string;
  /** The user the server runs as when the sandbox switches users; undefined when it runs as the sandbox's own user. */
  user: { uid: number; gid: number } | undefined;
}

export interface ServerLaunch {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

/**
 * An official server image the sandbox runs with this machine's own binaries (Debian's
 * `postgresql` and `redis-server` packages, and the S3-compatible server berth depends on),
 * emulating what the image's entrypoint does, on the pod IP and in the pod's volumes: never on
 * the machine's own instances, ports or data directories.
 */
export interface ServerImage {
  readonly name: 'postgres' | 'redis' | 's3';
  /** The uid the image's server runs as (the official images' `postgres`/`redis` users are 999). */
  readonly user: number;
  /** The image's STOPSIGNAL, sent when the container is stopped (SIGTERM when the image names none). */
  readonly stopSignal?: NodeJS.Signals;
  /** Whether this machine has the server (else the image stays simulated). */
  available(): boolean;
  /** How to start it; throws (a StartError) for commands the sandbox cannot run from this image. */
  launch(ctx: ServerLaunchContext): ServerLaunch;
  /** An exec probe's argv, aimed at this pod: in a pod, "localhost" is the pod itself. */
  probeArgv(argv: string[], podIP: string): string[];
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

let pgBin: string | null | undefined;
/** Debian's newest `/usr/lib/postgresql/<major>/bin`, which has initdb, pg_ctl and psql beside postgres. */
export function postgresBinDir(): string | undefined {
  if (pgBin === undefined) {
    const root = '/usr/lib/postgresql';
    const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres'))) : [];
    majors.sort((a, b) => Number(b) - Number(a));
    pgBin = majors[0] ? join(root, majors[0], 'bin') : null;
  }
  return pgBin ?? undefined;
}

/** The argv after the image's own program name (or entrypoint), when the command runs that program. */
function serverArgs(command: string[], args: string[], program: string, image: string, acceptsFirst: (a: string) => boolean): string[] {
  const all = [...command, ...args];
  let i = 0;
  if (all[i] === 'docker-entrypoint.sh') i++;
  if (all[i] === program || all[i]?.endsWith(`/${program}`)) i++;
  const rest = all.slice(i);
  if (i === 0 && rest.length > 0 && !acceptsFirst(rest[0] ?? '')) {
    throw new Error(`the sandbox runs only ${program} from the ${image} image, not "${all.join(' ')}"`);
  }
  return rest;
}

/** Absolute paths inside the container (an argument, or the value of `--opt=/path`) become host paths. */
function mapPaths(args: string[], ctx: ServerLaunchContext): string[] {
  return args.map((a) => {
    if (a.startsWith('/')) return ctx.hostPath(a);
    const m = /^(--?[A-Za-z][\w-]*=)(\/.*)$/.exec(a);
    return m ? `${m[1]}${ctx.hostPath(m[2] ?? '')}` : a;
  });
}

const NSS_WRAPPER = ['/usr/lib/x86_64-linux-gnu/libnss_wrapper.so', '/usr/lib/aarch64-linux-gnu/libnss_wrapper.so', '/usr/lib64/libnss_wrapper.so', '/usr/lib/libnss_wrapper.so'];

/** nss_wrapper (Debian package libnss-wrapper), preloaded to serve users and host names from files. */
export function nssWrapperLibrary(): string | undefined {
  return NSS_WRAPPER.find((p) => existsSync(p));
}

function hasPasswdEntry(uid: number): boolean {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .some((l) => l.split(':')[2] === String(uid));
  } catch {
    return false;
  }
}

/**
 * initdb and postgres look their own user up; a pod's uid (999) usually has no entry on this
 * machine, so, as the official image does for arbitrary uids, nss_wrapper (Debian package
 * libnss-wrapper) serves one from files in the pod's private directory.
 */
function userLookupEnv(ctx: ServerLaunchContext, name: string, home: string): Record<string, string> {
  const user = ctx.user;
  if (!user || hasPasswdEntry(user.uid)) return {};
  const lib = nssWrapperLibrary();
  if (!lib) throw new Error(`uid ${user.uid} has no entry in /etc/passwd and nss_wrapper is not installed (Debian package libnss-wrapper)`);
  const dir = ctx.runDir('nss');
  // The machine's own entries stay: exec probes run as the sandbox's user with this environment.
  const machine = (file: string): string => {
    try {
      const text = readFileSync(file, 'utf8');
      return text.endsWith('\n') || text === '' ? text : `${text}\n`;
    } catch {
      return '';
    }
  };
  writeFileSync(`${dir}/passwd`, `${machine('/etc/passwd')}${name}:x:${user.uid}:${user.gid}:${name}:${home}:/bin/sh\n`);
  writeFileSync(`${dir}/group`, `${machine('/etc/group')}${name}:x:${user.gid}:\n`);
  return { LD_PRELOAD: lib, NSS_WRAPPER_PASSWD: `${dir}/passwd`, NSS_WRAPPER_GROUP: `${dir}/group` };
}

const postgres: ServerImage = {
  name: 'postgres',
  user: 999,
  // The official image's STOPSIGNAL: a fast shutdown. SIGTERM is a smart one, which waits for every
  // client (an app's connection pool) to disconnect and so takes the whole grace period.
  stopSignal: 'SIGINT',
  available: () => postgresBinDir() !== undefined,
  launch(ctx) {
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL is not installed on this machine (Debian package postgresql)');
    const rest = mapPaths(serverArgs(ctx.command, ctx.args, 'postgres', 'postgres', (a) => a.startsWith('-')), ctx);
    const pgdata = ctx.hostPath(ctx.env['PGDATA'] || '/var/lib/postgresql/data');
    ctx.ownDir(pgdata);
    const sockets = ctx.runDir('postgresql');
    return {
      argv: ['/bin/sh', '-c', POSTGRES_ENTRYPOINT, 'postgres', ...rest],
      // PGHOST points psql and pg_isready in this container (exec probes) at this pod's server.
      env: { ...ctx.env, ...userLookupEnv(ctx, 'postgres', sockets), PGDATA: pgdata, PGHOST: sockets, BERTH_PG_BIN: bin, BERTH_PG_LISTEN: ctx.podIP, BERTH_PG_SOCKETS: sockets },
      cwd: sockets,
    };
  },
  probeArgv: (argv, podIP) => serverExecArgv('postgres', argv, podIP),
};

const redis: ServerImage = {
  name: 'redis',
  user: 999,
  available: () => onPath('redis-server') !== undefined,
  launch(ctx) {
    const server = onPath('redis-server');
    if (!server) throw new Error('Redis is not installed on this machine (Debian package redis-server)');
    const rest = mapPaths(serverArgs(ctx.command, ctx.args, 'redis-server', 'redis', (a) => a.startsWith('-') || a.endsWith('.conf')), ctx);
    // The official image works in /data (its VOLUME), where RDB and AOF files land unless --dir says otherwise.
    const data = ctx.hostPath('/data');
    ctx.ownDir(data);
    const hasDir = rest.includes('--dir');
    return {
      // Last options win: the server always binds the pod IP only, never the machine's 127.0.0.1:6379.
      argv: [server, ...rest, ...(hasDir ? [] : ['--dir', data]), '--bind', ctx.podIP, '--daemonize', 'no', '--protected-mode', 'no'],
      env: ctx.env,
      cwd: data,
    };
  },
  // redis-cli defaults to 127.0.0.1: the machine's Redis, not this pod's (src/sandbox/kubelet/serverExecArgv.ts).
  probeArgv: (argv, podIP) => serverExecArgv('redis', argv, podIP),
};

const s3: ServerImage = {
  name: 's3',
  user: 65532,
  available: () => s3rverMain() !== undefined,
  launch(ctx) {
    const main = s3rverMain();
    if (!main) throw new Error('the S3-compatible server (npm package @20minutes/s3rver) is not installed');
    // MinIO-style `server /data` arguments name the data directory.
    const dirArg = [...ctx.command, ...ctx.args].find((a) => a.startsWith('/'));
    const data = ctx.hostPath(dirArg ?? '/data');
    ctx.ownDir(data);
    return {
      argv: [process.execPath, '-e', S3_SERVER_SOURCE, 'berth-sandbox-s3'],
      env: { ...ctx.env, PORT: ctx.env['PORT'] ?? '9000', BERTH_S3RVER_MAIN: main, BERTH_S3_DIR: data, BERTH_S3_ADDRESS: ctx.podIP },
      cwd: data,
    };
  },
  probeArgv: (argv, podIP) => serverExecArgv('s3', argv, podIP),
};

let s3rverPath: string | null | undefined;
function s3rverMain(): string | undefined {
  if (s3rverPath === undefined) {
    try {
      s3rverPath = createRequire(import.meta.url).resolve('@20minutes/s3rver');
    } catch {
      s3rverPath = null;
    }
  }
  return s3rverPath ?? undefined;
}

/**
 * The server image behind a reference: `postgres[:tag]` and `redis[:tag]` (Docker Hub's official
 * images, any tag: the machine's version runs), berth's own `berth.local/postgres` and
 * `berth.local/redis` (the same servers, when no container runtime runs the built images) and
 * `berth.local/s3` (an S3-compatible server).
 */
export function serverImageFor(ref: ImageRef): ServerImage | undefined {
  const kind = serverImageKind(ref);
  return kind === 'postgres' ? postgres : kind === 'redis' ? redis : kind === 's3' ? s3 : undefined;
}
