/** Rules about how pods are owned and run: bare Pods, Jobs and CronJobs, StatefulSet identity. */
import { at, list, mapSelectorMatches, num, rec, str, type LintRule, type RuleFinding } from '../context.ts';

const JOB_RESTART = new Set(['OnFailure', 'Never']);

export const controllerRules: readonly LintRule[] = [
  {
    id: 'berth/naked-pod',
    severity: 'warning',
    title: 'Pod without a controller',
    why: 'A bare Pod is not recreated when its node fails or is drained, cannot be rolled out or scaled, and is lost on eviction.',
    fix: 'Run it through a Deployment (or a Job for one-off work, a StatefulSet for stable identity).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.ofKind('Pod')) {
        if (list(e.object.metadata['ownerReferences']).length > 0) continue;
        yield { entry: e, path: '', message: `Pod "${e.ref.name}" is not managed by a controller; nothing recreates it after a node failure or drain.` };
      }
    },
  },
  {
    id: 'berth/job-restart-policy',
    severity: 'error',
    title: 'Job pod template without restartPolicy OnFailure or Never',
    why: 'A Job\'s pods must set restartPolicy to OnFailure or Never; the default Always is rejected by the API server.',
    fix: 'Set restartPolicy: Never (the Job controller retries with new pods, up to backoffLimit) or OnFailure (the kubelet restarts the container in place).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.ofKind('Job', 'CronJob')) {
        const t = e.template;
        if (!t) continue;
        const policy = str(rec(t.spec)?.['restartPolicy']);
        if (policy === undefined || !JOB_RESTART.has(policy)) {
          yield { entry: e, path: `${t.specPath}.restartPolicy`, message: policy === undefined ? 'restartPolicy is unset; the default Always is invalid for Job pods.' : `restartPolicy ${policy} is invalid for Job pods; use OnFailure or Never.` };
        }
      }
    },
  },
  {
    id: 'berth/cronjob-deadline',
    severity: 'warning',
    title: 'CronJob without startingDeadlineSeconds',
    why: 'Without a deadline a CronJob that missed its schedule (controller down, too many missed runs) may start late at an arbitrary time, or stop scheduling altogether after 100 missed runs.',
    fix: 'Set spec.startingDeadlineSeconds to how late a run may still start (e.g. 300).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.ofKind('CronJob')) {
        if (num(at(e.object, 'spec', 'startingDeadlineSeconds')) === undefined) {
          yield { entry: e, path: 'spec.startingDeadlineSeconds', message: 'CronJob has no startingDeadlineSeconds; missed runs start whenever the controller catches up.' };
        }
      }
    },
  },
  {
    id: 'berth/statefulset-service-name',
    severity: 'warning',
    title: 'StatefulSet without a matching headless Service',
    why: 'A StatefulSet\'s pods get stable DNS names (web-0.web) only through the headless Service named by spec.serviceName, which must select its pods. The Service is checked only when the input has Services in that namespace.',
    fix: 'Set spec.serviceName to a Service with clusterIP: None whose selector matches the pod labels.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.ofKind('StatefulSet')) {
        const name = str(at(e.object, 'spec', 'serviceName')) ?? '';
        if (name === '') {
          yield { entry: e, path: 'spec.serviceName', message: 'StatefulSet has no spec.serviceName; its pods get no stable network identity.' };
          continue;
        }
        const services = ctx.near('Service', e);
        if (services.length === 0) continue;
        const svc = services.find((s) => s.ref.name === name);
        if (!svc) yield { entry: e, path: 'spec.serviceName', message: `spec.serviceName "${name}" names no Service in the input.` };
        else if (at(svc.object, 'spec', 'clusterIP') !== 'None') yield { entry: e, path: 'spec.serviceName', message: `Service "${name}" is not headless (spec.clusterIP: None).` };
        else if (!mapSelectorMatches(at(svc.object, 'spec', 'selector'), ctx.podLabels(e))) {
          yield { entry: e, path: 'spec.serviceName', message: `headless Service "${name}" does not select the StatefulSet's pods.` };
        }
      }
    },
  },
];
