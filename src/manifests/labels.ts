import { parseImageReference } from '../appspec/imageReference.ts';
import { sanitizeLabelValue } from '../appspec/formats.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';

const PART_OF = 'app.kubernetes.io/part-of';

/**
 * Labels on every rendered object: the user's labels plus the standard app.kubernetes.io set.
 * Sorted by key so output bytes do not depend on the order the user wrote them in.
 */
export function appLabels(app: ResolvedApp): Record<string, string> {
  const version = imageVersion(app.spec.image);
  const labels: Record<string, string> = {
    ...app.metadata.labels,
    ...selectorLabels(app),
    'app.kubernetes.io/managed-by': 'berth',
    [PART_OF]: app.metadata.labels[PART_OF] ?? app.metadata.name,
    ...(version ? { 'app.kubernetes.io/version': version } : {}),
  };
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The only labels selectors use. Selectors of Deployments are immutable, so they must never include
 * anything that changes between releases (like the version).
 */
export function selectorLabels(app: ResolvedApp): Record<string, string> {
  return { 'app.kubernetes.io/instance': app.metadata.name, 'app.kubernetes.io/name': app.metadata.name };
}

/** The image tag as a label value; undefined for digest-only or untagged images. */
export function imageVersion(image: string): string | undefined {
  const parsed = parseImageReference(image);
  const tag = parsed.ok ? parsed.ref.tag : undefined;
  const value = tag !== undefined ? sanitizeLabelValue(tag) : '';
  return value === '' ? undefined : value;
}
