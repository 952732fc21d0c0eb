import { randomBytes } from 'node:crypto';
import type { Clock } from '../client/clock.ts';
import { sleep } from '../client/clock.ts';
import { asArray, asRecord, str } from '../client/objects.ts';
import type { ImageRef } from './imageCatalog.ts';
import { imageId, lookupImage, pullNotFoundMessage } from './imageCatalog.ts';

/**
 * The seam between the simulated kubelet and whatever runs containers. `SimulatedRuntime` is
 * catalog-driven and starts no processes; sandbox/processruntime plugs in a runtime that starts
 * `berth.local/*` images as real child processes, usually by wrapping this one and delegating
 * every other image to it. The kubelet owns everything Kubernetes-visible (status, events,
 * restarts, back-off, probes' timing, graceful deletion); a runtime only pulls, starts, stops,
 * probes and produces output.
 */
export interface ContainerRuntime {
  /** The containerID scheme, e.g. "containerd". */
  readonly name: string;
  /** Pulls an image; throws ImagePullError (its message becomes the ErrImagePull message). */
  pull(ref: ImageRef, signal: AbortSignal): Promise<PullResult>;
  /** Image metadata needed before start; undefined when the runtime cannot tell. */
  inspect(ref: ImageRef): ImageInfo | undefined;
  /** Starts a container; rejects to report a StartError/RunContainerError. */
  start(req: StartRequest): Promise<RunningContainer>;
  /** The pod is gone from the API and its containers are stopped: drop what the runtime keeps for it (volumes). */
  podRemoved?(podUid: string): void;
  /**
   * The pod whose process holds the client end (`remote`) of a connection a sandbox listener
   * accepted on `local`: undefined when no pod of this runtime holds it, 'unknown' when a process
   * holds it that cannot be attributed (the Service proxy refuses it under a NetworkPolicy).
   */
  connectionSource?(local: { address: string; port: number }, remote: { address: string; port: number }): Promise<{ namespace: string; name: string } | 'unknown' | undefined>;
}

export interface PullResult {
  imageId: string;
  sizeBytes: number;
  /** Pull duration to report in the Pulled event (simulated, before time scaling). */
  seconds: number;
}

export interface ImageInfo {
  runsAsRoot: boolean;
  /**
   * Set when the runtime runs another image than the one named (the container runtime's stand-ins for
   * official postgres/redis images): the imageID to report and the event saying what runs instead.
   */
  standIn?: { imageId: string; message: string };
}

