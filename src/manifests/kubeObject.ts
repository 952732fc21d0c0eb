/**
 * A rendered Kubernetes object: plain JSON (no class instances, no undefined fields) with explicit
 * apiVersion and kind, so it can be serialised, hashed, diffed and server-side applied as is.
 */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}
