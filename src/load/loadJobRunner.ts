/**
 * Runs `berth load --in-cluster` on the server's side: checks the options (the same function as the
 * CLI), finds the app's Service, starts the hardened Job (loadJob.ts) suspended, lets it reach the
 * app (NetworkPolicies owned by the Job), resumes it, follows its pod's log (`berth load -o jsonl`),
 * hands each second to the caller, and returns the run with the app's replicas on the same axis (from
 * the status engine, as the CLI's live view has them). Whatever happens (success, a failed Job, the
 * caller gone) the Job and its policies are deleted before it returns.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { ClusterClient, PodInfo } from '../cluster/clusterClient.ts';
import { BerthError } from '../errors.ts';
import type { ObjectMetaJson } from '../kube/objectMeta.ts';
import type { ObjectRef } from '../store/types.ts';
import { serviceAddressOf } from '../probe/probeTarget.ts';
import type { StatusEngine } from '../status/types.ts';
import { boundSeries } from './boundSeries.ts';
import { evaluateThresholds } from './failOn.ts';
import { LOAD_CONTAINER, LOAD_JOB_LABEL, loadJobName, loadResources, renderLoadJob, renderLoadNetworkPolicies, type LoadJobSpec } from './loadJob.ts';
import { containerEnded, deadlineError, endedWithoutSummary, jobFailure, podStart } from './loadJobState.ts';
import { MAX_LOAD_LINE, parseLoadLine } from './loadLines.ts';
import { invalidLoadOption, parseLoadOptions, type LoadOptions, type LoadOptionsInput } from './loadOptions.ts';
import { RATE_PER_WORKER } from './ratePerWorker.ts';
import { LoadTimeline } from './loadTimeline.ts';
import type { LoadJobEvent, LoadRunInput, LoadSecond, LoadSummary } from './types.ts';

export interface LoadJobDeps {
  readonly cluster: ClusterClient;
  readonly status: StatusEngine;
  /** berth's own image (config.berthImage). */
  readonly image: string;
  readonly newId?: () => string;
  /** How often the pod's state is read while it starts. */
  readonly pollMs?: number;
  /** How long the pod may take to be scheduled and pull the image. */
  readonly startTimeoutMs?: number;
  /** How long the HPA's last events may take to arrive after the load (the CLI waits as long). */
  readonly settleMs?: number;
  readonly log?: { warn(obj: object, msg: string): void };
}

export interface PreparedLoadJob {
  readonly spec: LoadJobSpec;
  readonly options: LoadOptions;
}

/** Time for the pod to be scheduled, pull the image and start node, on top of the run. */
export const START_TIMEOUT_MS = 120_000;
/** Threads one Job may ask for: each is a core of CPU limit. */
const MAX_JOB_WORKERS = 8;
const KEEP_OUTPUT_LINES = 12;

const jobRef = (spec: LoadJobSpec): ObjectRef => ({ apiVersion: 'batch/v1', kind: 'Job', namespace: spec.namespace, name: spec.jobName });
const policyRefs = (spec: LoadJobSpec): ObjectRef[] =>
  [`${spec.jobName}-to-app`, spec.jobName].map((name) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: spec.namespace, name }));

function hostPort(ip: string, port: number): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/**
 * The `berth load` arguments of the pod, each option as one `--flag=value` word: a value can never be
 * read as another option. The values are the caller's strings, already checked by parseLoadOptions.
 */
function podArgs(url: string, input: LoadOptionsInput, workers: number): string[] {
  const opt = (flag: string, v: string | undefined): string[] => (v === undefined ? [] : [`--${flag}=${v}`]);
  return [
    'load',
    url,
    '--output=jsonl',
    '--no-record',
    ...opt('rate', input.rate),
    ...opt('duration', input.duration),
    ...opt('stages', input.stages),
    `--concurrency=${input.concurrency}`,
    `--timeout=${input.timeout}`,
    `--method=${input.method}`,
    `--workers=${workers}`,
    ...input.header.map((h) => `--header=${h}`),
    ...input.path.map((p) => `--path=${p}`),
    ...opt('body', input.body),
  ];
}

/**
 * Everything that can be refused before a Job exists: the options, the body, and the app's Service.
 * Errors here are ordinary API errors (nothing was created).
 */
