import { randomInt } from 'node:crypto';
import type { ClusterClient, Controller, KObject } from '../types.ts';
import type { Clock } from '../controllers/clock.ts';
import { rfc3339, sleep, untilAborted } from '../controllers/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import type { EventRecorder, EventType } from '../client/eventRecorder.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import type { Condition } from '../client/objects.ts';
import { asArray, asRecord, errorMessage, isApiError, isTerminal, num, objKey, spec, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import type { ImageRef } from './imageCatalog.ts';
import { InvalidImageNameError, parseImageRef } from './imageCatalog.ts';
import type { LogInstance, LogStore } from './logs.ts';
import type { NodeCapacity } from './nodes.ts';
import { DEFAULT_CAPACITY, nodeIP, nodeName, nodeObject, PodIPAllocator } from './nodes.ts';
import type { ContainerRuntime, RunningContainer } from './runtime.ts';
import { probeTiming } from './runtime.ts';

type State = { waiting: { reason: string; message?: string } } | { running: { startedAt: string } } | { terminated: Record<string, unknown> };

interface ContainerState {
  name: string;
  isInit: boolean;
  spec: Record<string, unknown>;
  state: State;
  lastState: State | Record<string, never>;
  ready: boolean;
  started: boolean;
  restartCount: number;
  containerID?: string;
  imageID?: string;
  image: string;
  instance?: RunningContainer;
  startedAtMs?: number;
}

export class ConfigError extends Error {}

/** Resolves env and envFrom like the kubelet, with its error messages; `optional` references are skipped. */
export async function resolveEnv(client: ClusterClient, pod: KObject, container: Record<string, unknown>, podIP: string, hostIP: string): Promise<{ name: string; value: string }[]> {
  const ns = pod.metadata.namespace ?? 'default';
  const cache = new Map<string, KObject | undefined>();
  const get = async (kind: 'configmap' | 'secret', name: string): Promise<KObject | undefined> => {
    const k = `${kind}/${name}`;
    if (!cache.has(k)) cache.set(k, await client.get(kind === 'configmap' ? RES.configmaps : RES.secrets, ns, name));
    return cache.get(k);
  };
  const dataOf = (kind: 'configmap' | 'secret', o: KObject): Record<string, string> => {
    if (kind === 'configmap') return { ...(asRecord(o['binaryData']) as Record<string, string>), ...(asRecord(o['data']) as Record<string, string>) };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(asRecord(o['data']))) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
    for (const [k, v] of Object.entries(asRecord(o['stringData']))) out[k] = String(v);
    return out;
  };
  const env: { name: string; value: string }[] = [];
  const set = (name: string, value: string): void => {
    const i = env.findIndex((e) => e.name === name);
    if (i >= 0) env.splice(i, 1);
    env.push({ name, value });
  };
  for (const ef of asArray(container['envFrom'])) {
    const r = asRecord(ef);
    const prefix = str(r['prefix']) ?? '';
    for (const kind of ['configmap', 'secret'] as const) {
      const ref = asRecord(r[kind === 'configmap' ? 'configMapRef' : 'secretRef']);
      const name = str(ref['name']);
      if (!name) continue;
      const o = await get(kind, name);
      if (!o) {
        if (ref['optional'] === true) continue;
        throw new ConfigError(`${kind} "${name}" not found`);
      }
      for (const [k, v] of Object.entries(dataOf(kind, o))) set(prefix + k, v);
    }
  }
  const labelsAnn = (field: string): string | undefined => {
    const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(field);
    if (!m) return undefined;
    const src = m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return src?.[m[2] ?? ''] ?? '';
  };
  for (const e of asArray(container['env'])) {
    const r = asRecord(e);
    const name = str(r['name']) ?? '';
    if (typeof r['value'] === 'string') {
      // $(VAR) expansion against earlier variables, as the kubelet does.
      set(
        name,
        r['value'].replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, v: string) => env.find((x) => x.name === v)?.value ?? whole),
      );
      continue;
    }
    const vf = asRecord(r['valueFrom']);
    for (const kind of ['configmap', 'secret'] as const) {
      const ref = asRecord(vf[kind === 'configmap' ? 'configMapKeyRef' : 'secretKeyRef']);
      const refName = str(ref['name']);
      if (!refName) continue;
      const key = str(ref['key']) ?? '';
      const o = await get(kind, refName);
      if (!o) {
        if (ref['optional'] === true) continue;
        throw new ConfigError(`${kind} "${refName}" not found`);
      }
      const data = dataOf(kind, o);
      if (!(key in data)) {
        if (ref['optional'] === true) continue;
        throw new ConfigError(`couldn't find key ${key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${ns}/${refName}`);
      }
      set(name, data[key] ?? '');
    }
    const fr = asRecord(vf['fieldRef']);
    const fp = str(fr['fieldPath']);
    if (fp) {
      const values: Record<string, string> = {
        'metadata.name': pod.metadata.name ?? '',
        'metadata.namespace': ns,
        'metadata.uid': pod.metadata.uid ?? '',
        'spec.nodeName': str(spec(pod)['nodeName']) ?? '',
        'spec.serviceAccountName': str(spec(pod)['serviceAccountName']) ?? 'default',
        'status.hostIP': hostIP,
        'status.hostIPs': hostIP,
        'status.podIP': podIP,
        'status.podIPs': podIP,
      };
      set(name, values[fp] ?? labelsAnn(fp) ?? '');
    }
    const rf = asRecord(vf['resourceFieldRef']);
    const res = str(rf['resource']);
    if (res) {
      // Reported as written in the spec (no divisor arithmetic).
      const [section, resName] = res.split('.');
      const q = asRecord(asRecord(container['resources'])[section ?? ''])[resName ?? ''];
      set(name, q === undefined ? '0' : String(q));
    }
  }
  return env;
}

