import { createHash } from 'node:crypto';

/**
 * The simulated registry: which images "exist", how big they are, how long a pull takes, whether
 * they run as root, and what they print on start. Anything not listed here (and not under
 * `berth.local/`) fails to pull exactly like a missing image on Docker Hub.
 */

export interface ImageRef {
  /** As written in the pod spec. */
  raw: string;
  /** e.g. docker.io */
  registry: string;
  /** e.g. library/nginx */
  path: string;
  tag: string;
  digest?: string;
  /** Fully qualified, as containerd reports it: docker.io/library/nginx:1.27 */
  normalized: string;
}

export type ImageBehaviour =
  /** A long-running server. */
  | 'server'
  /** A toolbox (shell, runtime): runs its command; without one it idles like `sleep infinity`. */
  | 'tool'
  /** Exits non-zero shortly after start, for exercising CrashLoopBackOff. */
  | 'crash'
  /** Exits 0 after a short run, for Jobs. */
  | 'oneshot';

export interface CatalogEntry {
  /** Repository names matched after registry normalisation (see `catalogName`). */
  names: string[];
  behaviour: ImageBehaviour;
  sizeBytes: number;
  /** Simulated pull time in seconds (multiplied by timeScale). */
  pullSeconds: number;
  /** Default user is root, so `runAsNonRoot: true` without `runAsUser` is refused by the kubelet. */
  runsAsRoot: boolean;
  /** Start-up lines; `v` is the tag. */
  startLines?: (v: string) => string[];
}

const MB = 1024 * 1024;

const nginxLines = (v: string): string[] => [
  '/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration',
  '/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/',
  '/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh',
  '10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf',
  '10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf',
  '/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh',
  '/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh',
  '/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh',
  '/docker-entrypoint.sh: Configuration complete; ready for start up',
  '[notice] 1#1: using the "epoll" event method',
  `[notice] 1#1: nginx/${/^\d/.test(v) ? v : '1.27.3'}`,
  '[notice] 1#1: OS: Linux',
  '[notice] 1#1: start worker processes',
  '[notice] 1#1: start worker process 29',
];

