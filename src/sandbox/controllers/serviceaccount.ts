import type { KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { isApiError, objKey, splitKey, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

/** The serviceaccounts-controller: every active namespace has a `default` ServiceAccount. */
export class ServiceAccountController extends QueueController {
  readonly name = 'serviceaccount-controller';
  private readonly nsInf: SharedInformer;
  private readonly saInf: SharedInformer;

  constructor(ctx: ControllerContext) {
    super(ctx, 1);
    this.nsInf = ctx.informers.for(RES.namespaces);
    this.saInf = ctx.informers.for(RES.serviceaccounts);
    this.nsInf.addHandler({ add: (n) => this.queue.add(objKey(n)), update: (_o, n) => this.queue.add(objKey(n)) });
    this.saInf.addHandler({
      delete: (sa: KObject) => {
        if (sa.metadata.name === 'default' && sa.metadata.namespace) this.queue.add(sa.metadata.namespace);
      },
    });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.nsInf, this.saInf];
  }

  protected initialKeys(): string[] {
    return this.nsInf.list().map(objKey);
  }

  protected async sync(key: string): Promise<void> {
    const { name } = splitKey(key);
    const ns = this.nsInf.get(undefined, name);
    if (!ns || ns.metadata.deletionTimestamp || status(ns)['phase'] === 'Terminating') return;
    if (this.saInf.get(name, 'default')) return;
    try {
      await this.ctx.client.create(RES.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
    } catch (err) {
      // 409: someone (the API server) created it first; 403: the namespace is terminating.
      if (!isApiError(err, 409) && !isApiError(err, 403)) throw err;
    }
  }
}