export async function prepareLoadJob(deps: LoadJobDeps, app: ResolvedApp, input: LoadOptionsInput): Promise<PreparedLoadJob> {
  const options = parseLoadOptions(input);
  // In the pod, `--body=@…` would read a file of the pod's own file system.
  if (input.body?.startsWith('@')) throw invalidLoadOption('body', 'an in-cluster body cannot start with "@" (the generator would read it as a file name in its pod)');
  const { namespace, name } = app.metadata;
  const address = serviceAddressOf(await deps.cluster.get({ apiVersion: 'v1', kind: 'Service', namespace, name }));
  if (!address) throw new BerthError('BERTH_LOAD_TARGET_UNRESOLVED', `${namespace}/${name} has no Service with a cluster IP for an in-cluster load Job to reach.`, { hint: 'Deploy the app (its Service is part of it) and wait until it exists, then run the load again.' });
  if (options.workers !== undefined && options.workers > MAX_JOB_WORKERS) throw invalidLoadOption('--workers', `--workers ${options.workers}: an in-cluster Job runs at most ${MAX_JOB_WORKERS} threads (each is a core of its CPU limit)`);
  const peak = Math.max(0, ...options.plan.stages.flatMap((s) => [s.fromRate, s.toRate]));
  const workers = options.workers ?? Math.max(1, Math.min(MAX_JOB_WORKERS, Math.ceil(peak / RATE_PER_WORKER)));
  const id = (deps.newId ?? (() => randomBytes(4).toString('hex').slice(0, 6)))();
  const spec: LoadJobSpec = {
    namespace,
    app: name,
    appPort: app.spec.port,
    jobName: loadJobName(name, id),
    image: deps.image,
    args: podArgs(`http://${hostPort(address.clusterIP, address.port)}`, input, workers),
    workers,
    deadlineSeconds: Math.ceil((options.plan.totalMs + (deps.startTimeoutMs ?? START_TIMEOUT_MS)) / 1000) + 30,
    runAsUser: app.spec.security.runAsUser,
    runAsGroup: app.spec.security.runAsGroup,
  };
  return { spec, options };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function stopped(signal: AbortSignal): BerthError {
  return new BerthError('BERTH_LOAD_JOB_FAILED', 'The in-cluster load run was stopped before it ended; the Job was deleted.', { cause: signal.reason });
}

/** Lines of at most MAX_LOAD_LINE characters; a longer line is skipped whole (no load line is that long). */
function eachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let rest = '';
    let skipping = false;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        if (!skipping) onLine(rest.slice(0, nl).replace(/\r$/, ''));
        skipping = false;
        rest = rest.slice(nl + 1);
      }
      if (rest.length > MAX_LOAD_LINE) {
        rest = '';
        skipping = true;
      }
    });
    const done = (): void => {
      if (rest !== '' && !skipping) onLine(rest);
      rest = '';
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

async function podOf(cluster: ClusterClient, spec: LoadJobSpec): Promise<PodInfo | undefined> {
  const pods = await cluster.listPods(spec.namespace, { [LOAD_JOB_LABEL]: spec.jobName });
  return pods.sort((a, b) => (a.creationTimestamp ?? '').localeCompare(b.creationTimestamp ?? '')).at(-1);
}

/** Waits until the generator's container runs (or ran); throws the coded reason when it never will. */
async function waitForStart(deps: LoadJobDeps, spec: LoadJobSpec, signal: AbortSignal): Promise<PodInfo> {
  const startBy = Date.now() + (deps.startTimeoutMs ?? START_TIMEOUT_MS);
  let detail = 'no pod yet';
  for (;;) {
    if (signal.aborted) throw stopped(signal);
    const pod = await podOf(deps.cluster, spec);
    if (pod) {
      const start = podStart(pod, spec.jobName, spec.image);
      if (start.kind === 'started') return pod;
      if (start.kind === 'failed') throw start.error;
      detail = `pod ${pod.name}: ${start.detail}`;
    } else {
      // No pod: admission may have refused it, or the deadline passed; the Job's condition says so.
      const failed = jobFailure(await deps.cluster.get(jobRef(spec)));
      if (failed?.reason === 'DeadlineExceeded') throw deadlineError(spec.jobName, spec.deadlineSeconds, failed.message);
      if (failed) throw new BerthError('BERTH_LOAD_JOB_FAILED', `The load Job ${spec.jobName} failed before its pod started (${failed.reason}: ${failed.message}). The Job was deleted.`);
    }
    if (Date.now() > startBy) throw new BerthError('BERTH_LOAD_JOB_TIMEOUT', `The load Job ${spec.jobName} did not start within ${Math.round((deps.startTimeoutMs ?? START_TIMEOUT_MS) / 1000)} s (${detail}). The Job was deleted.`);
    await sleep(deps.pollMs ?? 500, signal);
  }
}

interface ReadResult {
  summary?: LoadSummary;
  readonly seconds: Map<number, LoadSecond>;
  readonly output: string[];
}

/**
 * Follows the generator's log to its summary. A log stream can end while the container still runs
 * (a dropped API connection): it is followed again from the start, and seconds already seen are not
 * handed on twice.
 */
async function readRun(deps: LoadJobDeps, spec: LoadJobSpec, pod: string, onSecond: (s: LoadSecond) => void, signal: AbortSignal): Promise<ReadResult> {
  const read: ReadResult = { seconds: new Map(), output: [] };
  for (let attempt = 0; attempt < 5 && read.summary === undefined && !signal.aborted; attempt++) {
    const stream = await deps.cluster.streamLogs({ namespace: spec.namespace, pod, container: LOAD_CONTAINER, follow: true }, signal);
    await eachLine(stream, (text) => {
      const line = parseLoadLine(text);
      if (line?.type === 'second') {
        if (read.seconds.has(line.second.t)) return;
        read.seconds.set(line.second.t, line.second);
        onSecond(line.second);
      } else if (line?.type === 'summary') read.summary = line.summary;
      else if (text.trim() !== '') {
        read.output.push(text.slice(0, 300));
        if (read.output.length > KEEP_OUTPUT_LINES) read.output.shift();
      }
    });
    if (read.summary !== undefined || containerEnded((await deps.cluster.listPods(spec.namespace, { [LOAD_JOB_LABEL]: spec.jobName })).find((p) => p.name === pod))) break;
  }
  return read;
}

/** Why the generator ended without a summary: the pod's state settles a moment after its log ends. */
async function failureOf(deps: LoadJobDeps, spec: LoadJobSpec, pod: string, output: readonly string[], signal: AbortSignal): Promise<BerthError> {
  let info: PodInfo | undefined;
  for (let i = 0; i < 20 && !signal.aborted; i++) {
    info = (await deps.cluster.listPods(spec.namespace, { [LOAD_JOB_LABEL]: spec.jobName })).find((p) => p.name === pod);
    if (containerEnded(info)) break;
    await sleep(500, signal);
  }
  const jobObject = await deps.cluster.get(jobRef(spec));
  return endedWithoutSummary({ job: spec.jobName, pod: info, jobObject, deadlineSeconds: spec.deadlineSeconds, memoryLimit: loadResources(spec.workers).limits['memory'] ?? '?', output });
}

/**
 * Runs a prepared load Job to its end. `onEvent` gets the Job's name, the moment the generator
 * starts and every second; the result is the run as `berth load` records it (inCluster: true). Aborting
 * `signal` (the caller went away) deletes the Job at once.
 */
export async function runLoadJob(deps: LoadJobDeps, job: PreparedLoadJob, onEvent: (e: LoadJobEvent) => void, signal: AbortSignal): Promise<LoadRunInput> {
  const { cluster, status } = deps;
  const { spec, options } = job;
  const timeline = new LoadTimeline(Date.now());
  const current = status.get(spec.namespace, spec.app);
  if (current) timeline.observe(current, Date.now());
  const unsubscribe = status.subscribe({ namespace: spec.namespace, name: spec.app }, (e) => {
    if (e.status) timeline.observe(e.status, Date.now());
  });
  try {
    // Suspended first: its pod must not start before the policies that let it reach the app exist.
    const created = await cluster.apply([renderLoadJob(spec, true)]);
    const uid = (created.objects[0]?.metadata as ObjectMetaJson | undefined)?.uid;
    if (typeof uid !== 'string' || uid === '') throw new BerthError('BERTH_LOAD_JOB_FAILED', `The cluster did not create the load Job ${spec.jobName} (no uid in its answer).`);
    await cluster.apply(renderLoadNetworkPolicies(spec, uid));
    await cluster.apply([renderLoadJob(spec, false)]);
    onEvent({ type: 'job', job: spec.jobName, image: spec.image });
    const pod = await waitForStart(deps, spec, signal);
    onEvent({ type: 'running', pod: pod.name });
    const read = await readRun(deps, spec, pod.name, (second) => onEvent({ type: 'second', second }), signal);
    if (signal.aborted) throw stopped(signal);
    if (read.summary === undefined) throw await failureOf(deps, spec, pod.name, read.output, signal);
    // The HPA reacts after the load: a moment more of the status stream catches its last events.
    await sleep(deps.settleMs ?? 500, signal);
    const summary = read.summary;
    timeline.rebase(Date.parse(summary.startedAt));
    const series = boundSeries([...read.seconds.values()].sort((a, b) => a.t - b.t));
    return { summary, series, replicas: timeline.replicas(), scalingEvents: timeline.scalingEvents(), thresholds: evaluateThresholds(summary, options.thresholds), inCluster: true };
  } finally {
    unsubscribe();
    // Not tied to `signal`: the caller going away is exactly when the Job must go too.
    // A delete that fails leaves the Job to its TTL (LOAD_JOB_TTL_SECONDS), which takes the policies along.
    await cluster.delete([jobRef(spec), ...policyRefs(spec)], { propagationPolicy: 'Background' }).catch((err: unknown) => deps.log?.warn({ err, job: spec.jobName }, 'could not delete the load Job; its TTL will'));
  }
}
