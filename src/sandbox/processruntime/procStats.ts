import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime/stime (USER_HZ, 100 on every Linux Node supports). */
export const CLOCK_TICKS = 100;

export interface ProcStat {
  pid: number;
  pgrp: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so split after the last ")". */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // Fields after the name start at field 3 (state): pgrp is field 5, utime 14, stime 15.
  const f = text.slice(close + 2).split(' ');
  const pgrp = Number(f[2]);
  const cpu = Number(f[11]) + Number(f[12]);
  if (!Number.isFinite(pid) || !Number.isFinite(pgrp) || !Number.isFinite(cpu)) return undefined;
  return { pid, pgrp, cpuTicks: cpu };
}

/** VmRSS of /proc/<pid>/status in bytes (0 for kernel threads and zombies, which have none). */
export function parseVmRss(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

export interface GroupUsage {
  cpuTicks: number;
  rssBytes: number;
}

/**
 * CPU ticks and resident memory summed per process group, for the given groups only. One pass
 * over /proc/<pid>/stat, then /proc/<pid>/status for the matching processes; no `ps`.
 */
export function sampleGroups(pgids: ReadonlySet<number>, procRoot = '/proc'): Map<number, GroupUsage> {
  const out = new Map<number, GroupUsage>();
  if (pgids.size === 0) return out;
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let st: ProcStat | undefined;
    try {
      st = parseProcStat(readFileSync(`${procRoot}/${e}/stat`, 'utf8'));
    } catch {
      continue; // exited between readdir and read
    }
    if (!st || !pgids.has(st.pgrp)) continue;
    let rss = 0;
    try {
      rss = parseVmRss(readFileSync(`${procRoot}/${e}/status`, 'utf8'));
    } catch {
      // gone meanwhile: count its CPU, no memory
    }
    const g = out.get(st.pgrp) ?? { cpuTicks: 0, rssBytes: 0 };
    g.cpuTicks += st.cpuTicks;
    g.rssBytes += rss;
    out.set(st.pgrp, g);
  }
  return out;
}
