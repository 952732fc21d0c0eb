import type { RolloutReason, RolloutState } from '../../src/status/types.ts';

/** What a failing rollout reason means and what to do about it, in plain words. */
export const REASON_HELP: Partial<Record<RolloutReason, { readonly what: string; readonly hint: string }>> = {
  ImagePullFailed: { what: 'The cluster cannot pull the container image.', hint: 'Check that the image name and tag exist and that the registry is reachable (and needs no credentials the cluster lacks); fix spec.image and deploy again, or roll back to the last working revision.' },
  CrashLooping: { what: 'The container starts and exits again and again.', hint: 'Read the logs of the last run (Logs tab) for the error; check the command, the environment and that the app listens on the configured port.' },
  ConfigError: { what: 'The container cannot be created from its configuration.', hint: 'A referenced Secret or ConfigMap key is missing, or a volume cannot be mounted: read the warning events below.' },
  ForbiddenByPodSecurity: { what: 'The namespace\'s Pod Security level refuses the pods.', hint: 'Remove the dangerously* setting that weakens the pod, or deploy to a namespace whose policy allows it.' },
  QuotaExceeded: { what: 'The namespace\'s resource quota is used up.', hint: 'Lower spec.resources or the replicas, or ask for a larger quota.' },
  Unschedulable: { what: 'No node can run the pods.', hint: 'Lower the CPU or memory requests, or add capacity; the warning events say what each node lacks.' },
  ProbeFailing: { what: 'The app runs but fails its readiness or liveness probe.', hint: 'Check spec.probes (path and port) and that the app answers there within the timeout; the logs show what it does.' },
  ProgressDeadlineExceeded: { what: 'The rollout made no progress within its deadline.', hint: 'Look at the pods and warning events for what holds it up; roll back if the old revision worked.' },
  Drifted: { what: 'Objects were changed or deleted outside berth.', hint: 'berth repairs drift on its next reconcile; deploy again to restore it now.' },
  NotFound: { what: 'berth has not seen the app\'s Deployment in the cluster yet.', hint: 'Wait a few seconds; if it stays, check that berth can reach the cluster (/readyz).' },
};

export const STATE_CLASS: Record<RolloutState, string> = { Available: 'ok', Progressing: 'busy', Pending: 'busy', Degraded: 'warn', Failed: 'bad' };

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return iso;
  if (s < 60) return `${Math.max(0, s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(v < 0.01 ? 2 : 1)} %`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
