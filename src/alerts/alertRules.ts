/**
 * The alert rules of one app and the state machine of one alert; pure (no store, no clock), so every
 * threshold and transition is tested with numbers. The engine (alertEngine.ts) feeds them window
 * counts and persists what `stepAlert` decides.
 */
import { parseDuration } from '../appspec/formats.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { AlertRuleName, AlertSeverity, AlertState } from './alertTypes.ts';
import { burnRate, errorBudget, MINUTE_MS, ratioOf, SLO_BURN_WINDOWS, type BurnWindowPair, type WindowCounts } from './burnRate.ts';

export type HealthSpec = ResolvedApp['spec']['health'];

/** Window counts of one app at the evaluation time; `notBefore` clips the window's start. */
export type WindowReader = (windowMs: number, notBefore?: number) => WindowCounts;

/** Rule-specific state kept with the alert row (JSON). */
export interface AlertMemo {
  /** slo-page: the fast pair (1h/5m) held during this firing. */
  readonly fast?: boolean;
  /** slo-page: the last firing ended on recovery at this time (ms); the slow pair ignores older samples. */
  readonly resetAt?: number;
}

export interface RuleVerdict {
  readonly rule: AlertRuleName;
  readonly severity: AlertSeverity;
  /** The rule's condition holds now. */
  readonly active: boolean;
  readonly value: number;
  readonly summary: string;
  /** How long the condition must hold before the alert fires (0: at once). */
  readonly forMs: number;
  /** slo-page: the fast pair holds. */
  readonly fast?: boolean;
  /** slo-page: this verdict ends a firing on recovery; the memo records `resetAt`. */
  readonly reset?: boolean;
  /**
   * The rule's window holds no sample at all: nothing is known, so the alert keeps its state (no data
   * neither fires nor resolves). A one-minute window is empty between a leader's death and its
   * successor's first probes, or when the minute just closed is not readable yet; resolving then would
   * notify a recovery that never happened, and fire again a minute later.
   */
  readonly unknown?: boolean;
}

const pct = (r: number): string => `${(r * 100).toFixed(r < 0.001 ? 3 : 1)}%`;
const times = (b: number): string => `${b >= 100 ? b.toFixed(0) : b.toFixed(1)}×`;

/** The seed's rule: the trailing minute's error ratio above `errorRatio`, held for `window`. */
function errorRatioVerdict(health: HealthSpec, read: WindowReader): RuleVerdict {
  const c = read(MINUTE_MS);
  const value = ratioOf(c);
  return {
    rule: 'error-ratio',
    severity: 'page',
    active: c.total > 0 && value > health.errorRatio,
    ...(c.total === 0 ? { unknown: true } : {}),
    value,
    forMs: parseDuration(health.window) ?? 5 * MINUTE_MS,
    summary: `error ratio ${pct(value)} over the last minute (alerts above ${pct(health.errorRatio)} for ${health.window})`,
  };
}

interface PairResult {
  readonly pair: BurnWindowPair;
  readonly longBurn: number;
  readonly shortBurn: number;
  readonly holds: boolean;
}

function pairResult(pair: BurnWindowPair, objective: number, read: WindowReader, notBefore?: number): PairResult {
  const long = read(pair.longMs, notBefore);
  const short = read(pair.shortMs, notBefore);
  const longBurn = burnRate(ratioOf(long), objective);
  const shortBurn = burnRate(ratioOf(short), objective);
  return { pair, longBurn, shortBurn, holds: long.total > 0 && short.total > 0 && longBurn > pair.factor && shortBurn > pair.factor };
}

function describePairs(severity: AlertSeverity, objective: number, results: readonly PairResult[]): string {
  const parts = results.map((r) => `${r.pair.long} ${times(r.longBurn)}/${r.pair.short} ${times(r.shortBurn)} vs ${r.pair.factor}×`);
  return `${objective}% objective (budget ${pct(errorBudget(objective))}): ${severity} burn rates ${parts.join(', ')}`;
}

/**
 * Multi-window, multi-burn-rate (SRE workbook, Sloth's values): the alert holds while any pair's long
 * AND short window burn faster than its factor.
 *
 * One addition for pages: a page the fast pair (1h/5m) raised resolves as soon as the last 5 whole
 * minutes hold no failure (the outage is over), even though the 1h and 6h/30m windows still remember
 * it; from then on the page's windows count only samples after that recovery (`resetAt`). Without
 * this a total outage longer than ~2 minutes would keep paging for 30 minutes after the service came
 * back. A new failure soon after still pages, as it would with the plain rule (the 1h window would
 * still hold the outage). Tickets keep the plain semantics: they are about budget already spent.
 */
