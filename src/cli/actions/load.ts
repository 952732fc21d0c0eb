import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { resolveApp } from '../../appspec/resolveApp.ts';
import type { AppSpec } from '../../appspec/appSchema.ts';
import { BerthError, problem } from '../../errors.ts';
import { boundSeries } from '../../load/boundSeries.ts';
import { evaluateThresholds, parseFailOn } from '../../load/failOn.ts';
import { parseLoadDuration, parseRate, parseStages, planFrom } from '../../load/loadPlan.ts';
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
  readonly output: 'text' | 'json';
  readonly server?: string;
}

function invalid(path: string, message: string): BerthError {
  return new BerthError('BERTH_LOAD_OPTIONS_INVALID', message, { problems: [problem('BERTH_LOAD_OPTIONS_INVALID', path, message)] });
}

function intOption(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw invalid(flag, `${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return Number(value);
}

function headersOf(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    const name = i > 0 ? h.slice(0, i).trim().toLowerCase() : '';
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw invalid('--header', `--header "${h}" is not NAME: VALUE`);
    const value = h.slice(i + 1).trim();
    if (/[\r\n]/.test(value)) throw invalid('--header', `--header "${name}" contains a line break`);
    out[name] = value;
  }
  return out;
}

function originOf(url: string, flag: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(flag, `${flag} "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(flag, `${flag} must be http:// or https://, got "${u.protocol}"`);
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

/**
 * `berth load TARGET`: validates every flag before anything is sent, runs the generator (live lines
 * every second), prints the summary and scaling events, records the run for an app target, and exits
 * 1 when a --fail-on threshold failed.
 */
export async function runLoadCommand(targetArg: string, flags: LoadFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const plan = planFrom({
    ...(flags.rate !== undefined ? { rate: parseRate(flags.rate) } : {}),
    ...(flags.duration !== undefined ? { durationMs: parseLoadDuration(flags.duration, '--duration') } : {}),
    ...(flags.stages !== undefined ? { stages: parseStages(flags.stages) } : {}),
  });
  const thresholds = flags.failOn.map(parseFailOn);
  const concurrency = intOption(flags.concurrency, '--concurrency', 1, 100_000);
  const workers = flags.workers !== undefined ? intOption(flags.workers, '--workers', 1, 64) : undefined;
  const timeoutMs = parseLoadDuration(flags.timeout, '--timeout');
  const method = flags.method.toUpperCase();
  if (!/^[A-Z]{1,16}$/.test(method)) throw invalid('--method', `--method "${flags.method}" is not an HTTP method`);
  const headers = headersOf(flags.header);
  const body = flags.body === undefined ? undefined : flags.body.startsWith('@') ? await readFile(resolve(io.cwd, flags.body.slice(1)), 'utf8') : flags.body;
  for (const p of flags.path) if (!p.startsWith('/') || /[\s#]/.test(p)) throw invalid('--path', `--path "${p}" must start with "/" and contain no spaces or "#"`);

  const isUrl = targetArg.includes('://');
  const app = isUrl ? undefined : { namespace: flags.namespace, name: targetArg };
  const client = app ? clientFor(io, flags) : undefined;
  let base: URL;
  if (app && client) {
    const t = await appTarget(client, app.namespace, app.name);
    base = t.url;
    headers['host'] ??= t.host;
  } else base = originOf(targetArg, 'target');
  const connect = flags.address !== undefined ? originOf(flags.address, '--address') : base;
  const basePath = base.pathname.replace(/\/$/, '');
  const paths = flags.path.length > 0 ? flags.path.map((p) => `${basePath}${p}`) : [`${base.pathname}${base.search}`];
  const target: LoadTarget = { origin: connect.origin, paths, method, headers, ...(body !== undefined ? { body } : {}) };
  const label = `${base.origin}${paths[0] ?? '/'}`;

  const interrupt = interruptSignal(io);
  const startMs = Date.now();
  const timeline = new LoadTimeline(startMs);
  const follow = new AbortController();
  // The app's replicas and CPU come from the server's status stream, on the same clock as the load.
  const following = app && client
    ? (async () => {
        try {
          for await (const ev of client.appStatusStream(app.namespace, app.name, { signal: follow.signal })) if (ev.status) timeline.observe(ev.status, Date.now());
        } catch {
          // The load goes on without the replica column when the stream fails (no status:read, server gone).
        }
      })()
    : Promise.resolve();
  const text = flags.output === 'text';
  if (text) io.stdout.write(`${method} ${label}: ${plan.total} requests over ${(plan.totalMs / 1000).toFixed(0)}s\n${LIVE_HEADER}\n`);
  let result;
  try {
    result = await runLoad({
      target,
      plan,
      concurrency,
      timeoutMs,
      ...(workers !== undefined ? { workers } : {}),
      signal: interrupt.signal,
      onSecond: (s) => {
        if (text) io.stdout.write(`${formatSecond(s, timeline.current())}\n`);
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
  const { summary, series } = { ...result, summary: { ...result.summary, target: label } };
  const checked = evaluateThresholds(summary, thresholds);
  const run: LoadRunInput = { summary, series: boundSeries(series), replicas: timeline.replicas(), scalingEvents: timeline.scalingEvents(), thresholds: checked, inCluster: false };
  let recorded: string | undefined;
  if (app && client && flags.record) {
    try {
      recorded = (await client.recordLoadRun(app.namespace, app.name, run)).id;
    } catch (e) {
      io.stderr.write(`warning: the run was not recorded: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  if (text) {
    io.stdout.write(formatSummary(summary, run.scalingEvents, checked));
    if (recorded) io.stdout.write(`\nRecorded as load run ${recorded}.\n`);
  } else io.stdout.write(`${JSON.stringify({ ...run, ...(recorded ? { id: recorded } : {}) }, null, 2)}\n`);
  ctx.setExit(checked.some((t) => t.failed) ? EXIT.FAILED : EXIT.OK);
}
