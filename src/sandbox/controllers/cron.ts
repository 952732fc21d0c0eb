/**
 * A 5-field cron parser (robfig/cron's standard parser, as the CronJob controller uses) evaluated
 * in UTC: minute hour day-of-month month day-of-week, with `*`, lists, ranges, steps, month and
 * weekday names, `?`, 7 as Sunday, and the @yearly/@monthly/@weekly/@daily/@hourly macros.
 * Day-of-month and day-of-week combine with OR when both are restricted, like Vixie cron.
 */

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  doms: Set<number>;
  months: Set<number>;
  dows: Set<number>;
  domStar: boolean;
  dowStar: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronParseError extends Error {}

function parseField(field: string, min: number, max: number, names?: string[], nameBase = 0): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  const num = (s: string): number => {
    const lower = s.toLowerCase();
    if (names) {
      const i = names.indexOf(lower);
      if (i >= 0) return i + nameBase;
    }
    if (!/^\d+$/.test(s)) throw new CronParseError(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": invalid syntax`);
    return Number(s);
  };
  for (const part of field.split(',')) {
    const [rangePart, stepPart, extra] = part.split('/');
    if (extra !== undefined || rangePart === undefined || rangePart === '') throw new CronParseError(`invalid expression: ${part}`);
    let lo: number;
    let hi: number;
    if (rangePart === '*' || rangePart === '?') {
      lo = min;
      hi = max;
      if (stepPart === undefined) star = true;
    } else {
      const [a, b, more] = rangePart.split('-');
      if (more !== undefined || a === undefined) throw new CronParseError(`too many hyphens: ${rangePart}`);
      lo = num(a);
      hi = b === undefined ? (stepPart !== undefined ? max : lo) : num(b);
    }
    const step = stepPart === undefined ? 1 : num(stepPart);
    if (step <= 0) throw new CronParseError(`step of range should be a positive number: ${part}`);
    if (lo < min) throw new CronParseError(`beginning of range (${lo}) below minimum (${min}): ${part}`);
    if (hi > max) throw new CronParseError(`end of range (${hi}) above maximum (${max}): ${part}`);
    if (lo > hi) throw new CronParseError(`beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, star };
}

export function parseCron(expr: string): CronSchedule {
  let e = expr.trim();
  // CronJob accepts a TZ=/CRON_TZ= prefix only through spec.timeZone; here the schedule is UTC.
  if (/^(CRON_)?TZ=/.test(e)) throw new CronParseError('CRON_TZ or TZ used in schedule is not supported, please use spec.timeZone instead');
  e = MACROS[e.toLowerCase()] ?? e;
  const fields = e.split(/\s+/);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: ${expr}`);
  const [mi, ho, dom, mo, dow] = fields as [string, string, string, string, string];
  const minutes = parseField(mi, 0, 59);
  const hours = parseField(ho, 0, 23);
  const doms = parseField(dom, 1, 31);
  const months = parseField(mo, 1, 12, MONTHS, 1);
  const dows = parseField(dow, 0, 7, DAYS, 0);
  if (dows.values.has(7)) {
    dows.values.delete(7);
    dows.values.add(0);
  }
  return { minutes: minutes.values, hours: hours.values, doms: doms.values, months: months.values, dows: dows.values, domStar: doms.star, dowStar: dows.star };
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const domOk = s.doms.has(d.getUTCDate());
  const dowOk = s.dows.has(d.getUTCDay());
  if (s.domStar || s.dowStar) return domOk && dowOk;
  return domOk || dowOk;
}

/** The first activation strictly after `afterMs` (UTC), or undefined within ~5 years. */
export function nextAfter(s: CronSchedule, afterMs: number): number | undefined {
  const d = new Date(Math.floor(afterMs / 60000) * 60000 + 60000);
  const limit = afterMs + 5 * 366 * 86400000;
  while (d.getTime() <= limit) {
    if (!s.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return d.getTime();
  }
  return undefined;
}

/**
 * The most recent activation in (earliestMs, nowMs], and how many were missed, as the CronJob
 * controller's mostRecentScheduleTime reports them.
 */
export function mostRecent(s: CronSchedule, earliestMs: number, nowMs: number): { time: number | undefined; missed: number } {
  let t = nextAfter(s, earliestMs);
  let last: number | undefined;
  let missed = 0;
  while (t !== undefined && t <= nowMs) {
    last = t;
    missed++;
    if (missed > 100) {
      // Too many missed starts: jump ahead rather than walk minute by minute.
      const jump = nextAfterAtOrBefore(s, nowMs);
      return { time: jump, missed };
    }
    t = nextAfter(s, t);
  }
  return { time: last, missed };
}

function nextAfterAtOrBefore(s: CronSchedule, nowMs: number): number | undefined {
  // Search backwards day by day for the latest activation <= now.
  for (let back = 0; back < 366 * 5; back++) {
    const dayStart = Math.floor(nowMs / 86400000) * 86400000 - back * 86400000;
    let t = nextAfter(s, dayStart - 60000);
    let last: number | undefined;
    while (t !== undefined && t <= nowMs && t < dayStart + 86400000) {
      last = t;
      t = nextAfter(s, t);
    }
    if (last !== undefined) return last;
  }
  return undefined;
}
