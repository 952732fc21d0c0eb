import type { ImageRef } from '../kubelet/imageCatalog.ts';
import type { ServerImageKind } from '../kubelet/serverExecArgv.ts';
import { serverImageKind } from '../kubelet/serverExecArgv.ts';
import { asArray } from '../client/objects.ts';

/**
 * The tag `npm run images` gives berth's server images besides their versions (images/buildImages.js
 * SERVER_STAND_IN_TAG): the build from Debian 12's packages, whatever version that is.
 */
export const STAND_IN_TAG = 'debian12';

/** berth's image running in place of the official one a pod names, and how the pod's status says so. */
export interface StandIn {
  /** podman's name of the image that runs, e.g. `berth.local/postgres:debian12`. */
  readonly image: string;
  /** The container status' imageID: the image that runs, by its ID, never the official image's name. */
  readonly imageId: string;
  /** The pod event telling what runs instead of what the pod asked for. */
  readonly message: string;
}

/**
 * The image that stands in for Docker Hub's official `postgres:*` or `redis:*` when podman has no such
 * image (no public registry is reachable): berth's build of the same server (images/postgres,
 * images/redis). Undefined for every other reference, berth's own images included.
 */
export function standInName(ref: ImageRef): string | undefined {
  if (ref.registry !== 'docker.io') return undefined;
  const kind = serverImageKind(ref);
  return kind === 'postgres' || kind === 'redis' ? `berth.local/${kind}:${STAND_IN_TAG}` : undefined;
}

/**
 * What the pod says when `image` (its `org.opencontainers.image.version` label `version`, ID `id`) runs
 * for `ref`: the version that runs, which is Debian 12's, not the tag's.
 */
export function describeStandIn(ref: ImageRef, image: string, version: string, id: string): StandIn {
  const digest = id.startsWith('sha256:') ? id : `sha256:${id}`;
  const repo = image.replace(/:[^:/]+$/, '');
  const what = `${repo.split('/').pop() ?? repo} ${version || 'of unknown version'} from Debian 12's packages`;
  return {
    image,
    imageId: `${repo}@${digest}`,
    message: `Image "${ref.normalized}" is not in local storage and no public registry is reachable: running ${image} (${what}) in its place`,
  };
}

/**
 * The container as the sandbox starts it: a Redis or PostgreSQL server gets its listen address, the pod
 * IP, as its last argument (the last one wins), because every pod shares the machine's network, where
 * `*` includes 127.0.0.1:6379 and :5432, the machine's own servers. Only when the container runs the
 * image's server (no `command`, or one naming `redis-server`/`postgres`/the official entrypoint); a
 * client (`redis-cli`, `psql` in a Job) is left as written. berth's postgres image reads POD_IP too;
 * the argument also covers the official images when podman has them.
 */
export function podServerContainer(kind: ServerImageKind | undefined, container: Record<string, unknown>, podIP: string): Record<string, unknown> {
  if (kind !== 'postgres' && kind !== 'redis') return container;
  const command = asArray(container['command']).map(String);
  const args = asArray(container['args']).map(String);
  const program = (command[0] ?? '').split('/').pop() ?? '';
  const server = kind === 'redis' ? 'redis-server' : 'postgres';
  const runsServer =
    command.length === 0
      ? args.length === 0 || (args[0] ?? '').startsWith('-') || (kind === 'redis' && (args[0] === server || (args[0] ?? '').endsWith('.conf'))) || (kind === 'postgres' && args[0] === server)
      : program === server || (program === 'docker-entrypoint.sh' && (command[1] ?? args[0] ?? server) === server);
  if (!runsServer) return container;
  const listen = kind === 'redis' ? ['--bind', podIP] : ['-c', `listen_addresses=${podIP}`];
  // Args replace the image's CMD: keep what the CMD means (`postgres`; Redis' protected mode off, as the official image).
  const cmd = kind === 'postgres' ? ['postgres'] : ['--protected-mode', 'no'];
  const base = args.length === 0 && command.length === 0 ? cmd : args;
  return { ...container, args: [...base, ...listen] };
}
