import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { resolveApp } from '../../appspec/resolveApp.ts';
import type { AppSpec } from '../../appspec/appSchema.ts';
import { BerthError, ERRORS, type ErrorCode } from '../../errors.ts';
import { boundSeries } from '../../load/boundSeries.ts';
import { evaluateThresholds } from '../../load/failOn.ts';
import { secondLine, summaryLine } from '../../load/loadLines.ts';
import { invalidLoadOption, parseLoadOptions, type LoadOptionsInput } from '../../load/loadOptions.ts';
import type { LoadTarget } from '../../load/loadShard.ts';
import { LoadTimeline } from '../../load/loadTimeline.ts';
import { formatSecond, formatSummary, LIVE_HEADER } from '../../load/loadView.ts';
import { runLoad } from '../../load/runLoad.ts';
import type { LoadRunInput } from '../../load/types.ts';
import type { ApiClient } from '../apiClient.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { clientFor } from '../remote.ts';

export interface LoadFlags {
  readonly namespace: string;
  readonly rate?: string;
  readonly duration?: string;
  readonly stages?: string;
  readonly concurrency: string;
  readonly timeout: string;
  readonly method: string;
  readonly header: string[];
  readonly body?: string;
  readonly path: string[];
  readonly address?: string;
  readonly workers?: string;
  readonly failOn: string[];
  readonly record: boolean;
  readonly inCluster: boolean;
  readonly output: 'text' | 'json' | 'jsonl';
  readonly server?: string;
}

