import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf } from '../../src/sandbox/apiserver/protobufDecoder.ts';

// Bodies captured from kubectl 1.32: `kubectl create deployment d1 --image=nginx:1.27 --port=80 --replicas=2 -- sleep 10`
// and `kubectl create ingress ing1 --rule=foo.com/bar=svc1:80 --class=berth`.
const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

describe('Kubernetes protobuf decoding', () => {
  it('decodes a Deployment as kubectl create deployment sends it', () => {
    expect(decodeKubernetesProtobuf(fixture('kubectl-create-deployment.pb'))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd1', labels: { app: 'd1' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'd1' } },
        template: {
          metadata: { labels: { app: 'd1' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', command: ['sleep', '10'], ports: [{ containerPort: 80 }], resources: {} }] },
        },
        strategy: {},
      },
    });
  });

  it('decodes inlined fields and int-or-name ports', () => {
    expect(decodeKubernetesProtobuf(fixture('kubectl-create-ingress.pb'))).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'ing1' },
      spec: { ingressClassName: 'berth', rules: [{ host: 'foo.com', http: { paths: [{ path: '/bar', pathType: 'Exact', backend: { service: { name: 'svc1', port: { number: 80 } } } }] } }] },
    });
  });

  it('refuses bodies it cannot decode faithfully', () => {
    expect(() => decodeKubernetesProtobuf(Buffer.from('{}'))).toThrow(/protobuf magic/);
    const body = fixture('kubectl-create-deployment.pb');
    // Rewrite the kind to one the decoder does not know.
    const patched = Buffer.from(body.toString('latin1').replace('Deployment', 'StatefulSe'), 'latin1');
    expect(() => decodeKubernetesProtobuf(patched)).toThrow(/kind apps\/v1\/StatefulSe/);
  });
});
