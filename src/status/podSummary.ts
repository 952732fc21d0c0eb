/** What a status says about one pod, and the pod readers computeAppStatus and findFailure share. */
import type { PodSummary } from './types.ts';
import type { ContainerJson, PodJson } from './kubeShapes.ts';
import { normalizeTime } from './statusTime.ts';

export function containerSpec(pod: PodJson, name: string): ContainerJson | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
}

export function podReady(p: PodJson): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function summarizePod(p: PodJson, current: boolean): PodSummary {
  const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const waiting = statuses.find((cs) => cs.state?.waiting?.reason)?.state?.waiting;
  const terminated = statuses.map((cs) => cs.lastState?.terminated ?? cs.state?.terminated).find((t) => t !== undefined);
  return {
    name: p.metadata?.name ?? '',
    phase: p.status?.phase ?? 'Pending',
    ready: podReady(p),
    restarts: statuses.reduce((n, cs) => n + (cs.restartCount ?? 0), 0),
    node: p.spec?.nodeName ?? null,
    ip: p.status?.podIP ?? null,
    current,
    waitingReason: waiting?.reason ?? null,
    waitingMessage: waiting?.message ?? null,
    lastTermination: terminated
      ? { exitCode: terminated.exitCode ?? 0, reason: terminated.reason ?? null, finishedAt: normalizeTime(terminated.finishedAt ?? null) }
      : null,
  };
}

export function byName(a: PodJson, b: PodJson): number {
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

export function byCurrentThenName(a: PodSummary, b: PodSummary): number {
  return Number(b.current) - Number(a.current) || a.name.localeCompare(b.name);
}
