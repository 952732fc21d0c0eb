import type { ImageRef } from './imageCatalog.ts';

/** The server images the sandbox runs for real: PostgreSQL, Redis, and berth's S3-compatible server. */
export type ServerImageKind = 'postgres' | 'redis' | 's3';

/**
 * Which server an image reference runs: Docker Hub's official `postgres` and `redis` (any tag), berth's
 * own `berth.local/postgres`, `berth.local/redis` (images/, built from Debian's packages) and
 * `berth.local/s3`. Both runtimes ask: the process runtime to start the machine's binaries, the
 * container runtime to stand berth's images in for the official ones and to aim commands at the pod.
 */
export function serverImageKind(ref: ImageRef): ServerImageKind | undefined {
  if (ref.registry === 'docker.io' && ref.path === 'library/postgres') return 'postgres';
  if (ref.registry === 'docker.io' && ref.path === 'library/redis') return 'redis';
  if (ref.registry === 'berth.local' && (ref.path === 'postgres' || ref.path === 'redis' || ref.path === 's3')) return ref.path;
  return undefined;
}

const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** `localhost` (alone, or in `--host=localhost`/`-hlocalhost`) becomes the pod IP. */
function aimAtPod(argv: readonly string[], podIP: string): string[] {
  return argv.map((a) => {
    if (LOCAL_NAMES.has(a)) return podIP;
    const m = /^(--host=|-h)(localhost|127\.0\.0\.1|::1)$/.exec(a);
    return m ? `${m[1]}${podIP}` : a;
  });
}

/**
 * A command run in a server image's container (an exec probe), aimed at that pod's own server. Every
 * pod of the sandbox shares the machine's network, where "localhost" is the machine's PostgreSQL and
 * Redis, not the pod's: `pg_isready -h localhost` and `redis-cli ping` (which defaults to 127.0.0.1)
 * would check the wrong server and pass. So `localhost`/`127.0.0.1`/`::1` become the pod IP, and
 * `redis-cli` without `-h`/`-u` gets `-h <pod IP>`. Other commands and images are left as written.
 */
export function serverExecArgv(kind: ServerImageKind | undefined, argv: readonly string[], podIP: string): string[] {
  if (!kind) return [...argv];
  const aimed = aimAtPod(argv, podIP);
  if (kind !== 'redis') return aimed;
  const cli = aimed[0]?.split('/').pop() === 'redis-cli';
  const hasHost = aimed.some((a) => a === '-h' || a.startsWith('-h') || a === '-u' || a === '--url' || a.startsWith('--url='));
  return cli && !hasHost ? [aimed[0] ?? 'redis-cli', '-h', podIP, ...aimed.slice(1)] : aimed;
}
