import type { KObject } from '../types.ts';
import { isObject } from './json.ts';
import { apiVersionOf } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { badRequest } from './statusErrors.ts';

/** Parses and checks a request body: kind/apiVersion, namespace and name agreement. */
export function decodeObject(d: ResourceDef, body: unknown, namespace: string | undefined, name?: string): KObject {
  if (!isObject(body)) throw badRequest('Object \'Kind\' is missing in \'null\'');
  // Bodies are owned by the server from here on (HTTP parses them fresh; the in-process client copies).
  const o = body as KObject;
  o.metadata = isObject(o.metadata) ? o.metadata : {};
  if (o.kind !== undefined && o.kind !== d.kind) throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersionOf(d)})`);
  if (o.apiVersion !== undefined && o.apiVersion !== apiVersionOf(d))
    throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersionOf(d)})`);
  o.apiVersion = apiVersionOf(d);
  o.kind = d.kind;
  if (d.namespaced) {
    if (o.metadata.namespace && namespace && o.metadata.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    o.metadata.namespace = namespace ?? o.metadata.namespace;
    if (!o.metadata.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  } else delete o.metadata.namespace;
  if (name !== undefined && o.metadata.name !== undefined && o.metadata.name !== name)
    throw badRequest(`the name of the object (${o.metadata.name}) does not match the name on the URL (${name})`);
  if (name !== undefined) o.metadata.name = name;
  return o;
}