function sloVerdict(severity: AlertSeverity, health: HealthSpec, read: WindowReader, memo: AlertMemo, now: number): RuleVerdict {
  const objective = health.objective;
  const pairs = SLO_BURN_WINDOWS[severity];
  const clip = severity === 'page' ? memo.resetAt : undefined;
  const results = pairs.map((p) => pairResult(p, objective, read, clip));
  const holding = results.filter((r) => r.holds);
  const value = Math.max(0, ...(holding.length > 0 ? holding : results.slice(0, 1)).map((r) => Math.min(r.longBurn, r.shortBurn)));
  const base = { rule: severity === 'page' ? ('slo-page' as const) : ('slo-ticket' as const), severity, value, forMs: 0, summary: describePairs(severity, objective, results) };
  if (severity !== 'page') return { ...base, active: holding.length > 0 };
  const fast = results[0]?.holds === true;
  if (memo.fast === true) {
    // Whole minutes only: the minute the outage ended holds its last failures until it leaves the window.
    const shortMs = SLO_BURN_WINDOWS.page[0].shortMs;
    const wholeFrom = Math.ceil((now - shortMs) / MINUTE_MS) * MINUTE_MS;
    const recent = read(shortMs, Math.max(wholeFrom, clip ?? Number.NEGATIVE_INFINITY));
    if (recent.total > 0 && recent.failed === 0) return { ...base, active: false, fast: false, reset: true };
  }
  return { ...base, active: holding.length > 0, fast };
}

/** Every rule of an app at `now`; none when its health checks are off. */
export function evaluateRules(health: HealthSpec, read: WindowReader, now: number, memos: Partial<Record<AlertRuleName, AlertMemo>> = {}): RuleVerdict[] {
  if (!health.enabled) return [];
  return [errorRatioVerdict(health, read), sloVerdict('page', health, read, memos['slo-page'] ?? {}, now), sloVerdict('ticket', health, read, memos['slo-ticket'] ?? {}, now)];
}

/** An alert as the state machine needs it (the stored row, times in ms). */
export interface AlertStatus {
  readonly state: AlertState;
  readonly since: number;
  readonly memo: AlertMemo;
}

export interface AlertStep {
  readonly state: AlertState;
  readonly since: number;
  readonly memo: AlertMemo;
  /** The state changed: record it (history) and, when `notify`, tell the notifiers. */
  readonly changed: boolean;
  readonly from: AlertState | 'inactive';
  /** Firing, and resolved after firing; pending and a pending that cleared are recorded but not sent. */
  readonly notify: boolean;
}

/**
 * pending → firing → resolved, like a Prometheus rule with `for`: a condition that needs to hold for
 * `forMs` is pending first; a pending alert whose condition clears is resolved without notification.
 */
export function stepAlert(prev: AlertStatus | undefined, verdict: RuleVerdict, now: number): AlertStep {
  const from: AlertState | 'inactive' = prev === undefined || prev.state === 'resolved' ? 'inactive' : prev.state;
  const memo: AlertMemo = { ...(prev?.memo ?? {}) };
  const stay = (m: AlertMemo = memo): AlertStep => ({ state: prev?.state ?? 'resolved', since: prev?.since ?? now, memo: m, changed: false, from, notify: false });
  const move = (state: AlertState, notify: boolean, m: AlertMemo): AlertStep => ({ state, since: now, memo: m, changed: true, from, notify });
  const withFast = (m: AlertMemo): AlertMemo => (verdict.fast === true ? { ...m, fast: true } : m);

  if (verdict.unknown === true) return stay();
  if (verdict.active) {
    if (from === 'firing') return stay(withFast(memo));
    if (from === 'pending') return prev !== undefined && now - prev.since >= verdict.forMs ? move('firing', true, withFast(memo)) : stay();
    const fresh: AlertMemo = memo.resetAt !== undefined ? { resetAt: memo.resetAt } : {};
    return verdict.forMs > 0 ? move('pending', false, fresh) : move('firing', true, withFast(fresh));
  }
  const cleared: AlertMemo = verdict.reset === true ? { resetAt: now } : memo.resetAt !== undefined ? { resetAt: memo.resetAt } : {};
  if (from === 'firing') return move('resolved', true, cleared);
  if (from === 'pending') return move('resolved', false, cleared);
  return stay(memo);
}
