/**
 * The load Job's pod states, as a kubelet reports them, in berth's words: started or still waiting,
 * an image that cannot be pulled, and why a generator ended without its summary.
 */
import { describe, expect, it } from 'vitest';
import type { PodInfo } from '../cluster/clusterClient.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { containerEnded, endedWithoutSummary, podStart } from './loadJobState.ts';

const pod = (state: NonNullable<PodInfo['containerStates']>[number] | undefined, phase = 'Pending'): PodInfo => ({
  name: 'web-load-abc123-x7k2p',
  containers: ['load'],
  creationTimestamp: null,
  phase,
  containerStates: state ? [state] : [],
});
const job = (reason: string, message: string): KubeObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { conditions: [{ type: 'Failed', status: 'True', reason, message }] } });
const base = { job: 'web-load-abc123', jobObject: undefined, deadlineSeconds: 185, memoryLimit: '256Mi', output: [] };

describe('podStart', () => {
  it('waits through scheduling and ContainerCreating, and reports a running or finished container as started', () => {
    expect(podStart(pod(undefined), 'j', 'img')).toEqual({ kind: 'waiting', detail: 'Pending' });
    expect(podStart(pod({ name: 'load', waiting: { reason: 'ContainerCreating', message: '' } }), 'j', 'img')).toEqual({ kind: 'waiting', detail: 'ContainerCreating' });
    expect(podStart(pod({ name: 'load', running: true }, 'Running'), 'j', 'img').kind).toBe('started');
    expect(podStart(pod({ name: 'load', terminated: { reason: 'Completed', exitCode: 0, message: '' } }, 'Succeeded'), 'j', 'img').kind).toBe('started');
  });

  it('an image the cluster cannot pull is BERTH_LOAD_JOB_IMAGE_PULL naming the image, at the first ErrImagePull', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']) {
      const s = podStart(pod({ name: 'load', waiting: { reason, message: 'manifest unknown' } }), 'web-load-abc123', 'ghcr.io/x/berth:9');
      expect(s.kind).toBe('failed');
      if (s.kind !== 'failed') continue;
      expect(s.error.code).toBe('BERTH_LOAD_JOB_IMAGE_PULL');
      expect(s.error.message).toContain('ghcr.io/x/berth:9');
      expect(s.error.message).toContain(reason);
      expect(s.error.hint).toMatch(/berthImage/);
    }
    const config = podStart(pod({ name: 'load', waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } }), 'j', 'img');
    expect(config.kind === 'failed' && config.error.code).toBe('BERTH_LOAD_JOB_FAILED');
  });
});

describe('endedWithoutSummary', () => {
  it('OOMKilled is BERTH_LOAD_JOB_OUT_OF_MEMORY with the limit and a hint to lower the load', () => {
    const e = endedWithoutSummary({ ...base, pod: pod({ name: 'load', terminated: { reason: 'OOMKilled', exitCode: 137, message: '' } }, 'Failed') });
    expect(e.code).toBe('BERTH_LOAD_JOB_OUT_OF_MEMORY');
    expect(e.message).toContain('256Mi');
    expect(e.hint).toMatch(/--concurrency/);
  });

  it('the Job\'s deadline is BERTH_LOAD_JOB_TIMEOUT; a crash quotes the generator\'s last lines', () => {
    expect(endedWithoutSummary({ ...base, pod: undefined, jobObject: job('DeadlineExceeded', 'Job was active longer than specified deadline') }).code).toBe('BERTH_LOAD_JOB_TIMEOUT');
    const crash = endedWithoutSummary({ ...base, pod: pod({ name: 'load', terminated: { reason: 'Error', exitCode: 2, message: '' } }, 'Failed'), output: ['error: BERTH_LOAD_OPTIONS_INVALID --rate …'] });
    expect(crash.code).toBe('BERTH_LOAD_JOB_FAILED');
    expect(crash.message).toContain('exited with code 2');
    expect(crash.message).toContain('BERTH_LOAD_OPTIONS_INVALID --rate');
  });

  it('knows when the container has ended (its log is complete)', () => {
    expect(containerEnded(undefined)).toBe(true);
    expect(containerEnded(pod({ name: 'load', running: true }, 'Running'))).toBe(false);
    expect(containerEnded(pod({ name: 'load', terminated: { reason: 'Completed', exitCode: 0, message: '' } }, 'Running'))).toBe(true);
  });
});
