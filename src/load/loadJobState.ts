/**
 * What the load Job's pod and the Job itself say, in berth's words: has the generator started, is it
 * stuck for good (an image the cluster cannot pull, a container that cannot be created), and, when it
 * ended without a summary, why (out of memory, the deadline, a crash). Pure: fed the cluster's
 * answers, it returns a state or a coded error with a plain hint.
 */
import type { PodInfo } from '../cluster/clusterClient.ts';
import { BerthError } from '../errors.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { LOAD_CONTAINER } from './loadJob.ts';

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
/** Waiting reasons that do not go away by waiting (the kubelet retries them, the result stays the same). */
const CANNOT_CREATE = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreCreateHookError', 'PreStartHookError']);

export type PodStart = { readonly kind: 'waiting'; readonly detail: string } | { readonly kind: 'started' } | { readonly kind: 'failed'; readonly error: BerthError };

function containerOf(pod: PodInfo) {
  return pod.containerStates?.find((c) => c.name === LOAD_CONTAINER);
}

/** Whether the generator runs (or already ran): then its log can be followed. */
export function podStart(pod: PodInfo, job: string, image: string): PodStart {
  const c = containerOf(pod);
  if (c?.running === true || c?.terminated !== undefined) return { kind: 'started' };
  const waiting = c?.waiting;
  if (waiting && IMAGE_PULL.has(waiting.reason)) {
    return {
      kind: 'failed',
      error: new BerthError('BERTH_LOAD_JOB_IMAGE_PULL', `The load Job ${job} cannot start: the cluster cannot pull ${image} (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}). The Job was deleted.`),
    };
  }
  if (waiting && CANNOT_CREATE.has(waiting.reason)) {
    return { kind: 'failed', error: new BerthError('BERTH_LOAD_JOB_FAILED', `The load Job ${job} cannot start its container (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}). The Job was deleted.`) };
  }
  if (pod.phase === 'Failed') return { kind: 'failed', error: new BerthError('BERTH_LOAD_JOB_FAILED', `The load Job's pod ${pod.name} failed before its container started. The Job was deleted.`) };
  return { kind: 'waiting', detail: waiting?.reason || pod.phase || 'Pending' };
}

/** The Job's Failed condition, when it has one (DeadlineExceeded, BackoffLimitExceeded, ...). */
export function jobFailure(job: KubeObject | undefined): { readonly reason: string; readonly message: string } | undefined {
  const status = (job as { status?: { conditions?: { type?: string; status?: string; reason?: string; message?: string }[] } } | undefined)?.status;
  const failed = status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  return failed ? { reason: failed.reason ?? 'Failed', message: failed.message ?? '' } : undefined;
}

/** Whether the generator's container has ended (its log will not grow any more). */
export function containerEnded(pod: PodInfo | undefined): boolean {
  return pod === undefined || containerOf(pod)?.terminated !== undefined || pod.phase === 'Succeeded' || pod.phase === 'Failed';
}

export function deadlineError(job: string, deadlineSeconds: number, detail: string): BerthError {
  return new BerthError('BERTH_LOAD_JOB_TIMEOUT', `The load Job ${job} ran into its deadline of ${deadlineSeconds} s (${detail}). The Job was deleted.`);
}

/**
 * Why a generator that started produced no summary. `output` is its last lines that were not load
 * lines (errors it printed), quoted in the message.
 */
export function endedWithoutSummary(input: { readonly job: string; readonly pod: PodInfo | undefined; readonly jobObject: KubeObject | undefined; readonly deadlineSeconds: number; readonly memoryLimit: string; readonly output: readonly string[] }): BerthError {
  const { job, pod } = input;
  const ended = pod ? containerOf(pod)?.terminated : undefined;
  const said = input.output.length > 0 ? ` Its last output:\n${input.output.map((l) => `  ${l}`).join('\n')}` : '';
  if (ended?.reason === 'OOMKilled') {
    return new BerthError('BERTH_LOAD_JOB_OUT_OF_MEMORY', `The load generator of Job ${job} used more than its memory limit of ${input.memoryLimit} and was killed (OOMKilled, exit code ${ended.exitCode}). The Job was deleted.`);
  }
  const failed = jobFailure(input.jobObject);
  if (failed?.reason === 'DeadlineExceeded') return deadlineError(job, input.deadlineSeconds, failed.message || 'DeadlineExceeded');
  if (ended && ended.exitCode !== 0) return new BerthError('BERTH_LOAD_JOB_FAILED', `The load generator of Job ${job} exited with code ${ended.exitCode} (${ended.reason || 'Error'}) before its summary. The Job was deleted.${said}`);
  return new BerthError('BERTH_LOAD_JOB_FAILED', `The load generator of Job ${job} ended without a summary${failed ? ` (${failed.reason}: ${failed.message})` : ''}. The Job was deleted.${said}`);
}
