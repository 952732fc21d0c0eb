import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { appYaml, startE2E, until, type E2E } from './testing/e2eKit.ts';

/**
 * health.cronjob for real: the sandbox's process runtime runs berth.local/berth as `node bin/berth.js
 * <args>`, so the CronJob's Job pod runs `berth probe URL` against hello and its exit code decides the
 * Job. The sandbox has no cluster DNS, so health.url names hello's ClusterIP.
 */
let e: E2E;
beforeAll(async () => {
  e = await startE2E({ timeScale: 0.5 });
}, 30_000);
afterAll(async () => {
  await e?.close();
});

const hello = (url: string | undefined): string =>
  appYaml(
    'hello',
    `
image: berth.local/hello:1.0.0
port: 8080
replicas: 1
health:
  path: /
${url ? `  url: ${url}\n  cronjob: true\n  schedule: "* * * * *"` : ''}
`,
  );

interface JobList {
  items: { metadata: { name: string }; status?: { succeeded?: number; failed?: number } }[];
}

async function finishedJob(): Promise<{ name: string; succeeded: boolean }> {
  return until(async () => {
    const jobs = JSON.parse(await e.kubectl('get', 'jobs', '-l', 'app.kubernetes.io/component=health-probe', '-o', 'json')) as JobList;
    const done = jobs.items.find((j) => (j.status?.succeeded ?? 0) > 0 || (j.status?.failed ?? 0) > 0);
    return done ? { name: done.metadata.name, succeeded: (done.status?.succeeded ?? 0) > 0 } : undefined;
  }, 150_000, 'a finished probe Job');
}

describe.skipIf(!haveKubectl('the health CronJob in the sandbox'))('the health CronJob in the sandbox', () => {
  it('runs `berth probe` in a Job pod: exit 0 against hello, non-zero against a closed port', async () => {
    const first = await e.berth(['deploy', '-f', e.file('hello.yaml', hello(undefined)), '--wait', '--timeout', '60s']);
    expect(first.code, first.err).toBe(0);
    const clusterIP = (await e.kubectl('get', 'service', 'hello', '-o', 'jsonpath={.spec.clusterIP}')).trim();

    const good = await e.berth(['deploy', '-f', e.file('hello.yaml', hello(`http://${clusterIP}:80/`)), '--wait', '--timeout', '60s']);
    expect(good.code, good.err).toBe(0);
    const cron = JSON.parse(await e.kubectl('get', 'cronjob', 'hello-probe', '-o', 'json')) as { spec: { jobTemplate: { spec: { template: { spec: { containers: { image: string; args: string[] }[] } } } } } };
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container?.image).toBe('berth.local/berth:0.1.0');
    expect(container?.args.slice(0, 2)).toEqual(['probe', `http://${clusterIP}:80/`]);
    const ok = await finishedJob();
    const log = await e.kubectl('logs', `job/${ok.name}`);
    expect(ok.succeeded, log).toBe(true);
    expect(JSON.parse(log.trim().split('\n').pop() ?? '{}')).toMatchObject({ ok: true, status: 200 });

    await e.kubectl('delete', 'jobs', '-l', 'app.kubernetes.io/component=health-probe');
    const bad = await e.berth(['deploy', '-f', e.file('hello.yaml', hello(`http://${clusterIP}:1/`)), '--timeout', '60s']);
    expect(bad.code, bad.err).toBe(0);
    const failed = await finishedJob();
    expect(failed.succeeded).toBe(false);
    const badLog = await e.kubectl('logs', `job/${failed.name}`);
    expect(JSON.parse(badLog.trim().split('\n').pop() ?? '{}')).toMatchObject({ ok: false });
  }, 400_000);
});
