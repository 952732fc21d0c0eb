/**
 * A rendered Kubernetes object: plain JSON (no class instances, no undefined fields) with explicit
 * apiVersion and kind, so it can be serialised, hashed, diffed and server-side applied as is.
 */
export type { KubeObject } from '../kube/objectMeta.ts';
