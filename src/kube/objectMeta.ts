/**
 * metav1.ObjectMeta in the two forms berth handles: `ObjectMeta` for objects berth builds or has
 * already checked (a name is guaranteed), `ObjectMetaJson` for metadata as it arrives from an API
 * server or a watch, where every field is optional and timestamps are strings.
 */

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An object with an envelope: apiVersion, kind and metadata; the rest is carried as JSON. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

export interface OwnerReferenceJson {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMetaJson {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReferenceJson[];
  [field: string]: unknown;
}
