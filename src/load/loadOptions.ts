/**
 * The options of a load run as `berth load` takes them (strings, as typed), checked strictly into what
 * the generator needs. One function for both sides: the CLI checks before anything is sent, and the
 * server checks the same strings again before it starts an in-cluster Job (the CLI is not trusted to
 * have done it).
 */
import { BerthError, problem } from '../errors.ts';
import { parseFailOn, type Threshold } from './failOn.ts';
import { parseLoadDuration, parseRate, parseStages, planFrom, type LoadPlan } from './loadPlan.ts';

/** The options as written on the command line; `body` is the text itself (the CLI reads @FILE). */
export interface LoadOptionsInput {
  readonly rate?: string | undefined;
  readonly duration?: string | undefined;
  readonly stages?: string | undefined;
  readonly concurrency: string;
  readonly timeout: string;
  readonly method: string;
  readonly header: readonly string[];
  readonly body?: string | undefined;
  readonly path: readonly string[];
  readonly workers?: string | undefined;
  readonly failOn: readonly string[];
}

export interface LoadOptions {
  readonly plan: LoadPlan;
  readonly thresholds: readonly Threshold[];
  readonly concurrency: number;
  readonly workers?: number;
  readonly timeoutMs: number;
  /** Upper case. */
  readonly method: string;
  /** Lower-case names. */
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Request paths as given (each starts with "/"); empty: the target's own path. */
  readonly paths: readonly string[];
}

export const MAX_CONCURRENCY = 100_000;
export const MAX_WORKERS = 64;

export function invalidLoadOption(path: string, message: string): BerthError {
  return new BerthError('BERTH_LOAD_OPTIONS_INVALID', message, { problems: [problem('BERTH_LOAD_OPTIONS_INVALID', path, message)] });
}

export function intOption(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw invalidLoadOption(flag, `${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return Number(value);
}

function headersOf(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    const name = i > 0 ? h.slice(0, i).trim().toLowerCase() : '';
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw invalidLoadOption('--header', `--header "${h}" is not NAME: VALUE`);
    const value = h.slice(i + 1).trim();
    if (/[\r\n]/.test(value)) throw invalidLoadOption('--header', `--header "${name}" contains a line break`);
    out[name] = value;
  }
  return out;
}

export function parseLoadOptions(input: LoadOptionsInput): LoadOptions {
  const plan = planFrom({
    ...(input.rate !== undefined ? { rate: parseRate(input.rate) } : {}),
    ...(input.duration !== undefined ? { durationMs: parseLoadDuration(input.duration, '--duration') } : {}),
    ...(input.stages !== undefined ? { stages: parseStages(input.stages) } : {}),
  });
  const thresholds = input.failOn.map(parseFailOn);
  const concurrency = intOption(input.concurrency, '--concurrency', 1, MAX_CONCURRENCY);
  const workers = input.workers !== undefined ? intOption(input.workers, '--workers', 1, MAX_WORKERS) : undefined;
  const timeoutMs = parseLoadDuration(input.timeout, '--timeout');
  const method = input.method.toUpperCase();
  if (!/^[A-Z]{1,16}$/.test(method)) throw invalidLoadOption('--method', `--method "${input.method}" is not an HTTP method`);
  const headers = headersOf(input.header);
  for (const p of input.path) if (!p.startsWith('/') || /[\s#]/.test(p)) throw invalidLoadOption('--path', `--path "${p}" must start with "/" and contain no spaces or "#"`);
  return { plan, thresholds, concurrency, ...(workers !== undefined ? { workers } : {}), timeoutMs, method, headers, ...(input.body !== undefined ? { body: input.body } : {}), paths: [...input.path] };
}
