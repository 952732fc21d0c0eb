/**
 * `berth load --in-cluster` on a real sandbox and server: the server starts the generator as a
 * hardened Job in hello's namespace (berth's own image: the process runtime runs berth.local/berth as
 * `node bin/berth.js`), follows its pod's JSON lines, and the CLI prints the run; the run is recorded
 * (inCluster: true) and the Job is gone. A viewer and a deployer of another namespace are refused and
 * nothing is created; an image the cluster cannot pull is a coded error, and its Job is deleted too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverContext } from '../../src/api/buildServer.ts';
import { mintToken } from '../../src/auth/testing/testAuth.ts';
import { resolveApp } from '../../src/appspec/resolveApp.ts';
import type { AppSpec } from '../../src/appspec/appSchema.ts';
import { BerthError } from '../../src/errors.ts';
import { prepareLoadJob, runLoadJob } from '../../src/load/loadJobRunner.ts';
import type { LoadJobEvent, LoadRun, LoadRunInput } from '../../src/load/types.ts';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { appYaml, startE2E, until, type E2E } from './testing/e2eKit.ts';

const NS = 'load-ic';

let e: E2E;
beforeAll(async () => {
  e = await startE2E({ timeScale: 0.5 });
}, 60_000);
afterAll(async () => {
  await e?.close();
});

interface JobList {
  items: { metadata: { name: string; labels?: Record<string, string> }; spec: { template: { spec: Record<string, unknown> } } }[];
}
const loadJobs = async (): Promise<JobList['items']> => (JSON.parse(await e.kubectl('get', 'jobs', '-n', NS, '-l', 'app.kubernetes.io/component=load', '-o', 'json')) as JobList).items;
const loadPolicies = async (): Promise<string[]> =>
  (JSON.parse(await e.kubectl('get', 'networkpolicies', '-n', NS, '-l', 'app.kubernetes.io/component=load', '-o', 'json')) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);

/**
 * At most 8 connections: the sandbox's kube-proxy finds the process behind every new connection by
 * reading /proc/net/tcp synchronously (NetworkPolicies are enforced), which takes ~0.4 s when the
 * shared machine holds ~20,000 sockets; 256 connections opened at once would stall it for a minute.
 */
const LOAD_ARGS = ['load', 'hello', '-n', NS, '--in-cluster', '--concurrency', '8', '--rate', '50', '--duration', '5s'];