export const CATALOG: readonly CatalogEntry[] = [
  { names: ['nginx', 'nginxinc/nginx-unprivileged'], behaviour: 'server', sizeBytes: 72 * MB, pullSeconds: 1.2, runsAsRoot: true, startLines: nginxLines },
  {
    names: ['httpd'],
    behaviour: 'server',
    sizeBytes: 58 * MB,
    pullSeconds: 1.1,
    runsAsRoot: true,
    startLines: () => [
      'AH00558: httpd: Could not reliably determine the server\'s fully qualified domain name, using 127.0.0.1. Set the \'ServerName\' directive globally to suppress this message',
      '[mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations',
      "[core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'",
    ],
  },
  { names: ['busybox'], behaviour: 'tool', sizeBytes: 2 * MB, pullSeconds: 0.4, runsAsRoot: true },
  { names: ['alpine'], behaviour: 'tool', sizeBytes: 4 * MB, pullSeconds: 0.5, runsAsRoot: true },
  { names: ['ubuntu', 'debian'], behaviour: 'tool', sizeBytes: 29 * MB, pullSeconds: 0.9, runsAsRoot: true },
  { names: ['curlimages/curl'], behaviour: 'tool', sizeBytes: 11 * MB, pullSeconds: 0.6, runsAsRoot: false },
  {
    names: ['redis', 'bitnami/redis'],
    behaviour: 'server',
    sizeBytes: 45 * MB,
    pullSeconds: 1.0,
    runsAsRoot: true,
    startLines: (v) => [
      '1:C * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo',
      `1:C * Redis version=${/^\d/.test(v) ? v : '7.4.1'}, bits=64, commit=00000000, modified=0, pid=1, just started`,
      '1:M * monotonic clock: POSIX clock_gettime',
      '1:M * Running mode=standalone, port=6379.',
      '1:M * Server initialized',
      '1:M * Ready to accept connections tcp',
    ],
  },
  {
    names: ['postgres', 'bitnami/postgresql'],
    behaviour: 'server',
    sizeBytes: 155 * MB,
    pullSeconds: 3.5,
    runsAsRoot: true,
    startLines: () => [
      'PostgreSQL init process complete; ready for start up.',
      'LOG:  starting PostgreSQL 16.4 on x86_64-pc-linux-gnu',
      'LOG:  listening on IPv4 address "0.0.0.0", port 5432',
      'LOG:  database system is ready to accept connections',
    ],
  },
  { names: ['mongo'], behaviour: 'server', sizeBytes: 270 * MB, pullSeconds: 4.5, runsAsRoot: true, startLines: () => ['{"t":{"$date":"now"},"s":"I","c":"NETWORK","msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}}'] },
  { names: ['mysql', 'mariadb'], behaviour: 'server', sizeBytes: 170 * MB, pullSeconds: 3.8, runsAsRoot: true, startLines: () => ['[Server] /usr/sbin/mysqld: ready for connections. Version: \'8.4.3\'  socket: \'/var/run/mysqld/mysqld.sock\'  port: 3306'] },
  { names: ['rabbitmq'], behaviour: 'server', sizeBytes: 95 * MB, pullSeconds: 2.2, runsAsRoot: true, startLines: () => ['[info] <0.9.0> Server startup complete; 0 plugins started.'] },
  { names: ['memcached'], behaviour: 'server', sizeBytes: 30 * MB, pullSeconds: 0.8, runsAsRoot: false },
  { names: ['traefik'], behaviour: 'server', sizeBytes: 48 * MB, pullSeconds: 1.1, runsAsRoot: true, startLines: () => ['level=info msg="Configuration loaded from flags."'] },
  { names: ['haproxy'], behaviour: 'server', sizeBytes: 40 * MB, pullSeconds: 1.0, runsAsRoot: false },
  { names: ['caddy'], behaviour: 'server', sizeBytes: 20 * MB, pullSeconds: 0.7, runsAsRoot: true },
  { names: ['kennethreitz/httpbin'], behaviour: 'server', sizeBytes: 200 * MB, pullSeconds: 4, runsAsRoot: true, startLines: () => ['[INFO] Starting gunicorn 19.9.0', '[INFO] Listening at: http://0.0.0.0:80 (1)', '[INFO] Using worker: gevent'] },
  { names: ['mccutchen/go-httpbin'], behaviour: 'server', sizeBytes: 15 * MB, pullSeconds: 0.6, runsAsRoot: false, startLines: () => ['time=now level=INFO msg="go-httpbin listening on http://0.0.0.0:8080"'] },
  { names: ['hashicorp/http-echo', 'ealen/echo-server', 'jmalloc/echo-server', 'k8s.gcr.io/echoserver', 'registry.k8s.io/echoserver'], behaviour: 'server', sizeBytes: 10 * MB, pullSeconds: 0.5, runsAsRoot: false },
  { names: ['registry.k8s.io/pause', 'k8s.gcr.io/pause'], behaviour: 'server', sizeBytes: 300 * 1024, pullSeconds: 0.3, runsAsRoot: false },
  { names: ['gcr.io/distroless/static', 'gcr.io/distroless/static-debian12', 'gcr.io/distroless/base', 'gcr.io/distroless/base-debian12', 'gcr.io/distroless/cc', 'gcr.io/distroless/cc-debian12', 'gcr.io/distroless/nodejs20-debian12', 'gcr.io/distroless/nodejs22-debian12', 'gcr.io/distroless/python3-debian12', 'gcr.io/distroless/java17-debian12', 'gcr.io/distroless/java21-debian12'], behaviour: 'server', sizeBytes: 2 * MB, pullSeconds: 0.4, runsAsRoot: true },
  { names: ['node'], behaviour: 'tool', sizeBytes: 380 * MB, pullSeconds: 5, runsAsRoot: true },
  { names: ['python'], behaviour: 'tool', sizeBytes: 370 * MB, pullSeconds: 5, runsAsRoot: true },
  { names: ['golang'], behaviour: 'tool', sizeBytes: 290 * MB, pullSeconds: 4.5, runsAsRoot: true },
  { names: ['openjdk', 'eclipse-temurin', 'amazoncorretto'], behaviour: 'tool', sizeBytes: 190 * MB, pullSeconds: 3.5, runsAsRoot: true },
  {
    names: ['prom/prometheus', 'quay.io/prometheus/prometheus'],
    behaviour: 'server',
    sizeBytes: 110 * MB,
    pullSeconds: 2.4,
    runsAsRoot: false,
    startLines: () => ['level=INFO source=main.go msg="Starting Prometheus Server" mode=server', 'level=INFO source=web.go msg="Start listening for connections" address=0.0.0.0:9090', 'level=INFO source=main.go msg="Server is ready to receive web requests."'],
  },
  { names: ['prom/alertmanager', 'prom/node-exporter', 'prom/pushgateway', 'quay.io/prometheus/alertmanager', 'quay.io/prometheus/node-exporter'], behaviour: 'server', sizeBytes: 30 * MB, pullSeconds: 1, runsAsRoot: false },
  { names: ['grafana/grafana', 'grafana/grafana-oss'], behaviour: 'server', sizeBytes: 140 * MB, pullSeconds: 3, runsAsRoot: false, startLines: () => ['logger=settings level=info msg="Starting Grafana"', 'logger=http.server level=info msg="HTTP Server Listen" address=[::]:3000 protocol=http'] },
  { names: ['grafana/loki', 'grafana/promtail'], behaviour: 'server', sizeBytes: 80 * MB, pullSeconds: 1.8, runsAsRoot: false },
  { names: ['minio/minio', 'quay.io/minio/minio', 'bitnami/minio'], behaviour: 'server', sizeBytes: 60 * MB, pullSeconds: 1.5, runsAsRoot: true },
  { names: ['registry'], behaviour: 'server', sizeBytes: 10 * MB, pullSeconds: 0.5, runsAsRoot: true },
  { names: ['quay.io/jetstack/cert-manager-controller', 'registry.k8s.io/ingress-nginx/controller'], behaviour: 'server', sizeBytes: 100 * MB, pullSeconds: 2, runsAsRoot: false },
  { names: ['fortio/fortio', 'williamyeh/hey', 'grafana/k6', 'jordi/ab'], behaviour: 'tool', sizeBytes: 20 * MB, pullSeconds: 0.7, runsAsRoot: false },
  // Exercising failure modes on purpose.
  { names: ['berth.local/crashloop'], behaviour: 'crash', sizeBytes: 1 * MB, pullSeconds: 0.1, runsAsRoot: false, startLines: () => ['starting...', 'fatal: simulated crash (berth.local/crashloop)'] },
  { names: ['berth.local/oneshot'], behaviour: 'oneshot', sizeBytes: 1 * MB, pullSeconds: 0.1, runsAsRoot: false, startLines: () => ['done'] },
];

