/**
 * Container image references, following the grammar of github.com/distribution/reference (the one
 * containerd and the kubelet use): [registry[:port]/]path[:tag][@sha256:<64 hex>].
 */

export interface ImageReference {
  /** Registry host (with port) when the reference names one, e.g. "ghcr.io" or "localhost:5000". */
  readonly registry: string | undefined;
  /** Repository path without the registry, e.g. "acme/api". */
  readonly repository: string;
  readonly tag: string | undefined;
  /** "sha256:<64 hex>". */
  readonly digest: string | undefined;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_NAME_LENGTH = 255;

export type ImageParseResult = { readonly ok: true; readonly ref: ImageReference } | { readonly ok: false; readonly reason: string };

export function parseImageReference(s: string): ImageParseResult {
  if (s.length === 0) return { ok: false, reason: 'the image reference is empty' };
  if (/\s/.test(s)) return { ok: false, reason: 'the image reference contains whitespace' };
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { ok: false, reason: `digest "${digest}" must be sha256: followed by 64 lower-case hex digits` };
  }
  let tag: string | undefined;
  // A ":" after the last "/" starts the tag; one before it belongs to a registry port.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { ok: false, reason: `tag "${tag}" must be up to 128 letters, digits, "_", "." or "-", not starting with "." or "-"` };
  }
  if (rest.length > MAX_NAME_LENGTH) return { ok: false, reason: `the repository name is longer than ${MAX_NAME_LENGTH} characters` };
  const parts = rest.split('/');
  let registry: string | undefined;
  const first = parts[0] ?? '';
  // Same rule as the Docker CLI: the first component is a registry when it looks like a host.
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    registry = first;
    parts.shift();
    if (!DOMAIN.test(registry)) return { ok: false, reason: `registry "${registry}" is not a valid host[:port]` };
  }
  for (const p of parts) {
    if (!PATH_COMPONENT.test(p)) {
      return { ok: false, reason: `path component "${p}" must be lower-case letters and digits separated by ".", "_", "__" or "-"` };
    }
  }
  return { ok: true, ref: { registry, repository: parts.join('/'), tag, digest } };
}

/** True when the reference may point at different images over time (no digest, and no tag or "latest"). */
export function isMutableReference(ref: ImageReference): boolean {
  return ref.digest === undefined && (ref.tag === undefined || ref.tag === 'latest');
}
