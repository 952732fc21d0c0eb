import type { AppSpec } from './appSchema.ts';
import { API_VERSION, DEFAULTS, KIND } from './defaults.ts';
import { scaleQuantity } from './formats.ts';
import type { ResolvedApp, ResolvedEgressRule, ResolvedPeer, ResolvedProbe } from './resolvedApp.ts';

type ProbeInput = NonNullable<NonNullable<AppSpec['spec']['probes']>['readiness']>;
type PeerInput = NonNullable<NonNullable<AppSpec['spec']['network']>['allowFrom']>[number];

/**
 * Applies every default. Only call it on a spec that passed validation: it trusts formats and
 * cross-field rules.
 */
export function resolveApp(app: AppSpec): ResolvedApp {
  const { metadata, spec } = app;
  const name = metadata.name;
  const autoscale = spec.autoscale
    ? { min: spec.autoscale.min ?? DEFAULTS.autoscaleMin, max: spec.autoscale.max, cpu: spec.autoscale.cpu ?? null, memory: spec.autoscale.memory ?? null }
    : null;
  const replicas = autoscale ? (spec.replicas ?? autoscale.min) : (spec.replicas ?? DEFAULTS.replicas);
  const lowestReplicas = autoscale ? autoscale.min : replicas;
  const cpu = spec.resources?.cpu ?? DEFAULTS.cpu;
  const memory = spec.resources?.memory ?? DEFAULTS.memory;
  const ingressIn = spec.expose?.ingress;
  const ingress = ingressIn
    ? {
        host: ingressIn.host,
        path: ingressIn.path ?? DEFAULTS.ingressPath,
        className: ingressIn.className ?? null,
        tls: ingressIn.tls === false ? null : { secretName: ingressIn.tls?.secretName ?? `${name}-tls`, issuer: ingressIn.tls?.issuer ?? null },
      }
    : null;
  const minAvailable = spec.disruption?.minAvailable;
  const tmp = spec.tmp === false ? null : { sizeLimit: spec.tmp?.sizeLimit ?? DEFAULTS.tmpSizeLimit };
  const port = spec.port ?? DEFAULTS.port;
  const security = spec.security ?? {};
  const runAsRoot = security.dangerouslyRunAsRoot ?? false;

  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: metadata.namespace ?? DEFAULTS.namespace, labels: sorted(metadata.labels ?? {}) },
    spec: {
      image: spec.image,
      command: spec.command ? [...spec.command] : null,
      args: spec.args ? [...spec.args] : null,
      replicas,
      port,
      env: sorted(spec.env ?? {}),
      secretEnv: sorted(Object.fromEntries(Object.entries(spec.secretEnv ?? {}).map(([k, v]) => [k, { secret: v.secret, key: v.key }]))),
      resources: {
        cpu,
        memory,
        cpuLimit: spec.resources?.cpuLimit === false ? null : (spec.resources?.cpuLimit ?? scaleQuantity(cpu, DEFAULTS.cpuLimitFactor) ?? null),
        memoryLimit: spec.resources?.memoryLimit ?? scaleQuantity(memory, DEFAULTS.memoryLimitFactor) ?? memory,
      },
      probes: {
        readiness: probe(spec.probes?.readiness, DEFAULTS.probes.readinessPath, { periodSeconds: DEFAULTS.probes.readinessPeriodSeconds }),
        liveness: probe(spec.probes?.liveness, DEFAULTS.probes.livenessPath),
        startup: probe(spec.probes?.startup, DEFAULTS.probes.startupPath, {
          periodSeconds: DEFAULTS.probes.startupPeriodSeconds,
          failureThreshold: DEFAULTS.probes.startupFailureThreshold,
        }),
      },
      autoscale,
      expose: { ingress },
      tmp,
      // No PDB for a single replica: minAvailable 1 of 1 would block every node drain.
      disruption: minAvailable !== undefined ? { minAvailable } : lowestReplicas >= 2 ? { minAvailable: DEFAULTS.pdbMinAvailable } : null,
      network: {
        allowFrom: peers(spec.network?.allowFrom, ingress !== null),
        egress: spec.network?.egress === 'open' ? null : (spec.network?.egress ?? []).map(egressRule),
      },
      security: {
        runAsUser: security.runAsUser ?? (runAsRoot ? 0 : DEFAULTS.runAsUser),
        runAsGroup: security.runAsGroup ?? (runAsRoot ? 0 : DEFAULTS.runAsGroup),
        fsGroup: security.fsGroup ?? DEFAULTS.fsGroup,
        dangerouslyAllowPrivilegeEscalation: security.dangerouslyAllowPrivilegeEscalation ?? false,
        dangerouslyWritableRootFilesystem: security.dangerouslyWritableRootFilesystem ?? false,
        dangerouslyRunAsRoot: runAsRoot,
        dangerouslyAddCapabilities: [...new Set(security.dangerouslyAddCapabilities ?? [])].sort(),
      },
      strategy: { maxSurge: spec.strategy?.maxSurge ?? DEFAULTS.maxSurge, maxUnavailable: spec.strategy?.maxUnavailable ?? DEFAULTS.maxUnavailable },
      progressDeadlineSeconds: spec.progressDeadlineSeconds ?? DEFAULTS.progressDeadlineSeconds,
      health: {
        enabled: spec.health?.enabled ?? true,
        path: spec.health?.path ?? DEFAULTS.health.path,
        url: spec.health?.url ?? null,
        interval: spec.health?.interval ?? DEFAULTS.health.interval,
        timeout: spec.health?.timeout ?? DEFAULTS.health.timeout,
        expectedStatus: [...(spec.health?.expectedStatus ?? [])].sort((a, b) => a - b),
        headers: Object.fromEntries(Object.entries(spec.health?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
        errorRatio: spec.health?.errorRatio ?? DEFAULTS.health.errorRatio,
        window: spec.health?.window ?? DEFAULTS.health.window,
        objective: spec.health?.objective ?? DEFAULTS.health.objective,
        cronjob: spec.health?.cronjob === true ? { schedule: spec.health.schedule ?? DEFAULTS.health.cronjobSchedule } : null,
      },
      monitoring: {
        serviceMonitor: spec.monitoring?.serviceMonitor ?? false,
        prometheusRule: spec.monitoring?.prometheusRule ?? false,
        path: spec.monitoring?.path ?? DEFAULTS.monitoring.path,
        port: spec.monitoring?.port ?? port,
        labels: sorted(spec.monitoring?.labels ?? {}),
        dashboard: spec.monitoring?.dashboard ?? false,
      },
    },
  };
}

