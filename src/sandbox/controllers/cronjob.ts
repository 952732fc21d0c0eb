import type { KObject } from '../types.ts';
import { parseTime, rfc3339 } from '../client/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { CronSchedule } from './cron.ts';
import { CronParseError, mostRecent, nextAfter, parseCron } from './cron.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { isJobFinished } from './job.ts';
import { asArray, asRecord, controllerRef, deepEqual, errorMessage, isApiError, num, objKey, ownerRefTo, spec, splitKey, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

/**
 * Cron time runs `1 / timeScale` times faster than wall time, anchored at controller start, so a
 * "* * * * *" CronJob fires every 3 s at timeScale 0.05 and exactly on the minute at timeScale 1.
 */
export class ScaledCronClock {
  constructor(
    private readonly realNow: () => number,
    private readonly timeScale: number,
    private readonly anchor: number = realNow(),
  ) {}
  now(): number {
    if (this.timeScale === 1) return this.realNow();
    return this.anchor + (this.realNow() - this.anchor) / this.timeScale;
  }
  /** Maps a wall-clock instant (e.g. a creationTimestamp) into cron time. */
  toCron(realMs: number): number {
    if (this.timeScale === 1) return realMs;
    return this.anchor + (realMs - this.anchor) / this.timeScale;
  }
  /** Real milliseconds until cron time `t`. */
  realDelayUntil(t: number): number {
    return Math.max(0, (t - this.now()) * this.timeScale);
  }
}

/** getJobName: `<cronjob>-<scheduled time in minutes since the epoch>`. */
export function jobNameFor(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60000)}`;
}

export class CronJobController extends QueueController {
  readonly name = 'cronjob-controller';
  private readonly cjInf: SharedInformer;
  private readonly jobInf: SharedInformer;
  private readonly cron: ScaledCronClock;

  constructor(ctx: ControllerContext) {
    super(ctx, 1);
    this.cjInf = ctx.informers.for(RES.cronjobs);
    this.jobInf = ctx.informers.for(RES.jobs);
    this.cron = new ScaledCronClock(() => ctx.clock.now(), ctx.timeScale);
    this.cjInf.addHandler({
      add: (o) => this.queue.add(objKey(o)),
      update: (_o, n) => this.queue.add(objKey(n)),
    });
    const owner = (j: KObject): void => {
      const r = controllerRef(j);
      if (r?.kind === 'CronJob') this.queue.add(`${j.metadata.namespace}/${r.name}`);
    };
    this.jobInf.addHandler({ add: owner, update: owner, delete: owner });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.cjInf, this.jobInf];
  }

  protected initialKeys(): string[] {
    return this.cjInf.list().map(objKey);
  }

  protected async sync(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.cjInf.get(namespace, name);
    if (!cached || cached.metadata.deletionTimestamp) return undefined;
    const cj = structuredClone(cached);
    const s = spec(cj);
    const recorder = this.ctx.recorder('cronjob-controller');
    const client = this.ctx.client;
    const prev = status(cj);
    const jobs = this.jobInf.listByOwner(cj.metadata.uid);

    // Reconcile the active list with what exists, noting finished jobs.
    const activeRefs = asArray(prev['active']).map(asRecord);
    const nextActive: Record<string, unknown>[] = [];
    let lastSuccessful = prev['lastSuccessfulTime'] as string | undefined;
    for (const j of jobs) {
      const fin = isJobFinished(j);
      const wasActive = activeRefs.some((r) => r['uid'] === j.metadata.uid);
      if (!fin) {
        if (!j.metadata.deletionTimestamp) nextActive.push(jobRef(j));
      } else if (wasActive) {
        recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${fin}`);
        if (fin === 'Complete') {
          const ct = status(j)['completionTime'];
          if (typeof ct === 'string' && (!lastSuccessful || ct > lastSuccessful)) lastSuccessful = ct;
        }
      }
    }

    // History limits: delete the oldest finished jobs beyond the limit.
    await this.cleanupHistory(cj, jobs.filter((j) => isJobFinished(j) === 'Complete'), num(s['successfulJobsHistoryLimit'], 3));
    await this.cleanupHistory(cj, jobs.filter((j) => isJobFinished(j) === 'Failed'), num(s['failedJobsHistoryLimit'], 1));

    let schedule: CronSchedule;
    try {
      schedule = parseCron(String(s['schedule'] ?? ''));
    } catch (err) {
      recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${String(s['schedule'])}" : ${err instanceof CronParseError ? err.message : errorMessage(err)}`);
      return undefined;
    }
    const tz = s['timeZone'];
    if (typeof tz === 'string' && !['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Z'].includes(tz)) {
      recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${tz}": the sandbox evaluates schedules in UTC only`);
      return undefined;
    }

    const nowMs = this.cron.now();
    let lastSchedule = prev['lastScheduleTime'] as string | undefined;
    const createdAt = parseTime(cj.metadata.creationTimestamp);
    const earliest = parseTime(lastSchedule) ?? (createdAt === undefined ? nowMs : this.cron.toCron(createdAt));
    const st: Record<string, unknown> = { ...prev };
    if (s['suspend'] !== true) {
      const { time: scheduled, missed } = mostRecent(schedule, earliest, nowMs);
      const deadline = s['startingDeadlineSeconds'];
      if (scheduled !== undefined) {
        const tooLate = typeof deadline === 'number' && scheduled + deadline * 1000 < nowMs;
        const policy = String(s['concurrencyPolicy'] ?? 'Allow');
        if (missed > 100) recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
        if (tooLate) {
          recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc3339(scheduled)}`);
        } else if (policy === 'Forbid' && nextActive.length > 0) {
          recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
        } else {
          if (policy === 'Replace') {
            for (const ref of nextActive.splice(0)) {
              try {
                await client.delete(RES.jobs, namespace, String(ref['name']), { propagationPolicy: 'Background' });
                recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${String(ref['name'])}`);
              } catch (err) {
                if (!isApiError(err, 404)) throw err;
              }
            }
          }
          const job = await this.createJob(cj, scheduled);
          if (job) nextActive.push(jobRef(job));
          lastSchedule = rfc3339(scheduled);
        }
      }
    }
    if (nextActive.length) st['active'] = nextActive;
    else delete st['active'];
    if (lastSchedule) st['lastScheduleTime'] = lastSchedule;
    if (lastSuccessful) st['lastSuccessfulTime'] = lastSuccessful;
    if (!deepEqual(st, cj['status'])) await client.updateStatus(RES.cronjobs, { ...cj, status: st });
    if (s['suspend'] === true) return undefined;
    const next = nextAfter(schedule, Math.max(nowMs, parseTime(lastSchedule) ?? 0));
    return next === undefined ? undefined : { requeueAfterMs: this.cron.realDelayUntil(next) + 20 };
  }

  private async createJob(cj: KObject, scheduled: number): Promise<KObject | undefined> {
    const tpl = asRecord(spec(cj)['jobTemplate']);
    const tmeta = asRecord(tpl['metadata']);
    const name = jobNameFor(cj.metadata.name ?? '', scheduled);
    const job: KObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...(asRecord(tmeta['labels']) as Record<string, string>) },
        annotations: { ...(asRecord(tmeta['annotations']) as Record<string, string>), [SCHEDULED_TIMESTAMP]: rfc3339(scheduled) },
        ownerReferences: [ownerRefTo(cj)],
      },
      spec: structuredClone(asRecord(tpl['spec'])),
    };
    const recorder = this.ctx.recorder('cronjob-controller');
    try {
      const created = await this.ctx.client.create(RES.jobs, job, { fieldManager: 'kube-controller-manager' });
      recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
      return created;
    } catch (err) {
      if (isApiError(err, 409)) return this.ctx.client.get(RES.jobs, cj.metadata.namespace, name);
      recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(err)}`);
      throw err;
    }
  }

  private async cleanupHistory(cj: KObject, finished: KObject[], limit: number): Promise<void> {
    if (finished.length <= limit) return;
    const sorted = [...finished].sort((a, b) => (parseTime(status(a)['startTime']) ?? 0) - (parseTime(status(b)['startTime']) ?? 0) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    for (const j of sorted.slice(0, finished.length - limit)) {
      try {
        await this.ctx.client.delete(RES.jobs, j.metadata.namespace, j.metadata.name ?? '', { propagationPolicy: 'Background' });
        this.ctx.recorder('cronjob-controller').event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
    }
  }
}

function jobRef(j: KObject): Record<string, unknown> {
  return { kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1' };
}
