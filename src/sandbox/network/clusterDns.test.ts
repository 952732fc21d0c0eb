import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KObject } from '../types.ts';
import { realClock } from '../client/clock.ts';
import { makeRecorderCache } from '../client/controllerContext.ts';
import { RES } from '../client/resources.ts';
import { SharedInformerFactory } from '../client/sharedInformer.ts';
import { FakeClient } from '../controllers/testing/fakeClient.ts';
import { clusterDnsEnv } from '../processruntime/clusterDnsEnv.ts';
import { nssWrapperLibrary } from '../processruntime/serverImages.ts';
import { ClusterDns, CONTAINER_HOSTS_HEADER, hostsFileText } from './clusterDns.ts';

const service = (namespace: string, name: string, clusterIP: string, extra: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace, name },
  spec: { clusterIP, selector: { app: name }, ports: [{ port: 80 }], ...extra },
});

const pod = (namespace: string, name: string, ip: string, s: Record<string, unknown>, ready = true): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name },
  spec: { containers: [{ name: 'c' }], ...s },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('hostsFileText', () => {
  const services = [service('api', 'db', '127.96.0.5'), service('images', 'files', '127.96.0.9'), service('api', 'db-headless', 'None'), service('x', 'ext', '', { type: 'ExternalName', externalName: 'example.com' })];

  it('names every ClusterIP Service as cluster DNS would, with the pod namespace\'s search path applied', () => {
    const text = hostsFileText('api', services, []);
    expect(text.split('\n')).toEqual([
      '127.96.0.5 db.api.svc.cluster.local db.api.svc db.api db',
      '127.96.0.9 files.images.svc.cluster.local files.images.svc files.images',
      '',
    ]);
    // From another namespace the short name is the other Service's, never this one.
    expect(hostsFileText('images', services, [])).toContain('127.96.0.9 files.images.svc.cluster.local files.images.svc files.images files\n');
    expect(hostsFileText('images', services, [])).not.toMatch(/ db$/m);
  });

  it('gives the ready pods of a headless Service their stable names, and the Service name all of them', () => {
    const pods = [
      pod('api', 'db-0', '127.10.0.7', { hostname: 'db-0', subdomain: 'db-headless' }),
      pod('api', 'db-1', '127.10.0.8', { hostname: 'db-1', subdomain: 'db-headless' }, false),
      pod('api', 'web-1', '127.10.0.9', { subdomain: 'nothing-headless' }),
    ];
    const lines = hostsFileText('api', services, pods).split('\n');
    expect(lines).toContain('127.10.0.7 db-0.db-headless.api.svc.cluster.local db-0.db-headless.api.svc db-0.db-headless.api db-0.db-headless');
    expect(lines).toContain('127.10.0.7 db-headless.api.svc.cluster.local db-headless.api.svc db-headless.api db-headless');
    expect(lines.join('\n')).not.toContain('127.10.0.8');
    expect(lines.join('\n')).not.toContain('127.10.0.9');
  });
});

describe('clusterDnsEnv', () => {
  const lib = nssWrapperLibrary();

  // .ci/run installs libnss-wrapper: under CI its absence fails here instead of skipping.
  it.skipIf(!lib && !process.env['CI'])('preloads nss_wrapper with the hosts file for ClusterFirst pods only', () => {
    const file = () => '/run/dns/api.hosts';
    expect(clusterDnsEnv({}, file)).toEqual({ LD_PRELOAD: lib, NSS_WRAPPER_HOSTS: '/run/dns/api.hosts' });
    expect(clusterDnsEnv({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }, file)).toEqual({ LD_PRELOAD: lib, NSS_WRAPPER_HOSTS: '/run/dns/api.hosts' });
    // On the host network ClusterFirst falls back to the node's resolver, as the kubelet does.
    expect(clusterDnsEnv({ hostNetwork: true }, file)).toEqual({});
    expect(clusterDnsEnv({ dnsPolicy: 'Default' }, file)).toEqual({});
    expect(clusterDnsEnv({}, () => undefined)).toEqual({});
  });
});

describe('ClusterDns.containerHostsFile', () => {
  it('keeps its inode across rewrites, so a container that bind-mounted it sees new Services', async () => {
    const client = new FakeClient();
    await client.create(RES.services, service('api', 'db', '127.96.0.5'));
    const dns = new ClusterDns({ client, informers: new SharedInformerFactory(client), clock: realClock, timeScale: 1, recorder: makeRecorderCache(client, realClock) });
    await dns.start();
    try {
      const file = dns.containerHostsFile('api');
      expect(readFileSync(file, 'utf8')).toBe(`${CONTAINER_HOSTS_HEADER}127.96.0.5 db.api.svc.cluster.local db.api.svc db.api db\n`);
      const inode = statSync(file).ino;
      await client.create(RES.services, service('api', 'cache', '127.96.0.6'));
      await new Promise((r) => setTimeout(r, 50));
      expect(readFileSync(file, 'utf8')).toContain('127.96.0.6 cache.api.svc.cluster.local cache.api.svc cache.api cache\n');
      // Shorter content is cut to length: nothing of the longer version is left behind.
      await client.delete(RES.services, 'api', 'cache');
      await new Promise((r) => setTimeout(r, 50));
      expect(readFileSync(file, 'utf8')).toBe(`${CONTAINER_HOSTS_HEADER}127.96.0.5 db.api.svc.cluster.local db.api.svc db.api db\n`);
      expect(statSync(file).ino).toBe(inode);
    } finally {
      await dns.stop();
    }
  });
});
