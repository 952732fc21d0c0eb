import type { ResourceDef, ResourceRegistry } from './resourceRegistry.ts';
import { resourceNotFound } from './statusErrors.ts';

export interface Route {
  group: string;
  version: string;
  namespace: string | undefined;
  def: ResourceDef;
  name: string | undefined;
  sub: string | undefined;
  legacyWatch: boolean;
}

export function parseRoute(registry: ResourceRegistry, segs: string[]): Route | 'discovery' {
  let group = '';
  let version: string;
  let rest: string[];
  if (segs[0] === 'api') {
    version = segs[1] ?? '';
    rest = segs.slice(2);
  } else {
    group = segs[1] ?? '';
    version = segs[2] ?? '';
    rest = segs.slice(3);
  }
  if (rest.length === 0) return 'discovery';
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name, sub, ...extra] = rest;
  const def = registry.find(group, version, resource);
  if (!def || extra.length) throw resourceNotFound();
  if (namespace !== undefined && !def.namespaced) throw resourceNotFound();
  return { group, version, namespace, def, name, sub, legacyWatch };
}
