import { HttpMethod, KubernetesObjectApi, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { InformerTransport, RawObject, RawWatchEvent, TransportQuery } from './informer.ts';

interface RawList extends KubernetesObject {
  items?: RawObject[];
  metadata?: KubernetesObject['metadata'] & { resourceVersion?: string };
}

/**
 * client-node's generic object API, asked for a collection by path. Its typed `list` needs a kind and a
 * discovery round-trip per group; the informer already knows the path. The 'any' type keeps the body
 * as the server's JSON instead of deserialising timestamps into Dates, so listed objects look exactly
 * like watched ones.
 */
class CollectionApi extends KubernetesObjectApi {
  async listPath(path: string, query: TransportQuery): Promise<RawList> {
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [k, v] of Object.entries(query)) if (v !== undefined) ctx.setQueryParam(k, String(v));
    return this.requestPromise<RawList>(ctx, 'any');
  }
}

/** The default transport: list through client-node's object API, watch through its `Watch`. */
export function createClientNodeTransport(kc: KubeConfig): InformerTransport {
  const api = kc.makeApiClient(CollectionApi);
  const watcher = new Watch(kc);
  return {
    async list(path, query) {
      const res = await api.listPath(path, query);
      return { items: res.items ?? [], resourceVersion: res.metadata?.resourceVersion ?? '' };
    },
    async watch(path, query, onEvent, onClose) {
      let closed = false;
      const controller = await watcher.watch(
        path,
        query,
        (type: string, object: RawObject) => {
          if (!closed) onEvent({ type, object } satisfies RawWatchEvent);
        },
        (err: unknown) => {
          // Aborting makes client-node report an AbortError; the caller asked for it, so it is not news.
          if (closed) return;
          closed = true;
          onClose(err ?? null);
        },
      );
      return {
        abort() {
          closed = true;
          controller.abort();
        },
      };
    },
  };
}