const BY_NAME = new Map<string, CatalogEntry>();
for (const e of CATALOG) for (const n of e.names) BY_NAME.set(n, e);

/** Registries whose repositories are matched by path alone, so ghcr.io/x/y and x/y are the same image. */
const MIRRORED_REGISTRIES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'ghcr.io', 'quay.io']);

export class InvalidImageNameError extends Error {}

/** Parses and normalises like containerd's reference.ParseDockerRef; throws InvalidImageNameError. */
export function parseImageRef(raw: string): ImageRef {
  const bad = (): never => {
    throw new InvalidImageNameError(`Failed to apply default image tag "${raw}": couldn't parse image name "${raw}": invalid reference format`);
  };
  if (!raw || /\s/.test(raw)) bad();
  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest)) bad();
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  let last = parts.pop() ?? '';
  let tag = 'latest';
  const colon = last.lastIndexOf(':');
  if (colon >= 0) {
    tag = last.slice(colon + 1);
    last = last.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) bad();
  }
  parts.push(last);
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  for (const c of parts) if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(c)) bad();
  const path = parts.join('/');
  const base = `${registry}/${path}`;
  const normalized = digest ? `${base}@${digest}` : `${base}:${tag}`;
  const ref: ImageRef = { raw, registry, path, tag, normalized };
  if (digest) ref.digest = digest;
  return ref;
}

/** The name an image is looked up by: docker.io/library/nginx → nginx, gcr.io/distroless/static → itself. */
export function catalogName(ref: ImageRef): string {
  if (MIRRORED_REGISTRIES.has(ref.registry)) return ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
  return `${ref.registry}/${ref.path}`;
}

/** `berth.local/<anything>`: images the process runtime builds and runs as local processes. */
export function isLocalImage(ref: ImageRef): boolean {
  return ref.registry === 'berth.local';
}

export function lookupImage(ref: ImageRef): CatalogEntry | undefined {
  const n = catalogName(ref);
  const direct = BY_NAME.get(n);
  if (direct) return direct;
  if (MIRRORED_REGISTRIES.has(ref.registry)) {
    const alias = BY_NAME.get(`${ref.registry}/${ref.path}`);
    if (alias) return alias;
  }
  if (isLocalImage(ref)) return { names: [n], behaviour: 'server', sizeBytes: 8 * MB, pullSeconds: 0.1, runsAsRoot: false };
  return undefined;
}

/** A stable fake digest so imageID looks like containerd's `docker.io/library/nginx@sha256:...`. */
export function imageId(ref: ImageRef): string {
  const base = `${ref.registry}/${ref.path}`;
  return `${base}@${ref.digest ?? `sha256:${createHash('sha256').update(ref.normalized).digest('hex')}`}`;
}

/** containerd's pull error for an image that does not exist. */
export function pullNotFoundMessage(ref: ImageRef): string {
  const full = ref.normalized;
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${full}": failed to resolve reference "${full}": ${full}: not found`;
}
