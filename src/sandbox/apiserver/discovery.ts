import { apiVersionOf, verbsOf } from './resourceRegistry.ts';
import type { ResourceDef, ResourceRegistry } from './resourceRegistry.ts';

/** The Kubernetes minor this sandbox answers as; kubectl 1.32 is within its skew. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-berth-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const SUBRESOURCE_INFO: Record<string, { kind?: string; group?: string; version?: string; verbs: string[] }> = {
  status: { verbs: ['get', 'patch', 'update'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
  log: { verbs: ['get'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  finalize: { verbs: ['update'] },
};

function resourceEntries(d: ResourceDef): Record<string, unknown>[] {
  const main: Record<string, unknown> = { name: d.resource, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: verbsOf(d) };
  if (d.shortNames) main['shortNames'] = d.shortNames;
  if (d.categories) main['categories'] = d.categories;
  const out = [main];
  for (const sub of d.subresources ?? []) {
    const info = SUBRESOURCE_INFO[sub] ?? { verbs: ['get'] };
    const e: Record<string, unknown> = { name: `${d.resource}/${sub}`, singularName: '', namespaced: d.namespaced, kind: info.kind ?? d.kind, verbs: info.verbs };
    if (info.group) e['group'] = info.group;
    if (info.version) e['version'] = info.version;
    out.push(e);
  }
  return out;
}

export function apiResourceList(reg: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const defs = reg.defs.filter((d) => d.group === group && d.version === version);
  if (!defs.length) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: defs.flatMap(resourceEntries) };
}

function groupEntry(group: string, versions: readonly string[]): Record<string, unknown> {
  const gvs = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: gvs, preferredVersion: gvs[0] };
}

export function apiGroupList(reg: ResourceRegistry): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: reg.groups().map((g) => groupEntry(g.group, g.versions)) };
}

export function apiGroup(reg: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const g = reg.groups().find((x) => x.group === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g.group, g.versions) } : undefined;
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}
