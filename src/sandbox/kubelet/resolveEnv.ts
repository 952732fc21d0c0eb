import type { ClusterClient, KObject } from '../types.ts';
import { asArray, asRecord, spec, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

/**
 * Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion), rule for
 * rule: `$$` is a literal `$`; `$(NAME)` is NAME's value, or stays `$(NAME)` as written when NAME is
 * not defined; a `$(` without a closing `)` and a `$` before any other character stay literal.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        out += '$(';
      } else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      out += `$${next ?? ''}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/**
 * The container's command and args with `$(VAR)` expanded from its resolved env, as the kubelet does
 * before it starts the container (e.g. redis' `--requirepass $(REDIS_PASSWORD)`).
 */
export function expandCommand(container: Record<string, unknown>, env: readonly { name: string; value: string }[]): Record<string, unknown> {
  const values = new Map(env.map((e) => [e.name, e.value]));
  const expand = (list: unknown): unknown => (Array.isArray(list) ? list.map((a) => (typeof a === 'string' ? expandVars(a, (n) => values.get(n)) : a)) : list);
  const out: Record<string, unknown> = { ...container };
  if ('command' in container) out['command'] = expand(container['command']);
  if ('args' in container) out['args'] = expand(container['args']);
  return out;
}

/** A container's configuration cannot be resolved (CreateContainerConfigError). */
export class ConfigError extends Error {}

/** Resolves env and envFrom like the kubelet, with its error messages; `optional` references are skipped. */
export async function resolveEnv(client: ClusterClient, pod: KObject, container: Record<string, unknown>, podIP: string, hostIP: string): Promise<{ name: string; value: string }[]> {
  const ns = pod.metadata.namespace ?? 'default';
  const cache = new Map<string, KObject | undefined>();
  const get = async (kind: 'configmap' | 'secret', name: string): Promise<KObject | undefined> => {
    const k = `${kind}/${name}`;
    if (!cache.has(k)) cache.set(k, await client.get(kind === 'configmap' ? RES.configmaps : RES.secrets, ns, name));
    return cache.get(k);
  };
  const dataOf = (kind: 'configmap' | 'secret', o: KObject): Record<string, string> => {
    if (kind === 'configmap') return { ...(asRecord(o['binaryData']) as Record<string, string>), ...(asRecord(o['data']) as Record<string, string>) };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(asRecord(o['data']))) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
    for (const [k, v] of Object.entries(asRecord(o['stringData']))) out[k] = String(v);
    return out;
  };
  const env: { name: string; value: string }[] = [];
  const set = (name: string, value: string): void => {
    const i = env.findIndex((e) => e.name === name);
    if (i >= 0) env.splice(i, 1);
    env.push({ name, value });
  };
  for (const ef of asArray(container['envFrom'])) {
    const r = asRecord(ef);
    const prefix = str(r['prefix']) ?? '';
    for (const kind of ['configmap', 'secret'] as const) {
      const ref = asRecord(r[kind === 'configmap' ? 'configMapRef' : 'secretRef']);
      const name = str(ref['name']);
      if (!name) continue;
      const o = await get(kind, name);
      if (!o) {
        if (ref['optional'] === true) continue;
        throw new ConfigError(`${kind} "${name}" not found`);
      }
      for (const [k, v] of Object.entries(dataOf(kind, o))) set(prefix + k, v);
    }
  }
  const labelsAnn = (field: string): string | undefined => {
    const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(field);
    if (!m) return undefined;
    const src = m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return src?.[m[2] ?? ''] ?? '';
  };
  for (const e of asArray(container['env'])) {
    const r = asRecord(e);
    const name = str(r['name']) ?? '';
    if (typeof r['value'] === 'string') {
      // $(VAR) expansion against earlier variables, as the kubelet does.
      set(name, expandVars(r['value'], (v) => env.find((x) => x.name === v)?.value));
      continue;
    }
    const vf = asRecord(r['valueFrom']);
    for (const kind of ['configmap', 'secret'] as const) {
      const ref = asRecord(vf[kind === 'configmap' ? 'configMapKeyRef' : 'secretKeyRef']);
      const refName = str(ref['name']);
      if (!refName) continue;
      const key = str(ref['key']) ?? '';
      const o = await get(kind, refName);
      if (!o) {
        if (ref['optional'] === true) continue;
        throw new ConfigError(`${kind} "${refName}" not found`);
      }
      const data = dataOf(kind, o);
      if (!(key in data)) {
        if (ref['optional'] === true) continue;
        throw new ConfigError(`couldn't find key ${key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${ns}/${refName}`);
      }
      set(name, data[key] ?? '');
    }
    const fr = asRecord(vf['fieldRef']);
    const fp = str(fr['fieldPath']);
    if (fp) {
      const values: Record<string, string> = {
        'metadata.name': pod.metadata.name ?? '',
        'metadata.namespace': ns,
        'metadata.uid': pod.metadata.uid ?? '',
        'spec.nodeName': str(spec(pod)['nodeName']) ?? '',
        'spec.serviceAccountName': str(spec(pod)['serviceAccountName']) ?? 'default',
        'status.hostIP': hostIP,
        'status.hostIPs': hostIP,
        'status.podIP': podIP,
        'status.podIPs': podIP,
      };
      set(name, values[fp] ?? labelsAnn(fp) ?? '');
    }
    const rf = asRecord(vf['resourceFieldRef']);
    const res = str(rf['resource']);
    if (res) {
      // Reported as written in the spec (no divisor arithmetic).
      const [section, resName] = res.split('.');
      const q = asRecord(asRecord(container['resources'])[section ?? ''])[resName ?? ''];
      set(name, q === undefined ? '0' : String(q));
    }
  }
  return env;
}
