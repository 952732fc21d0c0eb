/** Configuration hygiene: environment variables, ConfigMap content and label syntax. */
import { labelKeyError, labelValueError } from '../../kube/labelSyntax.ts';
import { at, list, rec, str, type ContainerRef, type LintRule, type RuleFinding } from '../context.ts';

/** Names whose last words are one of these hold a credential (DB_PASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY; not PASSWORD_MIN_LENGTH). */
const SENSITIVE_ENDINGS = ['PASSWORD', 'PASSWD', 'SECRET', 'TOKEN', 'APIKEY', 'API_KEY', 'PRIVATE_KEY', 'ACCESS_KEY', 'SECRET_KEY', 'CREDENTIALS', 'AUTH_KEY'];

/** Values that are credentials whatever they are called. */
const SECRET_VALUES: readonly { readonly what: string; readonly re: RegExp }[] = [
  { what: 'a private key', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { what: 'an AWS access key', re: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { what: 'a GitHub token', re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { what: 'a Slack token', re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { what: 'a Stripe live key', re: /\b[sr]k_live_[A-Za-z0-9]{16,}/ },
  { what: 'a JSON Web Token', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { what: 'a URL with a password', re: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i },
];

/** `password=...` / `token: ...` assignments inside file-like ConfigMap values (properties, YAML, .env). */
const ASSIGNMENT = /^\s*["']?[A-Za-z0-9_.-]*?(password|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key)["']?\s*[:=]\s*["']?([^\s"'#]+)/gim;

export function sensitiveName(name: string): boolean {
  const n = name.toUpperCase().replace(/[-.]/g, '_');
  return SENSITIVE_ENDINGS.some((end) => n === end || n.endsWith(`_${end}`));
}

/** A placeholder or reference is not a credential: "", "${DB_PASSWORD}", "$(TOKEN)", "{{ .token }}", "<changeme>". */
function placeholder(v: string): boolean {
  return v.trim() === '' || /^[$<{%]/.test(v.trim());
}

export function secretValueKind(v: string): string | undefined {
  return SECRET_VALUES.find((s) => s.re.test(v))?.what;
}

function label(c: ContainerRef): string {
  return `${c.list === 'initContainers' ? 'init container' : 'container'} "${c.name}"`;
}

export const configRules: readonly LintRule[] = [
  {
    id: 'berth/env-duplicate',
    severity: 'error',
    title: 'Environment variable defined twice',
    why: 'When a container lists the same env name twice only the last value counts, so the first is silently ignored; server-side apply rejects the list outright ("duplicate entries for key"), because env is keyed by name.',
    fix: 'Keep one entry per name.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          const seen = new Set<string>();
          for (const [i, v] of list(c.raw['env']).entries()) {
            const name = str(at(v, 'name'));
            if (name === undefined) continue;
            if (seen.has(name)) yield { entry: e, path: `${c.path}.env[${i}]`, message: `${label(c)} defines env ${name} more than once.` };
            seen.add(name);
          }
        }
      }
    },
  },
  {
    id: 'berth/env-secret-literal',
    severity: 'warning',
    title: 'Credential in a plain environment variable',
    why: 'A literal env value is stored in the workload object: anyone who can read Deployments (and every `kubectl describe`, audit log and GitOps repository) sees it, and it cannot be rotated without a rollout.',
    fix: 'Put the value in a Secret and reference it with env[].valueFrom.secretKeyRef (or envFrom.secretRef).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          for (const [i, v] of list(c.raw['env']).entries()) {
            const name = str(at(v, 'name')) ?? '';
            const value = str(at(v, 'value'));
            if (value === undefined || placeholder(value)) continue;
            const kind = secretValueKind(value);
            if (kind) yield { entry: e, path: `${c.path}.env[${i}].value`, message: `${label(c)} env ${name} holds what looks like ${kind}.` };
            else if (sensitiveName(name)) yield { entry: e, path: `${c.path}.env[${i}].value`, message: `${label(c)} env ${name} sets a credential as a literal value.` };
          }
        }
      }
    },
  },
  {
    id: 'berth/configmap-secret',
    severity: 'warning',
    title: 'Credential in a ConfigMap',
    why: 'ConfigMaps are not secret: many roles may read them, they are not encrypted at rest where Secrets are, and they end up in logs, dashboards and repositories.',
    fix: 'Move the value to a Secret; reference it from the pod with secretKeyRef or a secret volume.',
    *check(ctx): Iterable<RuleFinding> {
      for (const cm of ctx.ofKind('ConfigMap')) {
        for (const [key, raw] of Object.entries(rec(cm.object['data']) ?? {})) {
          if (typeof raw !== 'string' || placeholder(raw)) continue;
          const path = `data.${key}`;
          const kind = secretValueKind(raw);
          if (kind) {
            yield { entry: cm, path, message: `key "${key}" holds what looks like ${kind}.` };
            continue;
          }
          if (sensitiveName(key) && !raw.includes('\n')) {
            yield { entry: cm, path, message: `key "${key}" holds a credential.` };
            continue;
          }
          for (const m of raw.matchAll(ASSIGNMENT)) {
            if (!placeholder(m[2] ?? '')) {
              yield { entry: cm, path, message: `key "${key}" sets ${m[1]!.toLowerCase()} in plain text.` };
              break;
            }
          }
        }
      }
    },
  },
  {
    id: 'berth/label-values',
    severity: 'error',
    title: 'Invalid label key or value',
    why: 'The API server rejects an object whose labels are not valid label keys and values (at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit; values must be strings).',
    fix: 'Shorten or rename the label; quote numbers and booleans ("1.0", "true") so YAML keeps them strings.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.entries) {
        const maps: { path: string; labels: unknown }[] = [{ path: 'metadata.labels', labels: e.object.metadata['labels'] }];
        if (e.template) maps.push({ path: `${e.template.metadataPath}.labels`, labels: e.template.metadata.labels });
        for (const { path, labels } of maps) {
          for (const [k, v] of Object.entries(rec(labels) ?? {})) {
            const keyErr = labelKeyError(k);
            if (keyErr) yield { entry: e, path: `${path}.${k}`, message: `label key "${k}": ${keyErr}.` };
            if (typeof v !== 'string') yield { entry: e, path: `${path}.${k}`, message: `label "${k}" has the ${typeof v} value ${JSON.stringify(v)}; label values must be strings.` };
            else {
              const valueErr = labelValueError(v);
              if (valueErr) yield { entry: e, path: `${path}.${k}`, message: `label "${k}" value "${v}": ${valueErr}.` };
            }
          }
        }
      }
    },
  },
];
