/**
 * The schedule of an open-model run: a list of stages whose rate ramps linearly from the previous
 * stage's end rate. Pure math, so the generator's timing and the tests share one definition: request
 * k (0-based) is due when the integral of the rate reaches k.
 */
import { parseDuration } from '../appspec/formats.ts';
import { BerthError, problem } from '../errors.ts';

export interface PlanStage {
  readonly startMs: number;
  readonly durationMs: number;
  /** Requests per second at the stage's start and end. */
  readonly fromRate: number;
  readonly toRate: number;
  /** Requests due before the stage starts. */
  readonly before: number;
}

export interface LoadPlan {
  readonly stages: readonly PlanStage[];
  readonly totalMs: number;
  /** Requests the whole plan asks for. */
  readonly total: number;
}

/** Highest rate one run may ask for: beyond it a typo (500000 for 5000) would flood the target. */
export const MAX_RATE = 200_000;
const MAX_STAGE_MS = 24 * 3_600_000;

function invalid(path: string, message: string, hint: string): BerthError {
  return new BerthError('BERTH_LOAD_OPTIONS_INVALID', message, { hint, problems: [problem('BERTH_LOAD_OPTIONS_INVALID', path, message)] });
}

export function parseRate(value: string, flag = '--rate'): number {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) throw invalid(flag, `${flag} must be a number of requests per second, got "${value}"`, 'Use e.g. --rate 200.');
  const rate = Number(value);
  if (rate > MAX_RATE) throw invalid(flag, `${flag} ${rate} is above the limit of ${MAX_RATE} requests per second`, `Split the load over several runs, or lower ${flag}.`);
  return rate;
}

export function parseLoadDuration(value: string, flag: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  if (ms === undefined || ms <= 0 || ms > MAX_STAGE_MS) throw invalid(flag, `${flag} must be a duration between 1ms and 24h such as 30s or 2m, got "${value}"`, 'Use e.g. 30s, 2m or 1h30m.');
  return ms;
}

/** `30s:50,2m:500,30s:0`: each DURATION:RATE ramps linearly to RATE over DURATION. */
export function parseStages(value: string): { durationMs: number; toRate: number }[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw invalid('--stages', `--stages must be a comma-separated list of DURATION:RATE, got "${value}"`, 'Use e.g. --stages 30s:50,2m:500,30s:0.');
  return parts.map((p, i) => {
    const m = /^([^:]+):([^:]+)$/.exec(p);
    if (!m) throw invalid(`--stages[${i}]`, `stage ${i + 1} "${p}" is not DURATION:RATE`, 'Use e.g. 30s:50 (ramp to 50 requests/s over 30 seconds).');
    return { durationMs: parseLoadDuration(m[1] ?? '', `--stages[${i}] duration`), toRate: parseRate(m[2] ?? '', `--stages[${i}] rate`) };
  });
}

/**
 * A plan from the flags: `--rate R --duration D` is one constant stage; `--stages` ramps from 0
 * (k6's semantics). Both at once would be ambiguous, so it is refused.
 */
export function planFrom(opts: { readonly rate?: number; readonly durationMs?: number; readonly stages?: readonly { durationMs: number; toRate: number }[] }): LoadPlan {
  if (opts.stages && opts.rate !== undefined) throw invalid('--rate', '--rate and --stages cannot be combined', 'Use --rate with --duration for a constant rate, or --stages for ramps (they start at 0).');
  if (opts.stages && opts.durationMs !== undefined) throw invalid('--duration', '--duration and --stages cannot be combined', 'The stages already say how long the run lasts.');
  if (!opts.stages && opts.rate === undefined) throw invalid('--rate', 'give --rate (with --duration) or --stages', 'Use e.g. --rate 100 --duration 1m, or --stages 30s:50,2m:500,30s:0.');
  const raw = opts.stages ?? [{ durationMs: opts.durationMs ?? 30_000, toRate: opts.rate ?? 0 }];
  const stages: PlanStage[] = [];
  let startMs = 0;
  let rate = opts.stages ? 0 : (opts.rate ?? 0);
  let before = 0;
  for (const s of raw) {
    const stage = { startMs, durationMs: s.durationMs, fromRate: rate, toRate: s.toRate, before };
    stages.push(stage);
    before += stageCount(stage, s.durationMs);
    startMs += s.durationMs;
    rate = s.toRate;
  }
  if (startMs > MAX_STAGE_MS) throw invalid('--stages', 'the run would last longer than 24h', 'Shorten the stages.');
  return { stages, totalMs: startMs, total: Math.floor(before + 1e-9) };
}

/** Requests due within the first `dt` ms of a stage (the integral of its rate). */
function stageCount(s: Pick<PlanStage, 'fromRate' | 'toRate' | 'durationMs'>, dt: number): number {
  return (s.fromRate * dt + ((s.toRate - s.fromRate) * dt * dt) / (2 * s.durationMs)) / 1000;
}

/** Requests due by `ms` since the start (fractional). */
export function dueBy(plan: LoadPlan, ms: number): number {
  if (ms <= 0) return 0;
  for (const s of plan.stages) if (ms < s.startMs + s.durationMs) return s.before + stageCount(s, ms - s.startMs);
  return plan.total;
}

/** The rate (requests/s) the plan asks for at `ms`. */
export function rateAt(plan: LoadPlan, ms: number): number {
  for (const s of plan.stages) if (ms < s.startMs + s.durationMs) return s.fromRate + ((s.toRate - s.fromRate) * (ms - s.startMs)) / s.durationMs;
  return 0;
}

/**
 * When request `k` (0-based) is due, in ms since the start: the root of the stage's quadratic, in the
 * form that stays stable for flat, rising and falling ramps. Infinity when the plan asks for fewer.
 */
export function intendedTime(plan: LoadPlan, k: number): number {
  if (k >= plan.total) return Infinity;
  for (const s of plan.stages) {
    const inStage = stageCount(s, s.durationMs);
    if (k >= s.before + inStage) continue;
    const c = k - s.before;
    if (c <= 0) return s.startMs;
    const a = (s.toRate - s.fromRate) / (2 * s.durationMs * 1000);
    const b = s.fromRate / 1000;
    const dt = (2 * c) / (b + Math.sqrt(Math.max(0, b * b + 4 * a * c)));
    return s.startMs + Math.min(s.durationMs, dt);
  }
  return Infinity;
}