describe.skipIf(!haveKubectl('berth load --in-cluster'))('berth load --in-cluster', () => {
  it('runs the generator as a hardened Job next to hello, prints the summary, records the run and deletes the Job', async () => {
    const deployed = await e.berth(['deploy', '-f', e.file('hello.yaml', appYaml('hello', 'image: berth.local/hello:1.0.0\nport: 8080\nreplicas: 1', NS)), '--wait', '--timeout', '90s']);
    expect(deployed.code, deployed.err).toBe(0);

    // The Job while it runs: hardened as the issue asks.
    const running = e.start([...LOAD_ARGS, '-o', 'json']);
    const job = await until(async () => (await loadJobs())[0], 60_000, 'the load Job to exist');
    const pod = job.spec.template.spec as { automountServiceAccountToken?: boolean; securityContext?: Record<string, unknown>; containers: { image: string; args: string[]; securityContext: Record<string, unknown>; resources: { limits?: Record<string, string> } }[] };
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const container = pod.containers[0];
    expect(container?.image).toBe('berth.local/berth:0.1.0');
    expect(container?.args.slice(0, 3)).toEqual(['load', expect.stringMatching(/^http:\/\/[\d.]+:80$/), '--output=jsonl']);
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(Object.keys(container?.resources.limits ?? {}).sort()).toEqual(['cpu', 'memory']);

    const r = await running.done;
    expect(r.code, `${r.err}\n${r.out}`).toBe(0);
    const run = JSON.parse(r.out) as LoadRunInput & { id: string };
    expect(run.inCluster).toBe(true);
    // 50/s for 5 s; every request is accounted for: answered with a 2xx, or dropped because it could not
    // be sent on time. Drops happen while the sandbox's kube-proxy admits the pool's first connections
    // (see LOAD_ARGS): on a quiet machine ~250 complete, at a load average of 20 it was 18.
    const { summary } = run;
    expect(summary.asked).toBe(250);
    expect(summary.sent + summary.dropped, JSON.stringify(summary)).toBe(250);
    expect(summary.completed).toBe(summary.sent);
    expect(summary.completed, JSON.stringify(summary)).toBeGreaterThan(0);
    expect(Object.keys(summary.statuses)).toEqual(['200']);
    expect(summary.statuses['200']).toBe(summary.completed);
    expect(summary.errors).toBe(0);
    expect(run.series.reduce((n, s) => n + s.asked, 0)).toBe(250);

    // Recorded like a local run, by the caller.
    const res = await fetch(`${e.url}/v1/namespaces/${NS}/apps/hello/loadruns/${run.id}`, { headers: { authorization: `Bearer ${e.adminToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ inCluster: true, summary: { asked: 250 } } satisfies Partial<Omit<LoadRun, 'summary'>> & { summary: { asked: number } });
    // The Job and its NetworkPolicies are gone.
    await until(async () => (await loadJobs()).length === 0 && (await loadPolicies()).length === 0, 30_000, 'the load Job and its policies to be deleted');
  }, 240_000);

  it('the text view: a line per second and the summary, from the pod', async () => {
    const r = await e.berth([...LOAD_ARGS.slice(0, -2), '--duration', '3s', '--no-record']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/Job hello-load-\w+ \(berth\.local\/berth:0\.1\.0\) started in load-ic/);
    expect(r.out).toMatch(/^GET load-ic\/hello from pod hello-load-/m);
    expect(r.out.match(/^ +\ds +(?:49|50|51) /gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    const completed = /completed (\d+)/.exec(r.out)?.[1];
    expect(Number(completed)).toBeGreaterThan(0);
    expect(r.out).toMatch(new RegExp(`statuses +200×${completed}\n`));
    expect(r.out).toMatch(/errors +0\.0%/);
    expect(r.out).not.toMatch(/Recorded as/);
  }, 120_000);

  it('Ctrl-C ends the stream, and the server deletes the Job at once', async () => {
    const running = e.start([...LOAD_ARGS.slice(0, -2), '--duration', '2m']);
    await until(() => /^ +\ds /m.test(running.out()) || undefined, 60_000, 'the first second of the run');
    expect((await loadJobs()).length).toBe(1);
    const r = await running.stop();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Stopped: the server deletes the load Job; nothing was recorded/);
    await until(async () => (await loadJobs()).length === 0 && (await loadPolicies()).length === 0, 20_000, 'the stopped load Job to be deleted');
    // Its pod (the generator) goes with it: nothing keeps loading hello.
    await until(async () => (await e.kubectl('get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=load', '-o', 'name')).trim() === '' || undefined, 60_000, 'the load pod to be gone');
  }, 120_000);

  it('refuses a viewer and a deployer of another namespace: nothing is created', async () => {
    const tokens = serverContext(e.server).tokens;
    const viewer = await mintToken(tokens, 'ic-viewer', 'viewer', [NS]);
    const stranger = await mintToken(tokens, 'ic-stranger', 'deployer', ['elsewhere']);
    for (const token of [viewer, stranger]) {
      const r = await e.berth(LOAD_ARGS, { env: { BERTH_TOKEN: token } });
      expect(r.code).toBe(2);
      expect(r.err).toContain('BERTH_AUTH_FORBIDDEN');
    }
    expect(await loadJobs()).toEqual([]);
    expect(await loadPolicies()).toEqual([]);
  }, 60_000);

  it('an image the cluster cannot pull is BERTH_LOAD_JOB_IMAGE_PULL, and its Job is deleted', async () => {
    const ctx = serverContext(e.server);
    const row = await ctx.store.getApp(NS, 'hello');
    const deps = { cluster: ctx.cluster, status: ctx.status, image: 'ghcr.io/berth-dev/no-such-berth:0.0.0' };
    const prepared = await prepareLoadJob(deps, resolveApp(row?.spec as AppSpec), { rate: '5', duration: '1s', concurrency: '4', timeout: '2s', method: 'GET', header: [], path: [], failOn: [] });
    const events: LoadJobEvent[] = [];
    const failed = await runLoadJob(deps, prepared, (ev) => events.push(ev), new AbortController().signal).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(BerthError);
    expect((failed as BerthError).code).toBe('BERTH_LOAD_JOB_IMAGE_PULL');
    expect((failed as BerthError).message).toContain('ghcr.io/berth-dev/no-such-berth:0.0.0');
    expect(events.map((ev) => ev.type)).toEqual(['job']);
    await until(async () => (await loadJobs()).length === 0, 30_000, 'the failed load Job to be deleted');
  }, 120_000);
});