function probe(
  input: ProbeInput | undefined,
  defaultPath: string,
  overrides: { periodSeconds?: number; failureThreshold?: number } = {},
): ResolvedProbe | null {
  if (input === false) return null;
  const p = input ?? {};
  const action: ResolvedProbe['action'] =
    p.exec !== undefined ? { kind: 'exec', command: [...p.exec] } : p.tcp === true ? { kind: 'tcp' } : { kind: 'http', path: p.path ?? defaultPath };
  return {
    action,
    periodSeconds: p.periodSeconds ?? overrides.periodSeconds ?? DEFAULTS.probes.periodSeconds,
    timeoutSeconds: p.timeoutSeconds ?? DEFAULTS.probes.timeoutSeconds,
    failureThreshold: p.failureThreshold ?? overrides.failureThreshold ?? DEFAULTS.probes.failureThreshold,
    successThreshold: p.successThreshold ?? DEFAULTS.probes.successThreshold,
    initialDelaySeconds: p.initialDelaySeconds ?? DEFAULTS.probes.initialDelaySeconds,
  };
}

function peers(input: readonly PeerInput[] | undefined, exposed: boolean): ResolvedPeer[] {
  const out: ResolvedPeer[] = (input ?? [{ ingress: true }]).map((p): ResolvedPeer => {
    if (p.ingress === true) return { kind: 'ingressController' };
    if (p.app !== undefined) return { kind: 'app', app: p.app, namespace: p.namespace ?? null };
    return { kind: 'namespace', namespace: p.namespace ?? '' };
  });
  // An Ingress that its controller cannot reach would be a silent outage.
  if (exposed && !out.some((p) => p.kind === 'ingressController')) out.unshift({ kind: 'ingressController' });
  const seen = new Set<string>();
  return out.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function egressRule(r: NonNullable<Exclude<NonNullable<AppSpec['spec']['network']>['egress'], 'open'>>[number]): ResolvedEgressRule {
  const to: ResolvedEgressRule['to'] =
    r.cidr !== undefined
      ? { kind: 'cidr', cidr: r.cidr }
      : r.app !== undefined
        ? { kind: 'app', app: r.app, namespace: r.namespace ?? null }
        : { kind: 'namespace', namespace: r.namespace ?? '' };
  return { to, ports: [...new Set(r.ports ?? [])].sort((a, b) => a - b), protocol: r.protocol ?? DEFAULTS.egressProtocol };
}

function sorted<V>(m: Readonly<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k] as V;
  return out;
}
