import { problem, type Problem } from '../errors.ts';
import { DEFAULTS } from './defaults.ts';
import { ENV_NAME, PERCENT, isCidr, isHostname, labelKeyError, labelValueError, parseDuration, parseQuantity } from './formats.ts';
import { isMutableReference, parseImageReference } from './imageReference.ts';

/** Labels berth owns; the user may set only app.kubernetes.io/part-of among the standard ones. */
export const RESERVED_LABELS: readonly string[] = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/version',
];

const DANGEROUS_FLAGS = ['dangerouslyAllowPrivilegeEscalation', 'dangerouslyWritableRootFilesystem', 'dangerouslyRunAsRoot'] as const;

/**
 * Problems a schema cannot express: formats without a practical regex, cross-field rules and warnings.
 * Works on the raw document and skips any field whose type is wrong (the structural pass reports it),
 * so both passes can run and every problem is reported at once.
 */
export function semanticProblems(doc: unknown): { errors: Problem[]; warnings: Problem[] } {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const root = obj(doc);
  const metadata = obj(root?.metadata);
  const spec = obj(root?.spec);

  checkLabels(errors, '/metadata/labels', obj(metadata?.labels));
  checkLabels(errors, '/spec/monitoring/labels', obj(obj(spec?.monitoring)?.labels));
  if (!spec) return { errors, warnings };

  if (typeof spec.image === 'string' && spec.image !== '') {
    const parsed = parseImageReference(spec.image);
    if (!parsed.ok) errors.push(problem('BERTH_SPEC_IMAGE', '/spec/image', `image "${spec.image}" is not valid: ${parsed.reason}`, { value: spec.image }));
    else if (isMutableReference(parsed.ref)) {
      warnings.push(
        problem('BERTH_SPEC_IMAGE_MUTABLE_TAG', '/spec/image', `image "${spec.image}" ${parsed.ref.tag === undefined ? 'has no tag (means "latest")' : 'uses the "latest" tag'}`, {
          value: spec.image,
          severity: 'warning',
        }),
      );
    }
  }

  const env = obj(spec.env) ?? {};
  const secretEnv = obj(spec.secretEnv) ?? {};
  for (const [field, map] of [['env', env], ['secretEnv', secretEnv]] as const) {
    for (const k of Object.keys(map)) {
      if (!ENV_NAME.test(k)) {
        errors.push(problem('BERTH_SPEC_ENV_NAME', `/spec/${field}/${escapeKey(k)}`, `environment variable name "${k}" is not valid`, { value: k }));
      }
    }
  }
  for (const k of Object.keys(secretEnv)) {
    if (k in env) {
      errors.push(
        problem('BERTH_SPEC_CONFLICT', `/spec/secretEnv/${escapeKey(k)}`, `"${k}" is set in both env and secretEnv`, { value: k, hint: `Keep "${k}" in only one of env and secretEnv.` }),
      );
    }
  }

  const resources = obj(spec.resources);
  checkLimit(errors, 'cpu', str(resources?.cpu) ?? DEFAULTS.cpu, resources?.cpuLimit);
  checkLimit(errors, 'memory', str(resources?.memory) ?? DEFAULTS.memory, resources?.memoryLimit);

  const probes = obj(spec.probes);
  for (const which of ['readiness', 'liveness', 'startup'] as const) {
    const p = obj(probes?.[which]);
    if (!p) continue;
    const kinds = (['path', 'tcp', 'exec'] as const).filter((k) => p[k] !== undefined);
    if (kinds.length > 1) {
      errors.push(problem('BERTH_SPEC_CONFLICT', `/spec/probes/${which}`, `${which} probe sets ${kinds.join(' and ')}; give only one`, { value: p }));
    }
    if (which !== 'readiness' && typeof p.successThreshold === 'number' && p.successThreshold !== 1) {
      errors.push(problem('BERTH_SPEC_RANGE', `/spec/probes/${which}/successThreshold`, `${which} successThreshold must be 1`, { value: p.successThreshold }));
    }
  }

  const autoscale = obj(spec.autoscale);
  let minReplicas = typeof spec.replicas === 'number' ? spec.replicas : DEFAULTS.replicas;
  if (autoscale) {
    const min = typeof autoscale.min === 'number' ? autoscale.min : DEFAULTS.autoscaleMin;
    const max = typeof autoscale.max === 'number' ? autoscale.max : undefined;
    minReplicas = min;
    if (autoscale.cpu === undefined && autoscale.memory === undefined) {
      errors.push(problem('BERTH_SPEC_REQUIRED', '/spec/autoscale', 'autoscale needs a cpu and/or memory target', { hint: 'Add e.g. "cpu: 70" (percent of the CPU request).' }));
    }
    if (max !== undefined && min > max) {
      errors.push(problem('BERTH_SPEC_CONFLICT', '/spec/autoscale/min', `autoscale.min (${min}) is greater than autoscale.max (${max})`, { value: min }));
    }
    // replicas is ignored under autoscale, but an explicit value outside [min, max] shows a misunderstanding.
    if (typeof spec.replicas === 'number' && max !== undefined && (spec.replicas < min || spec.replicas > max)) {
      errors.push(
        problem('BERTH_SPEC_CONFLICT', '/spec/replicas', `replicas (${spec.replicas}) is outside autoscale [${min}, ${max}]; the autoscaler owns the replica count`, {
          value: spec.replicas,
          hint: 'Remove replicas or move it inside [autoscale.min, autoscale.max].',
        }),
      );
    }
  }

  const ingress = obj(obj(spec.expose)?.ingress);
  if (ingress && typeof ingress.host === 'string' && !isHostname(ingress.host)) {
    errors.push(problem('BERTH_SPEC_HOSTNAME', '/spec/expose/ingress/host', `host "${ingress.host}" is not a valid DNS name`, { value: ingress.host }));
  }

  const minAvailable = obj(spec.disruption)?.minAvailable;
  if (typeof minAvailable === 'number' && minAvailable >= minReplicas) {
    errors.push(
      problem('BERTH_SPEC_CONFLICT', '/spec/disruption/minAvailable', `minAvailable (${minAvailable}) must be below the replica count (${minReplicas}), or no node can ever be drained`, {
        value: minAvailable,
      }),
    );
  }
  checkPercent(errors, '/spec/disruption/minAvailable', minAvailable);

  const network = obj(spec.network);
  arr(network?.allowFrom).forEach((raw, i) => {
    const peer = obj(raw);
    if (!peer) return;
    const path = `/spec/network/allowFrom/${i}`;
    if (peer.ingress !== undefined && (peer.app !== undefined || peer.namespace !== undefined)) {
      errors.push(problem('BERTH_SPEC_CONFLICT', path, 'a peer is either {ingress: true} or {app, namespace}, not both', { value: peer }));
    } else if (peer.ingress === undefined && peer.app === undefined && peer.namespace === undefined) {
      errors.push(problem('BERTH_SPEC_REQUIRED', path, 'a peer needs app, namespace or ingress', { value: peer }));
    }
  });
  arr(network?.egress).forEach((raw, i) => {
    const rule = obj(raw);
    if (!rule) return;
    const path = `/spec/network/egress/${i}`;
    if (rule.cidr !== undefined && (rule.app !== undefined || rule.namespace !== undefined)) {
      errors.push(problem('BERTH_SPEC_CONFLICT', path, 'an egress rule targets either a cidr or an app/namespace, not both', { value: rule }));
    } else if (rule.cidr === undefined && rule.app === undefined && rule.namespace === undefined) {
      errors.push(problem('BERTH_SPEC_REQUIRED', path, 'an egress rule needs cidr, app or namespace', { value: rule }));
    }
    if (typeof rule.cidr === 'string' && !isCidr(rule.cidr)) {
      errors.push(problem('BERTH_SPEC_CIDR', `${path}/cidr`, `"${rule.cidr}" is not a valid IPv4 or IPv6 CIDR block`, { value: rule.cidr }));
    }
  });

  const security = obj(spec.security);
  if (security) {
    const runAsRoot = security.dangerouslyRunAsRoot === true;
    if (security.runAsUser === 0 && !runAsRoot) {
      errors.push(
        problem('BERTH_SPEC_CONFLICT', '/spec/security/runAsUser', 'runAsUser 0 is root, which Pod Security restricted forbids', {
          value: 0,
          hint: 'Use a non-zero UID, or set dangerouslyRunAsRoot: true if the image truly needs root.',
        }),
      );
    }
    for (const flag of DANGEROUS_FLAGS) {
      if (security[flag] === true) {
        warnings.push(problem('BERTH_SPEC_DANGEROUS', `/spec/security/${flag}`, `${flag} weakens the hardened defaults`, { value: true, severity: 'warning' }));
      }
    }
    const caps = arr(security.dangerouslyAddCapabilities);
    if (caps.length > 0) {
      warnings.push(
        problem('BERTH_SPEC_DANGEROUS', '/spec/security/dangerouslyAddCapabilities', `adds Linux capabilities ${caps.map(String).join(', ')}`, { value: caps, severity: 'warning' }),
      );
    }
  }

  const strategy = obj(spec.strategy);
  checkPercent(errors, '/spec/strategy/maxSurge', strategy?.maxSurge);
  checkPercent(errors, '/spec/strategy/maxUnavailable', strategy?.maxUnavailable);
  const isZero = (v: unknown) => v === 0 || v === '0%';
  if (isZero(strategy?.maxSurge ?? DEFAULTS.maxSurge) && isZero(strategy?.maxUnavailable ?? DEFAULTS.maxUnavailable)) {
    errors.push(problem('BERTH_SPEC_CONFLICT', '/spec/strategy', 'maxSurge and maxUnavailable cannot both be 0: the rollout could never progress', { value: strategy }));
  }

  const health = obj(spec.health);
  const interval = parseDuration(str(health?.interval) ?? DEFAULTS.health.interval);
  const timeout = parseDuration(str(health?.timeout) ?? DEFAULTS.health.timeout);
  if (interval !== undefined && timeout !== undefined && timeout >= interval) {
    errors.push(problem('BERTH_SPEC_CONFLICT', '/spec/health/timeout', 'health.timeout must be shorter than health.interval', { value: health?.timeout }));
  }

  return { errors, warnings };
}

