import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeFieldToPointer, toBerthError } from './kubeErrors.ts';

const status = (code: number, message: string, causes: unknown[] = []): ApiException<string> =>
  new ApiException(code, 'Unsuccessful HTTP Request', JSON.stringify({ kind: 'Status', code, message, details: { causes } }), {});

describe('toBerthError', () => {
  it('maps connection failures to BERTH_CLUSTER_UNREACHABLE', () => {
    const refused = Object.assign(new Error('request to http://127.0.0.1:1/api failed, reason: connect ECONNREFUSED'), { name: 'FetchError', code: 'ECONNREFUSED' });
    expect(toBerthError(refused, 'apply Deployment shop/web').code).toBe('BERTH_CLUSTER_UNREACHABLE');
    expect(toBerthError(status(503, 'unavailable'), 'x').code).toBe('BERTH_CLUSTER_UNREACHABLE');
  });

  it('maps RBAC 403 to FORBIDDEN, admission denials and 422 to REJECTED with causes as problems', () => {
    expect(toBerthError(status(403, 'deployments.apps is forbidden: User "x" cannot patch resource'), 'x').code).toBe('BERTH_CLUSTER_FORBIDDEN');
    expect(toBerthError(status(403, 'pods "p" is forbidden: violates PodSecurity "restricted:latest"'), 'x').code).toBe('BERTH_CLUSTER_REJECTED');
    const e = toBerthError(status(422, 'Deployment.apps "web" is invalid', [{ reason: 'FieldValueInvalid', message: 'Invalid value: "x"', field: 'spec.template.spec.containers[0].image' }]), 'apply Deployment shop/web');
    expect(e.code).toBe('BERTH_CLUSTER_REJECTED');
    expect(e.message).toContain('Deployment.apps "web" is invalid');
    expect(e.problems[0]).toMatchObject({ path: '/spec/template/spec/containers/0/image', message: expect.stringContaining('Invalid value') });
  });

  it('turns Kubernetes field paths into JSON pointers', () => {
    expect(kubeFieldToPointer('metadata.labels[app.kubernetes.io/name]')).toBe('/metadata/labels/app.kubernetes.io~1name');
    expect(kubeFieldToPointer('spec.ports[0].port')).toBe('/spec/ports/0/port');
    expect(kubeFieldToPointer('')).toBe('');
  });
});
