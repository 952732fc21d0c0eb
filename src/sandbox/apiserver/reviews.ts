import type { KObject } from '../types.ts';
import { clone, isObject, obj } from './json.ts';
import { apiVersionOf } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';

/**
 * The answer to a SelfSubjectAccessReview or SelfSubjectRulesReview: the request echoed back with
 * a status that allows everything, since the sandbox has no authorisation to check against.
 */
export function answerReview(d: ResourceDef, body: unknown): KObject {
  const o = clone(obj(body)) as KObject;
  o.apiVersion = apiVersionOf(d);
  o.kind = d.kind;
  o.metadata = { ...(isObject(o.metadata) ? o.metadata : {}), creationTimestamp: undefined } as KObject['metadata'];
  delete o.metadata.creationTimestamp;
  if (d.resource === 'selfsubjectaccessreviews') o['status'] = { allowed: true, reason: 'berth sandbox does not enforce authorization' };
  else
    o['status'] = {
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    };
  return o;
}