/** Label maps (metadata.labels, monitoring.labels): valid keys and values, none of berth's own. */
function checkLabels(errors: Problem[], base: string, labels: Record<string, unknown> | undefined): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const path = `${base}/${escapeKey(k)}`;
    const keyError = labelKeyError(k);
    if (keyError) errors.push(problem('BERTH_SPEC_PATTERN', path, `label key "${k}": ${keyError}`, { value: k }));
    if (RESERVED_LABELS.includes(k)) {
      errors.push(problem('BERTH_SPEC_CONFLICT', path, `label "${k}" is set by berth and cannot be overridden`, { value: k, hint: `Remove the "${k}" label.` }));
    }
    if (typeof v === 'string') {
      const valueError = labelValueError(v);
      if (valueError) errors.push(problem('BERTH_SPEC_PATTERN', path, `label "${k}": ${valueError}`, { value: v }));
    }
  }
}

function checkLimit(errors: Problem[], resource: 'cpu' | 'memory', request: string, limit: unknown): void {
  if (typeof limit !== 'string') return;
  const r = parseQuantity(request);
  const l = parseQuantity(limit);
  if (r !== undefined && l !== undefined && l < r) {
    errors.push(
      problem('BERTH_SPEC_CONFLICT', `/spec/resources/${resource}Limit`, `${resource}Limit (${limit}) is below the ${resource} request (${request})`, {
        value: limit,
        hint: `Raise ${resource}Limit to at least ${request} or lower the request.`,
      }),
    );
  }
}

function checkPercent(errors: Problem[], path: string, v: unknown): void {
  if (typeof v === 'string' && PERCENT.test(v) && Number(v.slice(0, -1)) > 100) {
    errors.push(problem('BERTH_SPEC_RANGE', path, `${v} is more than 100%`, { value: v }));
  }
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function arr(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** JSON Pointer escaping, so label keys like "example.com/team" stay one path segment. */
export function escapeKey(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}
