import type { KObject } from '../types.ts';
import type { Clock } from '../client/clock.ts';
import { rfc3339, sleep, untilAborted } from '../client/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import type { EventRecorder, EventType } from '../client/eventRecorder.ts';
import { asArray, asRecord, errorMessage, isApiError, num, spec, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { ContainerProber } from './containerProber.ts';
import { checkVolumes } from './podVolumes.ts';
import type { ImageRef } from './imageCatalog.ts';
import { InvalidImageNameError, parseImageRef } from './imageCatalog.ts';
import type { LogInstance, LogStore } from './logs.ts';
import type { PodIPAllocator } from './nodes.ts';
import type { ContainerState, State } from './podStatus.ts';
import { PodStatusBuilder } from './podStatus.ts';
import { ConfigError, expandCommand, resolveEnv } from './resolveEnv.ts';
import type { ContainerRuntime, RunningContainer } from './runtime.ts';

/** What a pod worker needs from the kubelet of its node. */
export interface PodWorkerHost {
  readonly ctx: ControllerContext;
  readonly runtime: ContainerRuntime;
  readonly logs: LogStore;
  readonly ips: PodIPAllocator;
  recorderFor(node: string): EventRecorder;
  hostIP(node: string): string;
  imagesOn(node: string): Set<string>;
}

function fmtDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  return `${Number(seconds.toFixed(3))}s`;
}

/** Runs one pod: sandbox, init containers, containers with restarts and probes, graceful stop. */
export class PodWorker {
  private readonly abort = new AbortController();
  private readonly containers: ContainerState[];
  private readonly inits: ContainerState[];
  private podIP: string | undefined;
  /** Host directories of the pod's claims, by volume name, once they are bound. */
  private claimPaths: Record<string, string> = {};
  private readonly startTime: string;
  private sandboxReady = false;
  private initDone = false;
  private terminating = false;
  private killed = false;
  private readonly statusBuilder: PodStatusBuilder;
  private readonly prober: ContainerProber;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private readonly clock: Clock;
  private readonly recorder: EventRecorder;

  constructor(
    private readonly kubelet: PodWorkerHost,
    public pod: KObject,
    private readonly node: string,
  ) {
    this.clock = kubelet.ctx.clock;
    this.recorder = kubelet.recorderFor(node);
    this.statusBuilder = new PodStatusBuilder(this.clock);
    this.prober = new ContainerProber({
      clock: this.clock,
      scaled: (s) => this.scaled(s),
      event: (type, reason, message, c) => this.event(type, reason, message, c),
      publish: () => this.publish(),
      kill: async (inst) => {
        await inst.stop(this.scaled(num(spec(this.pod)['terminationGracePeriodSeconds'], 30)));
      },
    });
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

  /**
   * Missing non-optional ConfigMap/Secret volumes keep the pod in ContainerCreating, as MountVolume.SetUp
   * fails; so do claims that are missing or not yet bound. Claims bind within moments of their
   * creation, so they are looked at again sooner than the 10 s retry of the other sources.
   */
  private async waitForVolumes(): Promise<boolean> {
    let lastReport = -Infinity;
    const began = this.clock.now();
    for (;;) {
      const { missing, claimsOnly, claimPaths } = await checkVolumes(this.kubelet.ctx.client, this.pod);
      if (missing.length === 0) {
        this.claimPaths = claimPaths;
        return true;
      }
      const now = this.clock.now();
      // A claim normally binds right after its creation: only one still unbound after a moment is worth an event.
      if ((!claimsOnly || now - began >= this.scaled(2)) && now - lastReport >= this.scaled(10)) {
        lastReport = now;
        for (const m of missing) this.event('Warning', 'FailedMount', m);
      }
      if (!(await sleep(this.clock, claimsOnly ? Math.min(this.scaled(10), 250) : this.scaled(10), this.signal))) return false;
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
      this.noteStandIn(c, ref);
      return ref;
    }
    for (let attempt = 0; !this.signal.aborted; attempt++) {
      this.event('Normal', 'Pulling', `Pulling image "${c.image}"`, c);
      try {
        const r = await this.kubelet.runtime.pull(ref, this.signal);
        if (this.signal.aborted) return undefined;
        images.add(ref.normalized);
        c.imageID = r.imageId;
        const d = fmtDuration(present ? Math.min(r.seconds, 0.3) : r.seconds);
        this.event('Normal', 'Pulled', `Successfully pulled image "${c.image}" in ${d} (${d} including waiting). Image size: ${r.sizeBytes} bytes.`, c);
        this.noteStandIn(c, ref);
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

  /** When the runtime runs another image than the one named, the status and an event say which (never silently). */
  private noteStandIn(c: ContainerState, ref: ImageRef): void {
    const standIn = this.kubelet.runtime.inspect(ref)?.standIn;
    if (!standIn) return;
    c.imageID = standIn.imageId;
    this.event('Normal', 'StandIn', standIn.message, c);
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
    const info = this.kubelet.runtime.inspect(ref);
    return info?.runsAsRoot ? `container has runAsNonRoot and image will run as root (pod: "${this.podRef()}", container: ${c.name})` : undefined;
  }

  /** Runs a container through restarts; resolves true when it completed successfully (init) or ran out. */
  private async runContainer(c: ContainerState): Promise<boolean> {
    const runtime = this.kubelet.runtime;
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
        log = this.kubelet.logs.begin(this.pod.metadata.uid ?? '', c.name);
        const logRef = log;
        inst = await runtime.start({
          pod: {
            namespace: this.pod.metadata.namespace ?? 'default',
            name: this.pod.metadata.name ?? '',
            uid: this.pod.metadata.uid ?? '',
            annotations: this.pod.metadata.annotations ?? {},
            restartPolicy: this.restartPolicy(),
          },
          // The kubelet expands $(VAR) in command and args from the container's env before it starts it.
          container: expandCommand(c.spec, env),
          image: ref,
          env,
          podIP: this.podIP ?? '',
          claimPaths: this.claimPaths,
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
      if (!c.isInit) void this.prober.run(c, inst, probeAbort.signal);
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

  buildStatus(): Record<string, unknown> {
    return this.statusBuilder.build({
      pod: this.pod,
      inits: this.inits,
      containers: this.containers,
      initDone: this.initDone,
      sandboxReady: this.sandboxReady,
      terminating: this.terminating,
      restartPolicy: this.restartPolicy(),
      hostIP: this.kubelet.hostIP(this.node),
      podIP: this.podIP,
      startTime: this.startTime,
    });
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
