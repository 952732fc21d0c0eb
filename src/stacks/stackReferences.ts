import { problem, type Problem } from '../errors.ts';
import type { ResolvedResource } from './resolvedStack.ts';
import { connectionSecretName, RESOURCE_OUTPUTS, RESOURCE_PORTS, SECRET_OUTPUTS, serviceHost, type ServerType } from './stackDefaults.ts';

/** `${resources.NAME.OUTPUT}`; any other `${...}` in an env value is the app's own text and left alone. */
const REFERENCE = /\$\{resources\.([^}]*)\}/g;

export interface EnvResolution {
  /** Plain env, references to known non-secret values replaced. */
  readonly env: Record<string, string>;
  /** Env read from Secrets: every secret output, and every output of an external resource. */
  readonly secretEnv: Record<string, { secret: string; key: string }>;
  /** Resources the env references, by name. */
  readonly referenced: ReadonlySet<string>;
  readonly problems: Problem[];
}

/**
 * The value of a non-secret output of a resource berth runs, known when rendering (host names are the
 * resource's Service); undefined for secret outputs and external resources.
 */
export function plainOutput(r: ResolvedResource, output: string): string | undefined {
  if (r.external !== null || r.type === 'secret' || !(RESOURCE_OUTPUTS[r.type].includes(output)) || SECRET_OUTPUTS[r.type].includes(output)) return undefined;
  const type: ServerType = r.type;
  const host = serviceHost(r.name, r.namespace);
  const port = String(RESOURCE_PORTS[type]);
  switch (output) {
    case 'host':
      return host;
    case 'port':
      return port;
    case 'database':
      return r.database;
    case 'username':
      return r.username;
    case 'endpoint':
      return `http://${host}:${port}`;
    case 'region':
      return r.region;
    case 'bucket':
      return r.bucket;
    default:
      return undefined;
  }
}

/**
 * Resolves the `${resources.NAME.OUTPUT}` references of one app's env. A value that is exactly one
 * secret output (or any output of an external resource) becomes a secretKeyRef; non-secret outputs are
 * replaced in place; a secret inside a longer value is refused, since it could only be plain text.
 */
export function resolveEnv(env: Readonly<Record<string, string>>, resources: ReadonlyMap<string, ResolvedResource>, uses: ReadonlySet<string>, base: string): EnvResolution {
  const out: Record<string, string> = {};
  const secretEnv: Record<string, { secret: string; key: string }> = {};
  const referenced = new Set<string>();
  const problems: Problem[] = [];
  const names = [...resources.keys()].sort();
  for (const [key, value] of Object.entries(env)) {
    const path = `${base}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const refs = [...value.matchAll(REFERENCE)];
    if (refs.length === 0) {
      out[key] = value;
      continue;
    }
    const whole = refs.length === 1 && refs[0]?.[0] === value;
    let text = value;
    let ok = true;
    for (const m of refs) {
      const [name = '', output = '', ...rest] = (m[1] ?? '').split('.');
      const r = resources.get(name);
      if (!r || rest.length > 0) {
        ok = false;
        problems.push(problem('BERTH_STACK_UNKNOWN_REFERENCE', path, `${m[0]} names no resource of the stack`, {
          value,
          hint: names.length > 0 ? `Use \${resources.NAME.OUTPUT} with NAME one of: ${names.join(', ')}.` : 'Declare the resource under spec.resources first.',
        }));
        continue;
      }
      const outputs = RESOURCE_OUTPUTS[r.type];
      if (!outputs.includes(output)) {
        ok = false;
        problems.push(problem('BERTH_STACK_UNKNOWN_REFERENCE', path, `${m[0]}: a ${r.type} resource has no output "${output}"`, { value, hint: `Outputs of ${r.type}: ${outputs.join(', ')}.` }));
        continue;
      }
      referenced.add(name);
      if (!uses.has(name)) {
        ok = false;
        problems.push(problem('BERTH_STACK_UNDECLARED_USE', path, `${key} references resource "${name}", which the app does not list in uses`, { value, hint: `Add "${name}" to the app's uses.` }));
        continue;
      }
      if (whole) {
        const plain = plainOutput(r, output);
        if (plain !== undefined) out[key] = plain;
        else secretEnv[key] = { secret: r.external?.secret ?? connectionSecretName(name), key: output };
        continue;
      }
      const plain = plainOutput(r, output);
      if (plain === undefined) {
        ok = false;
        const why = r.external !== null ? `resource "${name}" is external, so its outputs are known only to its Secret` : `${output} is a secret output of ${r.type}`;
        problems.push(problem('BERTH_STACK_SECRET_INTERPOLATION', path, `${m[0]} is inside a longer value, but ${why}`, { value }));
        break;
      }
      text = text.replace(m[0], plain);
    }
    if (ok && !whole) out[key] = text;
  }
  return { env: out, secretEnv, referenced, problems };
}