export interface StartRequest {
  pod: { namespace: string; name: string; uid: string; annotations: Record<string, string>; restartPolicy: string };
  /** The container as written in the pod spec. */
  container: Record<string, unknown>;
  image: ImageRef;
  /** Resolved environment, in order, after ConfigMap/Secret/fieldRef expansion. */
  env: { name: string; value: string }[];
  podIP: string;
  /**
   * Host directories of the pod's persistentVolumeClaim volumes, by volume name, resolved by the
   * kubelet through each claim's bound PersistentVolume; a runtime mounts them where the
   * container's volumeMounts say (the process runtime maps paths instead, having no mounts).
   */
  claimPaths?: Record<string, string>;
  restartCount: number;
  isInit: boolean;
  /** Receives every output line; the kubelet timestamps and stores them for pods/log. */
  output(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface ContainerExit {
  exitCode: number;
  /** Kubernetes' terminated reason: Completed, Error, OOMKilled, ... */
  reason: string;
  message?: string;
}

export interface ProbeResult {
  success: boolean;
  /** Failure detail for the Unhealthy event, e.g. `HTTP probe failed with statuscode: 500`. */
  message?: string;
}

export interface RunningContainer {
  /** Without scheme; the kubelet reports `<runtime.name>://<id>`. */
  readonly id: string;
  /** Settles when the container exits on its own or after stop(). */
  readonly exited: Promise<ContainerExit>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs: number): Promise<ContainerExit>;
  probe(kind: 'startup' | 'readiness' | 'liveness', probe: Record<string, unknown>): Promise<ProbeResult>;
}

export class ImagePullError extends Error {}

/** Annotations that script the simulated behaviour of a pod's containers. */
export const EXIT_CODE_ANNOTATION = 'sandbox.berth.dev/exit-code';
export const RUN_SECONDS_ANNOTATION = 'sandbox.berth.dev/run-seconds';
/** Terminated reason to report, e.g. OOMKilled (with exit code 137) to rehearse memory-limit failures. */
export const EXIT_REASON_ANNOTATION = 'sandbox.berth.dev/exit-reason';
/** Comma-separated probe kinds (startup, readiness, liveness) that fail, to rehearse unhealthy pods. */
export const FAIL_PROBES_ANNOTATION = 'sandbox.berth.dev/fail-probes';

/** The failure a simulated probe reports, in the kubelet prober's words. */
export function probeFailureMessage(probe: Record<string, unknown>): string {
  const http = asRecord(probe['httpGet']);
  if (Object.keys(http).length) return 'HTTP probe failed with statuscode: 500';
  const tcp = asRecord(probe['tcpSocket']);
  if (Object.keys(tcp).length) return `dial tcp: connect: connection refused (port ${String(tcp['port'])})`;
  if (Object.keys(asRecord(probe['grpc'])).length) return 'service unhealthy (responded with "NOT_SERVING")';
  return 'command terminated with non-zero exit code: exit status 1';
}

export interface RunPlan {
  /** undefined: runs until stopped. */
  exitAfterSeconds?: number;
  exitCode: number;
  /** Overrides Completed/Error. */
  reason?: string;
  lines: string[];
}

function annotation(ann: Record<string, string>, base: string, container: string): string | undefined {
  return ann[`${base}.${container}`] ?? ann[base];
}

/**
 * Decides what a simulated container does, from (in order) the pod's annotations, the catalog
 * behaviour and a reading of common commands (`false`, `true`, `exit N`, `sleep N`, `echo ...`).
 * Pods that do not restart (Jobs) run briefly and succeed unless told otherwise.
 */
export function planRun(req: Pick<StartRequest, 'pod' | 'container' | 'image' | 'isInit'>): RunPlan {
  const entry = lookupImage(req.image);
  const cname = str(req.container['name']) ?? '';
  const argv = [...asArray(req.container['command']), ...asArray(req.container['args'])].map(String);
  const script = argv.join(' ');
  const lines = [...(entry?.startLines?.(req.image.tag) ?? [])];
  for (const m of script.matchAll(/echo\s+(?:"([^"]*)"|'([^']*)'|([^;&|]+))/g)) lines.push((m[1] ?? m[2] ?? m[3] ?? '').trim());
  const oneShot = req.isInit || req.pod.restartPolicy !== 'Always';
  const short = 1;

  const annCode = annotation(req.pod.annotations, EXIT_CODE_ANNOTATION, cname);
  const annRun = annotation(req.pod.annotations, RUN_SECONDS_ANNOTATION, cname);
  const annReason = annotation(req.pod.annotations, EXIT_REASON_ANNOTATION, cname);
  if (annCode !== undefined || annRun !== undefined || annReason !== undefined) {
    const code = Number(annCode ?? (annReason === 'OOMKilled' ? 137 : annReason ? 1 : 0)) || 0;
    const run = annRun === undefined ? short : Number(annRun);
    const plan: RunPlan = { exitAfterSeconds: Number.isFinite(run) && run >= 0 ? run : short, exitCode: code, lines };
    if (annReason) plan.reason = annReason;
    return plan;
  }
  if (entry?.behaviour === 'crash') return { exitAfterSeconds: short, exitCode: 1, lines };
  if (entry?.behaviour === 'oneshot') return { exitAfterSeconds: short, exitCode: 0, lines };

  const prog = (argv[0] ?? '').split('/').pop() ?? '';
  if (prog === 'false') return { exitAfterSeconds: 0.2, exitCode: 1, lines };
  if (prog === 'true') return { exitAfterSeconds: 0.2, exitCode: 0, lines };
  const exit = /\bexit\s+(\d+)/.exec(script);
  if (exit) return { exitAfterSeconds: short, exitCode: Number(exit[1]), lines };
  if (/sleep\s+infinity|while\s+true|tail\s+-f|sleep\s+\d{4,}/.test(script)) return oneShot ? { exitAfterSeconds: short, exitCode: 0, lines } : { exitCode: 0, lines };
  const sl = /\bsleep\s+(\d+(?:\.\d+)?)/.exec(script);
  if (sl && argv.length > 0) return { exitAfterSeconds: Number(sl[1]), exitCode: 0, lines };
  if (oneShot) return { exitAfterSeconds: short, exitCode: 0, lines };
  if (lines.length === 0 && entry?.behaviour !== 'tool') lines.push(`[berth sandbox] simulated container "${cname}" started from ${req.image.normalized}`);
  return { exitCode: 0, lines };
}

export interface SimulatedRuntimeOptions {
  clock: Clock;
  timeScale: number;
}

/** Containers that exist only as timers, with behaviour from the image catalog. */
export class SimulatedRuntime implements ContainerRuntime {
  readonly name = 'containerd';
  constructor(private readonly opts: SimulatedRuntimeOptions) {}

  inspect(ref: ImageRef): ImageInfo | undefined {
    const e = lookupImage(ref);
    if (!e) return undefined;
    // distroless ":nonroot" variants and explicit nonroot tags run as 65532.
    return { runsAsRoot: e.runsAsRoot && !/nonroot/.test(ref.tag) };
  }

  async pull(ref: ImageRef, signal: AbortSignal): Promise<PullResult> {
    const e = lookupImage(ref);
    const seconds = e ? e.pullSeconds : 0.8;
    await sleep(this.opts.clock, seconds * 1000 * this.opts.timeScale, signal);
    if (!e) throw new ImagePullError(pullNotFoundMessage(ref));
    return { imageId: imageId(ref), sizeBytes: e.sizeBytes, seconds };
  }

  async start(req: StartRequest): Promise<RunningContainer> {
    const plan = planRun(req);
    const { clock, timeScale } = this.opts;
    const id = randomBytes(32).toString('hex');
    let settle!: (e: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (settle = r));
    let done = false;
    const finish = (e: ContainerExit): void => {
      if (done) return;
      done = true;
      cancelExit();
      settle(e);
    };
    // Output appears right after start, like a process's first writes.
    const cancelOutput = clock.setTimeout(() => {
      for (const l of plan.lines) req.output(l, 'stdout');
      if (plan.exitCode !== 0 && plan.exitAfterSeconds !== undefined) req.output(`exit status ${plan.exitCode}`, 'stderr');
    }, 0);
    const cancelExit =
      plan.exitAfterSeconds === undefined
        ? () => undefined
        : clock.setTimeout(() => finish({ exitCode: plan.exitCode, reason: plan.reason ?? (plan.exitCode === 0 ? 'Completed' : 'Error') }), plan.exitAfterSeconds * 1000 * timeScale);
    return {
      id,
      exited,
      stop: async (graceMs) => {
        cancelOutput();
        // A well-behaved server exits on SIGTERM well within its grace period.
        await sleep(clock, Math.min(graceMs, 1000 * timeScale));
        finish({ exitCode: 0, reason: 'Completed' });
        return exited;
      },
      probe: async (kind, probe) => {
        const failing = annotation(req.pod.annotations, FAIL_PROBES_ANNOTATION, str(req.container['name']) ?? '') ?? '';
        if (done) return { success: false, message: 'container is not running' };
        if (failing.split(',').map((x) => x.trim()).includes(kind)) return { success: false, message: probeFailureMessage(probe) };
        return { success: true };
      },
    };
  }
}

/** Reads a probe's timing fields with Kubernetes defaults. */
export function probeTiming(probe: unknown): { initialDelaySeconds: number; periodSeconds: number; failureThreshold: number; successThreshold: number; timeoutSeconds: number } | undefined {
  if (!probe || typeof probe !== 'object') return undefined;
  const p = asRecord(probe);
  const n = (k: string, d: number): number => (typeof p[k] === 'number' ? (p[k] as number) : d);
  return {
    initialDelaySeconds: n('initialDelaySeconds', 0),
    periodSeconds: n('periodSeconds', 10),
    failureThreshold: n('failureThreshold', 3),
    successThreshold: n('successThreshold', 1),
    timeoutSeconds: n('timeoutSeconds', 1),
  };
}