/** QoS class as the apiserver computes it. */
export function qosClass(podSpec: Record<string, unknown>): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs = [...asArray(podSpec['containers']), ...asArray(podSpec['initContainers'])].map((c) => asRecord(asRecord(c)['resources']));
  const any = cs.some((r) => Object.keys(asRecord(r['requests'])).length > 0 || Object.keys(asRecord(r['limits'])).length > 0);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((r) => {
    const req = asRecord(r['requests']);
    const lim = asRecord(r['limits']);
    return ['cpu', 'memory'].every((k) => lim[k] !== undefined && (req[k] === undefined || String(req[k]) === String(lim[k])));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function fmtDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  return `${Number(seconds.toFixed(3))}s`;
}

export interface KubeletOptions {
  nodes: number;
  runtime: ContainerRuntime;
  logs: LogStore;
  capacity?: NodeCapacity;
}

/**
 * The simulated kubelets of all sandbox nodes: registers the Node objects, then runs a worker per
 * pod bound to one of them, reporting status and events as a real kubelet does.
 */
export class Kubelet implements Controller {
  readonly name = 'kubelet';
  private readonly podInf: SharedInformer;
  private readonly workers = new Map<string, PodWorker>();
  readonly ips = new PodIPAllocator(randomInt(0, 60_000));
  private readonly nodeNames: Map<string, number>;
  readonly images = new Map<string, Set<string>>();
  private started = false;

  constructor(
    readonly ctx: ControllerContext,
    readonly opts: KubeletOptions,
  ) {
    this.podInf = ctx.informers.for(RES.pods);
    this.nodeNames = new Map(Array.from({ length: opts.nodes }, (_, i) => [nodeName(i + 1), i + 1]));
    this.podInf.addHandler({
      add: (p) => this.onPod(p),
      update: (_o, p) => this.onPod(p),
      delete: (p) => this.onDelete(p),
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.registerNodes();
    await this.podInf.start();
    for (const p of this.podInf.list()) this.onPod(p);
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.workers.values()].map((w) => w.kill()));
    this.workers.clear();
  }

  recorderFor(node: string): EventRecorder {
    return this.ctx.recorder('kubelet').forHost(node);
  }

  hostIP(node: string): string {
    return nodeIP(this.nodeNames.get(node) ?? 1);
  }

  imagesOn(node: string): Set<string> {
    let s = this.images.get(node);
    if (!s) {
      s = new Set();
      this.images.set(node, s);
    }
    return s;
  }

  private async registerNodes(): Promise<void> {
    const cap = this.opts.capacity ?? DEFAULT_CAPACITY;
    for (const [name, i] of this.nodeNames) {
      const obj = nodeObject(i, cap, this.ctx.clock.now());
      let cur: KObject | undefined;
      try {
        cur = await this.ctx.client.create(RES.nodes, obj);
      } catch (err) {
        if (!isApiError(err, 409)) throw err;
        cur = await this.ctx.client.get(RES.nodes, undefined, name);
      }
      // Create may drop status (as for most kinds); the kubelet then reports it on the status subresource.
      if (cur && !asArray(status(cur)['conditions']).length) {
        await this.ctx.client.updateStatus(RES.nodes, { ...cur, status: obj['status'] });
      } else if (cur) {
        await this.ctx.client.patch(RES.nodes, undefined, name, { status: obj['status'] }, 'merge', { subresource: 'status' });
      }
    }
  }

  private onPod(p: KObject): void {
    if (!this.started) return;
    const node = str(spec(p)['nodeName']);
    const uid = p.metadata.uid ?? objKey(p);
    if (!node) {
      // Nobody will run an unbound pod, so graceful deletion has nothing to wait for.
      if (p.metadata.deletionTimestamp) void this.ctx.client.delete(RES.pods, p.metadata.namespace, p.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    if (!this.nodeNames.has(node)) return;
    let w = this.workers.get(uid);
    if (!w) {
      if (isTerminal(p)) {
        // Finished before this kubelet saw it (e.g. after a restart): nothing to run or stop.
        if (p.metadata.deletionTimestamp) void this.ctx.client.delete(RES.pods, p.metadata.namespace, p.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
        return;
      }
      w = new PodWorker(this, p, node);
      this.workers.set(uid, w);
      w.run();
    } else {
      w.pod = p;
    }
    if (p.metadata.deletionTimestamp) void w.terminate();
  }

  private onDelete(p: KObject): void {
    const uid = p.metadata.uid ?? objKey(p);
    const w = this.workers.get(uid);
    this.workers.delete(uid);
    void w?.kill();
    this.opts.logs.dropPod(uid);
  }

  /** For tests. */
  worker(uid: string): PodWorker | undefined {
    return this.workers.get(uid);
  }
}

/** Runs one pod: sandbox, init containers, containers with restarts and probes, graceful stop. */
export class PodWorker {
  private readonly abort = new AbortController();
  private readonly containers: ContainerState[];
  private readonly inits: ContainerState[];
  private podIP: string | undefined;
  private readonly startTime: string;
  private sandboxReady = false;
  private initDone = false;
  private terminating = false;
  private killed = false;
  private readonly transitions = new Map<string, { status: string; at: string }>();
  private writing: Promise<void> | undefined;
  private dirty = false;
  private readonly clock: Clock;
  private readonly recorder: EventRecorder;

  constructor(
    private readonly kubelet: Kubelet,
    public pod: KObject,
    private readonly node: string,
  ) {
    this.clock = kubelet.ctx.clock;
    this.recorder = kubelet.recorderFor(node);
    this.startTime = str(status(pod)['startTime']) ?? rfc3339(this.clock.now());
    const previous = [...asArray(status(pod)['containerStatuses']), ...asArray(status(pod)['initContainerStatuses'])].map(asRecord);
    const mk = (c: unknown, isInit: boolean): ContainerState => {
      const s = asRecord(c);
      const prev = previous.find((x) => x['name'] === s['name']);
      return {
        name: str(s['name']) ?? '',
        isInit,
        spec: s,
        state: { waiting: { reason: isInit ? 'PodInitializing' : 'ContainerCreating' } },
        lastState: {},
        ready: false,
        started: false,
        // Survives a sandbox restart, as restartCount survives a node reboot.
        restartCount: num(prev?.['restartCount'], 0),
        image: str(s['image']) ?? '',
      };
    };
    this.inits = asArray(spec(pod)['initContainers']).map((c) => mk(c, true));
    this.containers = asArray(spec(pod)['containers']).map((c) => mk(c, false));
    if (this.inits.length) for (const c of this.containers) c.state = { waiting: { reason: 'PodInitializing' } };
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  private scaled(seconds: number): number {
    return seconds * 1000 * this.kubelet.ctx.timeScale;
  }

  private event(type: EventType, reason: string, message: string, c?: ContainerState): void {
    const opts = c ? { fieldPath: `spec.${c.isInit ? 'initContainers' : 'containers'}{${c.name}}` } : {};
    this.recorder.event(this.pod, type, reason, message, opts);
  }

  private restartPolicy(): string {
    return str(spec(this.pod)['restartPolicy']) ?? 'Always';
  }

  private podRef(): string {
    return `${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})`;
  }

  run(): void {
    void this.main().catch((err) => {
      if (process.env['BERTH_SANDBOX_DEBUG']) console.error('[sandbox/kubelet]', errorMessage(err));
    });
  }

  /** Missing non-optional ConfigMap/Secret volumes keep the pod in ContainerCreating, as MountVolume.SetUp fails. */
  private async waitForVolumes(): Promise<boolean> {
    const ns = this.pod.metadata.namespace ?? 'default';
    for (;;) {
      const missing: string[] = [];
      for (const v0 of asArray(spec(this.pod)['volumes'])) {
        const v = asRecord(v0);
        const sources: [typeof RES.configmaps, 'configmap' | 'secret', Record<string, unknown>][] = [
          [RES.configmaps, 'configmap', asRecord(v['configMap'])],
          [RES.secrets, 'secret', asRecord(v['secret'])],
        ];
        for (const [res, kind, src] of sources) {
          const name = str(src[kind === 'configmap' ? 'name' : 'secretName']);
          if (!name || src['optional'] === true) continue;
          if (!(await this.kubelet.ctx.client.get(res, ns, name))) missing.push(`MountVolume.SetUp failed for volume "${str(v['name'])}" : ${kind} "${name}" not found`);
        }
      }
      if (missing.length === 0) return true;
      for (const m of missing) this.event('Warning', 'FailedMount', m);
      if (!(await sleep(this.clock, this.scaled(10), this.signal))) return false;
    }
  }

  private async main(): Promise<void> {
    this.publish();
    if (!(await this.waitForVolumes())) return;
    // Creating the sandbox (pause container, network) takes a moment.
    if (!(await sleep(this.clock, this.scaled(0.3), this.signal))) return;
    const hostNetwork = spec(this.pod)['hostNetwork'] === true;
    // A pod that already had an address (the sandbox restarted from persisted state) keeps it.
    const previousIP = str(status(this.pod)['podIP']);
    if (hostNetwork) this.podIP = this.kubelet.hostIP(this.node);
    else this.podIP = previousIP && this.kubelet.ips.claim(previousIP) ? previousIP : this.kubelet.ips.allocate();
    this.sandboxReady = true;
    this.publish();
    for (const c of this.inits) {
      const ok = await this.runContainer(c);
      if (!ok) return;
    }
    this.initDone = true;
    this.publish();
    await Promise.all(this.containers.map((c) => this.runContainer(c)));
  }

  /** Image pull with ErrImagePull / ImagePullBackOff; false when stopped. */
  private async ensureImage(c: ContainerState): Promise<ImageRef | undefined> {
    let ref: ImageRef;
    try {
      ref = parseImageRef(c.image);
    } catch (err) {
      const msg = err instanceof InvalidImageNameError ? err.message : errorMessage(err);
      c.state = { waiting: { reason: 'InvalidImageName', message: msg } };
      this.event('Warning', 'InspectFailed', msg, c);
      this.event('Warning', 'Failed', 'Error: InvalidImageName', c);
      this.publish();
      await untilAborted(this.signal);
      return undefined;
    }
    const images = this.kubelet.imagesOn(this.node);
    const policy = str(c.spec['imagePullPolicy']) ?? (ref.tag === 'latest' && !ref.digest ? 'Always' : 'IfNotPresent');
    const present = images.has(ref.normalized);
    if (policy === 'Never' && !present) {
      const msg = `Container image "${c.image}" is not present with pull policy of Never`;
      c.state = { waiting: { reason: 'ErrImageNeverPull', message: msg } };
      this.event('Warning', 'ErrImageNeverPull', msg, c);
      this.event('Warning', 'Failed', 'Error: ErrImageNeverPull', c);
      this.publish();
      await untilAborted(this.signal);
      return undefined;
    }
    if (present && policy !== 'Always') {
      this.event('Normal', 'Pulled', `Container image "${c.image}" already present on machine`, c);
      c.imageID = c.imageID ?? ref.normalized;
      return ref;
    }
    for (let attempt = 0; !this.signal.aborted; attempt++) {
      this.event('Normal', 'Pulling', `Pulling image "${c.image}"`, c);
      try {
        const r = await this.kubelet.opts.runtime.pull(ref, this.signal);
        if (this.signal.aborted) return undefined;
        images.add(ref.normalized);
        c.imageID = r.imageId;
        const d = fmtDuration(present ? Math.min(r.seconds, 0.3) : r.seconds);
        this.event('Normal', 'Pulled', `Successfully pulled image "${c.image}" in ${d} (${d} including waiting). Image size: ${r.sizeBytes} bytes.`, c);
        return ref;
      } catch (err) {
        if (this.signal.aborted) return undefined;
        const msg = errorMessage(err);
        c.state = { waiting: { reason: 'ErrImagePull', message: msg } };
        this.event('Warning', 'Failed', `Failed to pull image "${c.image}": ${msg}`, c);
        this.event('Warning', 'Failed', 'Error: ErrImagePull', c);
        this.publish();
        if (!(await sleep(this.clock, this.scaled(1), this.signal))) return undefined;
        const backoff = Math.min(10 * 2 ** attempt, 300);
        const bmsg = `Back-off pulling image "${c.image}"`;
        c.state = { waiting: { reason: 'ImagePullBackOff', message: bmsg } };
        this.event('Normal', 'BackOff', bmsg, c);
        this.event('Warning', 'Failed', 'Error: ImagePullBackOff', c);
        this.publish();
        if (!(await sleep(this.clock, this.scaled(backoff), this.signal))) return undefined;
      }
    }
    return undefined;
  }

  private runsAsNonRootViolation(c: ContainerState, ref: ImageRef): string | undefined {
    const psc = asRecord(spec(this.pod)['securityContext']);
    const csc = asRecord(c.spec['securityContext']);
    const nonRoot = csc['runAsNonRoot'] ?? psc['runAsNonRoot'];
    if (nonRoot !== true) return undefined;
    const uid = csc['runAsUser'] ?? psc['runAsUser'];
    if (typeof uid === 'number') {
      return uid === 0 ? `container's runAsUser breaks non-root policy (pod: "${this.podRef()}", container: ${c.name})` : undefined;
    }
    const info = this.kubelet.opts.runtime.inspect(ref);
    return info?.runsAsRoot ? `container has runAsNonRoot and image will run as root (pod: "${this.podRef()}", container: ${c.name})` : undefined;
  }

  /** Runs a container through restarts; resolves true when it completed successfully (init) or ran out. */
  private async runContainer(c: ContainerState): Promise<boolean> {
    const runtime = this.kubelet.opts.runtime;
    for (;;) {
      if (this.signal.aborted) return false;
      const ref = await this.ensureImage(c);
      if (!ref) return false;
      let env: { name: string; value: string }[];
      try {
        const violation = this.runsAsNonRootViolation(c, ref);
        if (violation) throw new ConfigError(violation);
        env = await resolveEnv(this.kubelet.ctx.client, this.pod, c.spec, this.podIP ?? '', this.kubelet.hostIP(this.node));
      } catch (err) {
        const msg = errorMessage(err);
        c.state = { waiting: { reason: 'CreateContainerConfigError', message: msg } };
        this.event('Warning', 'Failed', `Error: ${msg}`, c);
        this.publish();
        if (!(await sleep(this.clock, this.scaled(10), this.signal))) return false;
        continue;
      }
      let log: LogInstance | undefined;
      let inst: RunningContainer;
      try {
        log = this.kubelet.opts.logs.begin(this.pod.metadata.uid ?? '', c.name);
        const logRef = log;
        inst = await runtime.start({
          pod: {
            namespace: this.pod.metadata.namespace ?? 'default',
            name: this.pod.metadata.name ?? '',
            uid: this.pod.metadata.uid ?? '',
            annotations: this.pod.metadata.annotations ?? {},
            restartPolicy: this.restartPolicy(),
          },
          container: c.spec,
          image: ref,
          env,
          podIP: this.podIP ?? '',
          restartCount: c.restartCount,
          isInit: c.isInit,
          output: (line) => logRef.append(this.clock.now(), line),
        });
      } catch (err) {
        log?.end();
        const msg = errorMessage(err);
        this.event('Warning', 'Failed', `Error: failed to create containerd task: ${msg}`, c);
        const now = rfc3339(this.clock.now());
        const exit = { exitCode: 128, reason: 'StartError', message: msg, startedAt: '1970-01-01T00:00:00Z', finishedAt: now };
        if (!(await this.afterExit(c, exit))) return false;
        continue;
      }
      c.instance = inst;
      c.containerID = `${runtime.name}://${inst.id}`;
      c.startedAtMs = this.clock.now();
      const startedAt = rfc3339(c.startedAtMs);
      this.event('Normal', 'Created', `Created container: ${c.name}`, c);
      this.event('Normal', 'Started', `Started container ${c.name}`, c);
      c.state = { running: { startedAt } };
      c.started = c.isInit || !c.spec['startupProbe'];
      c.ready = !c.isInit && !c.spec['readinessProbe'] && c.started;
      this.publish();
      const probeAbort = new AbortController();
      const onStop = (): void => probeAbort.abort();
      this.signal.addEventListener('abort', onStop, { once: true });
      if (!c.isInit) void this.probeLoop(c, inst, probeAbort.signal);
      const exit = await inst.exited;
      probeAbort.abort();
      this.signal.removeEventListener('abort', onStop);
      log.end();
      c.instance = undefined;
      if (this.signal.aborted) return false;
      const done = await this.afterExit(c, { ...exit, startedAt, finishedAt: rfc3339(this.clock.now()), containerID: c.containerID });
      if (done !== 'restart') return done;
    }
  }

  /** Records the exit; returns 'restart' after the back-off, or the final outcome. */
  private async afterExit(c: ContainerState, term: Record<string, unknown>): Promise<boolean | 'restart'> {
    const code = num(term['exitCode'], 1);
    c.ready = false;
    c.started = false;
    const terminated: State = { terminated: term };
    const policy = this.restartPolicy();
    const restart = c.isInit ? code !== 0 && policy !== 'Never' : policy === 'Always' || (policy === 'OnFailure' && code !== 0);
    if (!restart) {
      c.state = terminated;
      this.publish();
      return code === 0;
    }
    c.lastState = terminated;
    c.restartCount++;
    // The first restart is immediate; then 10s, 20s, ... capped at 5 minutes (kubelet's crash back-off).
    const delay = c.restartCount === 1 ? 0 : Math.min(10 * 2 ** (c.restartCount - 2), 300);
    if (delay > 0) {
      c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay >= 60 ? `${Math.floor(delay / 60)}m${delay % 60}s` : `${delay}s`} restarting failed container=${c.name} pod=${this.podRef()}` } };
      this.event('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${this.podRef()}`, c);
    } else {
      c.state = terminated;
    }
    this.publish();
    if (!(await sleep(this.clock, this.scaled(Math.max(delay, 0.05)), this.signal))) return false;
    return 'restart';
  }

  private async probeLoop(c: ContainerState, inst: RunningContainer, signal: AbortSignal): Promise<void> {
    const startedMs = c.startedAtMs ?? this.clock.now();
    const startup = probeTiming(c.spec['startupProbe']);
    const readiness = probeTiming(c.spec['readinessProbe']);
    const liveness = probeTiming(c.spec['livenessProbe']);
    const since = (s: number): number => Math.max(0, startedMs + this.scaled(s) - this.clock.now());
    if (startup) {
      if (!(await sleep(this.clock, since(startup.initialDelaySeconds), signal))) return;
      let failures = 0;
      for (;;) {
        const r = await inst.probe('startup', asRecord(c.spec['startupProbe']));
        if (signal.aborted) return;
        if (r.success) break;
        failures++;
        this.event('Warning', 'Unhealthy', `Startup probe failed: ${r.message ?? 'probe failed'}`, c);
        if (failures >= startup.failureThreshold) {
          this.event('Normal', 'Killing', `Container ${c.name} failed startup probe, will be restarted`, c);
          await inst.stop(this.scaled(num(spec(this.pod)['terminationGracePeriodSeconds'], 30)));
          return;
        }
        if (!(await sleep(this.clock, this.scaled(startup.periodSeconds), signal))) return;
      }
      c.started = true;
      if (!readiness) c.ready = true;
      this.publish();
    }
    const loops: Promise<void>[] = [];
    if (readiness) {
      loops.push(
        (async () => {
          if (!(await sleep(this.clock, since(readiness.initialDelaySeconds), signal))) return;
          let ok = 0;
          let bad = 0;
          for (;;) {
            const r = await inst.probe('readiness', asRecord(c.spec['readinessProbe']));
            if (signal.aborted) return;
            if (r.success) {
              ok++;
              bad = 0;
              if (!c.ready && ok >= readiness.successThreshold) {
                c.ready = true;
                this.publish();
              }
            } else {
              bad++;
              ok = 0;
              this.event('Warning', 'Unhealthy', `Readiness probe failed: ${r.message ?? 'probe failed'}`, c);
              if (c.ready && bad >= readiness.failureThreshold) {
                c.ready = false;
                this.publish();
              }
            }
            if (!(await sleep(this.clock, this.scaled(readiness.periodSeconds), signal))) return;
          }
        })(),
      );
    }
    if (liveness) {
      loops.push(
        (async () => {
          if (!(await sleep(this.clock, since(liveness.initialDelaySeconds), signal))) return;
          let bad = 0;
          for (;;) {
            const r = await inst.probe('liveness', asRecord(c.spec['livenessProbe']));
            if (signal.aborted) return;
            if (r.success) bad = 0;
            else {
              bad++;
              this.event('Warning', 'Unhealthy', `Liveness probe failed: ${r.message ?? 'probe failed'}`, c);
              if (bad >= liveness.failureThreshold) {
                this.event('Normal', 'Killing', `Container ${c.name} failed liveness probe, will be restarted`, c);
                await inst.stop(this.scaled(num(spec(this.pod)['terminationGracePeriodSeconds'], 30)));
                return;
              }
            }
            if (!(await sleep(this.clock, this.scaled(liveness.periodSeconds), signal))) return;
          }
        })(),
      );
    }
    await Promise.all(loops);
  }

  /** Graceful deletion: Killing events, SIGTERM within the grace period, then the final delete. */
  async terminate(): Promise<void> {
    if (this.terminating || this.killed) return;
    this.terminating = true;
    const grace = num(this.pod.metadata.deletionGracePeriodSeconds, num(spec(this.pod)['terminationGracePeriodSeconds'], 30));
    const running = [...this.inits, ...this.containers].filter((c) => c.instance);
    for (const c of running) this.event('Normal', 'Killing', `Stopping container ${c.name}`, c);
    this.abort.abort();
    const graceMs = Math.min(grace * 1000, this.scaled(grace));
    await Promise.all(
      running.map(async (c) => {
        const inst = c.instance;
        if (!inst) return;
        const exit = await inst.stop(graceMs);
        c.state = { terminated: { exitCode: exit.exitCode, reason: exit.reason, startedAt: rfc3339(c.startedAtMs ?? this.clock.now()), finishedAt: rfc3339(this.clock.now()), containerID: c.containerID } };
        c.ready = false;
        c.started = false;
      }),
    );
    for (const c of [...this.inits, ...this.containers]) c.ready = false;
    this.publish();
    await this.flushStatus();
    if (this.podIP && spec(this.pod)['hostNetwork'] !== true) this.kubelet.ips.release(this.podIP);
    try {
      await this.kubelet.ctx.client.delete(RES.pods, this.pod.metadata.namespace, this.pod.metadata.name ?? '', { gracePeriodSeconds: 0 });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
  }

  /** The pod is gone from the API: stop everything now. */
  async kill(): Promise<void> {
    this.killed = true;
    this.abort.abort();
    await Promise.all([...this.inits, ...this.containers].map((c) => c.instance?.stop(0)));
    if (this.podIP && !this.terminating && spec(this.pod)['hostNetwork'] !== true) this.kubelet.ips.release(this.podIP);
  }

  // --- status ----------------------------------------------------------------------------------

  private phase(): string {
    if (this.inits.some((c) => 'terminated' in c.state && num(c.state.terminated['exitCode'], 1) !== 0) && this.restartPolicy() === 'Never') return 'Failed';
    if (!this.initDone) return 'Pending';
    let running = 0;
    let waiting = 0;
    let stopped = 0;
    let succeeded = 0;
    for (const c of this.containers) {
      if ('running' in c.state) running++;
      else if ('terminated' in c.state) {
        stopped++;
        if (num(c.state.terminated['exitCode'], 1) === 0) succeeded++;
      } else if ('terminated' in c.lastState) stopped++;
      else waiting++;
    }
    if (waiting > 0) return 'Pending';
    if (running > 0) return 'Running';
    if (stopped > 0) {
      const policy = this.restartPolicy();
      if (policy === 'Always') return 'Running';
      if (stopped === succeeded) return 'Succeeded';
      if (policy === 'OnFailure') return 'Running';
      return 'Failed';
    }
    return 'Pending';
  }

  private cond(type: string, ok: boolean, reason?: string, message?: string): Condition {
    const st = ok ? 'True' : 'False';
    const prev = this.transitions.get(type);
    const at = prev && prev.status === st ? prev.at : rfc3339(this.clock.now());
    this.transitions.set(type, { status: st, at });
    const c: Condition = { type, status: st, lastProbeTime: null, lastTransitionTime: at };
    if (!ok && reason) c.reason = reason;
    if (!ok && message) c.message = message;
    return c;
  }

  private containerStatus(c: ContainerState): Record<string, unknown> {
    const s: Record<string, unknown> = {
      name: c.name,
      state: c.state,
      lastState: c.lastState,
      ready: c.ready,
      restartCount: c.restartCount,
      image: (() => {
        try {
          return parseImageRef(c.image).normalized;
        } catch {
          return c.image;
        }
      })(),
      imageID: c.imageID ?? '',
      started: c.started,
    };
    if (c.containerID) s['containerID'] = c.containerID;
    return s;
  }

  buildStatus(): Record<string, unknown> {
    const phase = this.phase();
    const done = phase === 'Succeeded' || phase === 'Failed';
    const notReady = this.containers.filter((c) => !c.ready).map((c) => c.name);
    const incompleteInit = this.inits.filter((c) => !('terminated' in c.state && num(c.state.terminated['exitCode'], 1) === 0)).map((c) => c.name);
    const containersReady = notReady.length === 0 && this.initDone;
    const readyReason = done ? 'PodCompleted' : 'ContainersNotReady';
    const readyMsg = done ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
    const conditions = [
      this.cond('PodReadyToStartContainers', this.sandboxReady && !(done && this.terminating)),
      this.cond('Initialized', this.initDone || incompleteInit.length === 0, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
      this.cond('Ready', containersReady && !done, readyReason, readyMsg),
      this.cond('ContainersReady', containersReady && !done, readyReason, readyMsg),
      this.cond('PodScheduled', true),
    ];
    const hostIP = this.kubelet.hostIP(this.node);
    const st: Record<string, unknown> = {
      phase,
      conditions,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: this.startTime,
      containerStatuses: this.containers.map((c) => this.containerStatus(c)),
      // The API server computes qosClass at creation; keep its answer when present.
      qosClass: str(status(this.pod)['qosClass']) ?? qosClass(spec(this.pod)),
    };
    if (this.podIP) {
      st['podIP'] = this.podIP;
      st['podIPs'] = [{ ip: this.podIP }];
    }
    if (this.inits.length) st['initContainerStatuses'] = this.inits.map((c) => this.containerStatus(c));
    return st;
  }

  /** Coalesced status write: at most one in flight, the latest state always ends up written. */
  private publish(): void {
    if (this.killed) return;
    this.dirty = true;
    if (this.writing) return;
    this.writing = (async () => {
      while (this.dirty && !this.killed) {
        this.dirty = false;
        const st = this.buildStatus();
        try {
          await this.kubelet.ctx.client.patch(RES.pods, this.pod.metadata.namespace, this.pod.metadata.name ?? '', { status: st }, 'merge', { subresource: 'status' });
        } catch (err) {
          if (isApiError(err, 404)) {
            this.killed = true;
            this.abort.abort();
          } else if (process.env['BERTH_SANDBOX_DEBUG']) console.error('[sandbox/kubelet] status', errorMessage(err));
        }
      }
      this.writing = undefined;
    })();
  }

  async flushStatus(): Promise<void> {
    while (this.writing) await this.writing;
  }
}
