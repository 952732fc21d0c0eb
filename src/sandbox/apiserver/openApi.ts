import { createHash } from 'node:crypto';
import { apiVersionOf } from './resourceRegistry.ts';
import type { ResourceDef, ResourceRegistry } from './resourceRegistry.ts';

/**
 * A minimal OpenAPI v3 surface: per group-version documents whose paths carry the operations,
 * `x-kubernetes-group-version-kind` and query parameters (kubectl checks `fieldValidation` support
 * there before sending `fieldValidation=Strict`), without component schemas — so kubectl falls back
 * to its compiled-in types for strategic-merge patch metadata, and `kubectl explain` is not served.
 */

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'];

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function params(names: readonly string[]): Record<string, unknown>[] {
  return names.map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true } }));
}

function operations(d: ResourceDef): Record<string, unknown> {
  const gvk = { group: d.group, version: d.version, kind: d.kind };
  const op = (action: string): Record<string, unknown> => ({
    operationId: `${action}${d.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    parameters: params(QUERY_PARAMS),
    responses: { '200': { description: 'OK' } },
  });
  return { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
}

export function openApiDocument(reg: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const defs = reg.defs.filter((d) => d.group === group && d.version === version && !d.readOnly);
  if (!defs.length) return undefined;
  const paths: Record<string, unknown> = {};
  for (const d of defs) {
    const base = `/${gvPath(group, version)}${d.namespaced ? '/namespaces/{namespace}' : ''}/${d.resource}`;
    paths[`${base}/{name}`] = operations(d);
    paths[base] = {
      post: {
        operationId: `create${d.kind}`,
        'x-kubernetes-action': 'post',
        'x-kubernetes-group-version-kind': { group: d.group, version: d.version, kind: d.kind },
        parameters: params(QUERY_PARAMS),
        responses: { '201': { description: 'Created' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: apiVersionOf({ group, version }) }, paths, components: { schemas: {} } };
}

export function openApiRoot(reg: ResourceRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const gvs = new Map<string, { group: string; version: string }>();
  for (const d of reg.defs) if (!d.readOnly) gvs.set(gvPath(d.group, d.version), { group: d.group, version: d.version });
  for (const [p, gv] of gvs) {
    const hash = createHash('sha256').update(JSON.stringify(openApiDocument(reg, gv.group, gv.version))).digest('hex').slice(0, 32).toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}
