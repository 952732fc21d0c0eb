import { stringify } from 'yaml';
import type { KubeObject } from './kubeObject.ts';

/** Multi-document YAML, one document per object, in render order. */
export function toYaml(objects: readonly KubeObject[]): string {
  // lineWidth 0: never fold long strings (PromQL, commands), so output stays diff-friendly.
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/** A `kind: List` JSON document, the form `kubectl get -o json` prints and `kubectl apply -f` accepts. */
export function toJsonList(objects: readonly KubeObject[]): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
}
