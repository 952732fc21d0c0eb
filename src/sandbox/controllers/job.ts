import type { KObject } from '../types.ts';
import { parseTime, rfc3339 } from '../client/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import type { Condition } from '../client/objects.ts';
import { asArray, asRecord, controllerRef, deepEqual, errorMessage, generateName, getCondition, isApiError, isPodReady, num, objKey, ownerRefTo, podPhase, setCondition, spec, splitKey, status, str } from '../client/objects.ts';
import { PodExpectations } from './replicaset.ts';
import { RES } from '../client/resources.ts';

export function isJobFinished(job: KObject): 'Complete' | 'Failed' | undefined {
  for (const t of ['Complete', 'Failed'] as const) if (getCondition(status(job)['conditions'], t)?.status === 'True') return t;
  return undefined;
}

/** Job pods' back-off after failures: 10s doubling, capped at 6 minutes. */
export function jobBackoffSeconds(failures: number): number {
  return failures <= 0 ? 0 : Math.min(10 * 2 ** (failures - 1), 360);
}

export class JobController extends QueueController {
  readonly name = 'job-controller';
  private readonly jobInf: SharedInformer;
  private readonly podInf: SharedInformer;
  private readonly expectations: PodExpectations;

  constructor(ctx: ControllerContext) {
    super(ctx, 2);
    this.jobInf = ctx.informers.for(RES.jobs);
    this.podInf = ctx.informers.for(RES.pods);
    this.expectations = new PodExpectations(() => ctx.clock.now());
    this.jobInf.addHandler({
      add: (o) => this.queue.add(objKey(o)),
      update: (_o, n) => this.queue.add(objKey(n)),
      delete: (o) => this.expectations.clear(objKey(o)),
    });
    const owner = (p: KObject): string | undefined => {
      const r = controllerRef(p);
      return r?.kind === 'Job' ? `${p.metadata.namespace}/${r.name}` : undefined;
    };
    this.podInf.addHandler({
      add: (p) => {
        const k = owner(p);
        if (k) {
          this.expectations.observeCreate(k, p.metadata.name ?? '');
          this.queue.add(k);
        }
      },
      update: (_o, p) => {
        const k = owner(p);
        if (k) this.queue.add(k);
      },
      delete: (p) => {
        const k = owner(p);
        if (k) {
          this.expectations.observeDelete(k, p.metadata.name ?? '');
          this.queue.add(k);
        }
      },
    });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.jobInf, this.podInf];
  }

  protected initialKeys(): string[] {
    return this.jobInf.list().map(objKey);
  }

  protected async sync(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobInf.get(namespace, name);
    if (!cached || cached.metadata.deletionTimestamp) return undefined;
    const job = structuredClone(cached);
    const s = spec(job);
    const recorder = this.ctx.recorder('job-controller');
    const nowMs = this.ctx.clock.now();
    const now = rfc3339(nowMs);
    const prev = status(job);
    let conds = asArray(prev['conditions']) as Condition[];
    const pods = this.podInf.listByOwner(job.metadata.uid);
    const active = pods.filter((p) => !p.metadata.deletionTimestamp && podPhase(p) !== 'Succeeded' && podPhase(p) !== 'Failed');
    const succeeded = pods.filter((p) => podPhase(p) === 'Succeeded').length;
    const restartPolicy = String(asRecord(asRecord(s['template'])['spec'])['restartPolicy'] ?? 'Never');
    const restarts = pods.reduce((sum, p) => sum + asArray(status(p)['containerStatuses']).reduce<number>((a, c) => a + num(asRecord(c)['restartCount'], 0), 0), 0);
    const failedPods = pods.filter((p) => podPhase(p) === 'Failed').length;
    const failed = failedPods + (restartPolicy === 'OnFailure' ? restarts : 0);
    const ready = active.filter(isPodReady).length;

    const finished = isJobFinished(job);
    const ttl = s['ttlSecondsAfterFinished'];
    if (finished) {
      if (typeof ttl === 'number') {
        const done = parseTime(prev['completionTime']) ?? parseTime(getCondition(conds, finished)?.lastTransitionTime) ?? nowMs;
        const at = done + ttl * 1000 * this.ctx.timeScale;
        if (at <= nowMs) {
          await this.ctx.client.delete(RES.jobs, namespace, name, { propagationPolicy: 'Background' }).catch((err: unknown) => {
            if (!isApiError(err, 404)) throw err;
          });
          return undefined;
        }
        return { requeueAfterMs: at - nowMs };
      }
      return undefined;
    }

    const completions = typeof s['completions'] === 'number' ? s['completions'] : undefined;
    const parallelism = num(s['parallelism'], 1);
    const backoffLimit = num(s['backoffLimit'], 6);
    const suspended = s['suspend'] === true;
    const startTime = str(prev['startTime']) ?? (suspended ? undefined : now);
    const deadline = s['activeDeadlineSeconds'];
    let failure: { reason: string; message: string } | undefined;
    if (failed > backoffLimit) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    else if (typeof deadline === 'number' && startTime && (parseTime(startTime) ?? nowMs) + deadline * 1000 * this.ctx.timeScale <= nowMs) {
      failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    }
    const complete = completions === undefined ? succeeded > 0 && active.length === 0 : succeeded >= completions;

    let requeueAfterMs: number | undefined;
    if (failure) {
      await this.deletePods(job, active);
      conds = setCondition(conds, { type: 'FailureTarget', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: failure.reason, message: failure.message });
      conds = setCondition(conds, { type: 'Failed', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: failure.reason, message: failure.message });
      recorder.event(job, 'Warning', failure.reason, failure.message);
    } else if (complete) {
      if (active.length > 0) await this.deletePods(job, active);
      conds = setCondition(conds, { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
      conds = setCondition(conds, { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
      recorder.event(job, 'Normal', 'Completed', 'Job completed');
    } else if (suspended) {
      if (active.length) await this.deletePods(job, active);
      conds = setCondition(conds, { type: 'Suspended', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: 'JobSuspended', message: 'Job suspended' });
    } else {
      if (getCondition(conds, 'Suspended')?.status === 'True') {
        conds = setCondition(conds, { type: 'Suspended', status: 'False', lastProbeTime: now, lastTransitionTime: now, reason: 'JobResumed', message: 'Job resumed' });
        recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
      }
      const wantActive = completions === undefined ? (succeeded > 0 ? 0 : parallelism) : Math.min(parallelism, completions - succeeded);
      const diff = wantActive - active.length;
      if (diff > 0 && this.expectations.satisfied(key)) {
        // Failed pods are replaced only after the back-off, measured from the last failure.
        const backoffMs = jobBackoffSeconds(failedPods) * 1000 * this.ctx.timeScale;
        const lastFail = Math.max(0, ...pods.filter((p) => podPhase(p) === 'Failed').map((p) => parseTime(p.metadata.creationTimestamp) ?? 0));
        const wait = failedPods > 0 ? lastFail + backoffMs - nowMs : 0;
        if (wait > 0) requeueAfterMs = wait;
        else await this.createPods(key, job, diff);
      } else if (diff < 0) {
        await this.deletePods(job, active.slice(0, -diff));
      }
    }
    const st: Record<string, unknown> = { ...prev };
    if (startTime) st['startTime'] = startTime;
    st['active'] = active.length || undefined;
    st['ready'] = ready;
    st['succeeded'] = succeeded || undefined;
    st['failed'] = failed || undefined;
    st['terminating'] = pods.filter((p) => p.metadata.deletionTimestamp).length || undefined;
    if (complete && !failure) st['completionTime'] = now;
    if (conds.length) st['conditions'] = conds;
    for (const k of Object.keys(st)) if (st[k] === undefined) delete st[k];
    if (!deepEqual(st, job['status'])) await this.ctx.client.updateStatus(RES.jobs, { ...job, status: st });
    if (typeof deadline === 'number' && startTime && !complete && !failure) {
      const left = (parseTime(startTime) ?? nowMs) + deadline * 1000 * this.ctx.timeScale - nowMs;
      requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(50, left + 50));
    }
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  private async createPods(key: string, job: KObject, n: number): Promise<void> {
    const template = asRecord(spec(job)['template']);
    const tmeta = asRecord(template['metadata']);
    const recorder = this.ctx.recorder('job-controller');
    const uid = job.metadata.uid ?? '';
    const names = Array.from({ length: n }, () => generateName(`${job.metadata.name}-`));
    this.expectations.expect(key, names, []);
    let firstErr: unknown;
    for (const podName of names) {
      const labels: Record<string, string> = {
        ...(asRecord(tmeta['labels']) as Record<string, string>),
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': job.metadata.name ?? '',
        'controller-uid': uid,
        'job-name': job.metadata.name ?? '',
      };
      const pod: KObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: podName,
          generateName: `${job.metadata.name}-`,
          namespace: job.metadata.namespace,
          labels,
          annotations: { ...(asRecord(tmeta['annotations']) as Record<string, string>) },
          ownerReferences: [ownerRefTo(job)],
        },
        spec: structuredClone(asRecord(template['spec'])),
      };
      if (Object.keys(pod.metadata.annotations ?? {}).length === 0) delete pod.metadata.annotations;
      try {
        const created = await this.ctx.client.create(RES.pods, pod, { fieldManager: 'kube-controller-manager' });
        recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      } catch (err) {
        this.expectations.observeCreate(key, podName);
        if (!isApiError(err, 409)) recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
        firstErr ??= err;
        break;
      }
    }
    for (const podName of names) if (firstErr) this.expectations.observeCreate(key, podName);
    if (firstErr) throw firstErr;
  }

  private async deletePods(job: KObject, pods: KObject[]): Promise<void> {
    const recorder = this.ctx.recorder('job-controller');
    await Promise.all(
      pods.map(async (p) => {
        try {
          await this.ctx.client.delete(RES.pods, p.metadata.namespace, p.metadata.name ?? '');
          recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (err) {
          if (!isApiError(err, 404)) throw err;
        }
      }),
    );
  }
}