function originOf(url: string, flag: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidLoadOption(flag, `${flag} "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalidLoadOption(flag, `${flag} must be http:// or https://, got "${u.protocol}"`);
  return u;
}

/** The URL an app is reached at from here: its Ingress (the only address outside the cluster). */
async function appTarget(client: ApiClient, namespace: string, name: string): Promise<{ url: URL; host: string }> {
  const detail = await client.getApp(namespace, name);
  const ingress = resolveApp(detail.spec as AppSpec).spec.expose.ingress;
  if (!ingress) throw new BerthError('BERTH_LOAD_TARGET_UNRESOLVED', `${namespace}/${name} has no Ingress, so it cannot be reached from outside the cluster.`);
  const path = ingress.path === '/' ? '' : ingress.path.replace(/\/$/, '');
  return { url: new URL(`${ingress.tls ? 'https' : 'http'}://${ingress.host}${path}/`), host: ingress.host };
}

/** Follows the app's status on the run's clock: the replicas and CPU columns of the live view. */
function followApp(client: ApiClient, app: { namespace: string; name: string }, timeline: LoadTimeline, signal: AbortSignal): Promise<void> {
  return (async () => {
    try {
      for await (const ev of client.appStatusStream(app.namespace, app.name, { signal })) if (ev.status) timeline.observe(ev.status, Date.now());
    } catch {
      // The load goes on without the replica column when the stream fails (no status:read, server gone).
    }
  })();
}

/**
 * `berth load TARGET`: validates every flag before anything is sent, runs the generator (live lines
 * every second; with --in-cluster as a Job next to the app, through the server), prints the summary
 * and scaling events, records the run for an app target, and exits 1 when a --fail-on threshold failed.
 */
export async function runLoadCommand(targetArg: string, flags: LoadFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const body = flags.body === undefined ? undefined : flags.body.startsWith('@') ? await readFile(resolve(io.cwd, flags.body.slice(1)), 'utf8') : flags.body;
  const input: LoadOptionsInput = { ...flags, body };
  const options = parseLoadOptions(input);
  const isUrl = targetArg.includes('://');
  if (flags.inCluster) {
    if (isUrl) throw invalidLoadOption('--in-cluster', '--in-cluster loads an app: pass its name with -n NAMESPACE, not a URL');
    if (flags.address !== undefined) throw invalidLoadOption('--address', '--address and --in-cluster exclude each other: in the cluster the Job reaches the app\'s Service');
    return runInCluster({ namespace: flags.namespace, name: targetArg }, input, flags, ctx);
  }
  const app = isUrl ? undefined : { namespace: flags.namespace, name: targetArg };
  const client = app ? clientFor(io, flags) : undefined;
  const headers = { ...options.headers };
  let base: URL;
  if (app && client) {
    const t = await appTarget(client, app.namespace, app.name);
    base = t.url;
    headers['host'] ??= t.host;
  } else base = originOf(targetArg, 'target');
  const connect = flags.address !== undefined ? originOf(flags.address, '--address') : base;
  const basePath = base.pathname.replace(/\/$/, '');
  const paths = options.paths.length > 0 ? options.paths.map((p) => `${basePath}${p}`) : [`${base.pathname}${base.search}`];
  const { method, plan } = options;
  const target: LoadTarget = { origin: connect.origin, paths, method, headers, ...(options.body !== undefined ? { body: options.body } : {}) };
  const label = `${base.origin}${paths[0] ?? '/'}`;

  const interrupt = interruptSignal(io);
  const timeline = new LoadTimeline(Date.now());
  const follow = new AbortController();
  // The app's replicas and CPU come from the server's status stream, on the same clock as the load.
  const following = app && client ? followApp(client, app, timeline, follow.signal) : Promise.resolve();
  const out = flags.output;
  if (out === 'text') io.stdout.write(`${method} ${label}: ${plan.total} requests over ${(plan.totalMs / 1000).toFixed(0)}s\n${LIVE_HEADER}\n`);
  let result;
  try {
    result = await runLoad({
      target,
      plan,
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      signal: interrupt.signal,
      onSecond: (s) => {
        if (out === 'text') io.stdout.write(`${formatSecond(s, timeline.current())}\n`);
        else if (out === 'jsonl') io.stdout.write(`${secondLine(s)}\n`);
      },
    });
  } finally {
    interrupt.dispose();
  }
  // The HPA reacts after the load: a moment more of the stream catches its last events.
  if (app) await new Promise((r) => setTimeout(r, 500));
  follow.abort();
  await following;
  timeline.rebase(Date.parse(result.summary.startedAt));
  const summary = { ...result.summary, target: label };
  const checked = evaluateThresholds(summary, options.thresholds);
  const run: LoadRunInput = { summary, series: boundSeries(result.series), replicas: timeline.replicas(), scalingEvents: timeline.scalingEvents(), thresholds: checked, inCluster: false };
  let recorded: string | undefined;
  if (app && client && flags.record) {
    try {
      recorded = (await client.recordLoadRun(app.namespace, app.name, run)).id;
    } catch (e) {
      io.stderr.write(`warning: the run was not recorded: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  printResult(io, out, run, recorded);
  ctx.setExit(checked.some((t) => t.failed) ? EXIT.FAILED : EXIT.OK);
}

function printResult(io: CommandContext['io'], out: LoadFlags['output'], run: LoadRunInput, recorded: string | undefined): void {
  if (out === 'text') {
    io.stdout.write(formatSummary(run.summary, run.scalingEvents, run.thresholds));
    if (recorded) io.stdout.write(`\nRecorded as load run ${recorded}.\n`);
  } else if (out === 'jsonl') io.stdout.write(`${summaryLine(run.summary, run.thresholds)}\n`);
  else io.stdout.write(`${JSON.stringify({ ...run, ...(recorded ? { id: recorded } : {}) }, null, 2)}\n`);
}

/**
 * --in-cluster: the server starts the generator as a Job in the app's namespace and streams its
 * seconds; this prints them as a local run would (the replicas from the app's status stream), then
 * the summary of the run the server recorded. Ctrl-C ends the stream, and with it the Job.
 */
async function runInCluster(app: { namespace: string; name: string }, input: LoadOptionsInput, flags: LoadFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const client = clientFor(io, flags);
  const { plan, method } = parseLoadOptions(input);
  const out = flags.output;
  const interrupt = interruptSignal(io);
  const timeline = new LoadTimeline(Date.now());
  const follow = new AbortController();
  const following = followApp(client, app, timeline, follow.signal);
  const request = {
    ...(input.rate !== undefined ? { rate: input.rate } : {}),
    ...(input.duration !== undefined ? { duration: input.duration } : {}),
    ...(input.stages !== undefined ? { stages: input.stages } : {}),
    concurrency: input.concurrency,
    timeout: input.timeout,
    method: input.method,
    header: [...input.header],
    ...(input.body !== undefined ? { body: input.body } : {}),
    path: [...input.path],
    ...(input.workers !== undefined ? { workers: input.workers } : {}),
    failOn: [...input.failOn],
    record: flags.record,
  };
  let result: { run: LoadRunInput; id?: string; notRecorded?: string } | undefined;
  try {
    for await (const e of client.loadJob(app.namespace, app.name, request, { signal: interrupt.signal })) {
      if (e.type === 'job') io.stderr.write(`Job ${e.job} (${e.image}) started in ${app.namespace}; waiting for its pod\n`);
      else if (e.type === 'running') {
        if (out === 'text') io.stdout.write(`${method} ${app.namespace}/${app.name} from pod ${e.pod}: ${plan.total} requests over ${(plan.totalMs / 1000).toFixed(0)}s\n${LIVE_HEADER}\n`);
      } else if (e.type === 'second') {
        if (out === 'text') io.stdout.write(`${formatSecond(e.second, timeline.current())}\n`);
        else if (out === 'jsonl') io.stdout.write(`${secondLine(e.second)}\n`);
      } else if (e.type === 'result') result = e;
      else if (e.type === 'error') throw new BerthError(e.error.code in ERRORS ? (e.error.code as ErrorCode) : 'BERTH_LOAD_JOB_FAILED', e.error.message, { hint: e.error.hint });
    }
  } finally {
    interrupt.dispose();
    follow.abort();
    await following;
  }
  if (!result) {
    throw new BerthError('BERTH_LOAD_JOB_FAILED', interrupt.signal.aborted ? 'Stopped: the server deletes the load Job; nothing was recorded.' : 'The server ended the in-cluster load stream without a result; it deletes the Job.');
  }
  if (result.notRecorded !== undefined) io.stderr.write(`warning: the run was not recorded: ${result.notRecorded}\n`);
  printResult(io, out, result.run, result.id);
  ctx.setExit(result.run.thresholds.some((t) => t.failed) ? EXIT.FAILED : EXIT.OK);
}
