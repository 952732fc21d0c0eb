import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { haveKubectl, KUBECTL } from '../src/testing/kubectl.ts';

const BIN = fileURLToPath(new URL('../bin/berth.js', import.meta.url));

async function runUntil(args: string[], cwd: string, marker: string): Promise<{ out: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // With podman here the four hello pods start as containers: slower than processes on a busy machine.
  const deadline = Date.now() + 75_000;
  while (!out.includes(marker) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return {
    out: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('berth up', () => {
  it.skipIf(!haveKubectl('berth up, checked with kubectl'))('runs sandbox + server, deploys the bundled example through the server; kubectl sees it rolled out and hardened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-up-'));
    try {
      const run = await runUntil(['up', '--port', '0', '--nodes', '2'], dir, 'Press Ctrl-C');
      expect(run.out()).toContain('rollout complete: 4/4 replicas ready (revision 1)');
      // It says what runs the pods: containers when podman works here, else processes and why.
      expect(run.out()).toMatch(/^sandbox runtime {2}(containers \(podman|processes \()/m);
      // The server it printed answers, and knows the app it deployed (stored in .berth/berth.db).
      const url = /berth server +(http:\/\/\S+)/.exec(run.out())?.[1] ?? '';
      expect(run.out()).toContain(`API docs         ${url}/docs`);
      expect(run.out()).toContain(`dashboard        ${url}/ (sign in with the admin token)`);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module"');
      // First start: a bootstrap admin token in a 0600 file; the output says where, never what.
      expect(run.out()).toContain('admin token      .berth/admin.token (new admin token, mode 0600');
      const tokenFile = join(dir, '.berth', 'admin.token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect(run.out()).not.toContain(token);
      expect((await fetch(`${url}/v1/apps`)).status).toBe(401);
      const apps = (await (await fetch(`${url}/v1/apps`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { name: string; revision: number; updatedBy: string }[] };
      // The example went through the authenticated API, as the bootstrap admin.
      expect(apps.items.map((a) => [a.name, a.revision, a.updatedBy])).toEqual([['hello', 1, 'bootstrap-admin']]);
      expect(existsSync(join(dir, '.berth', 'berth.db'))).toBe(true);
      const kubeconfig = join(dir, '.berth', 'sandbox.kubeconfig');
      const kubectl = (...args: string[]): string => execFileSync(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
      const deploy = JSON.parse(kubectl('get', 'deployment', 'hello', '-o', 'json')) as {
        status: { readyReplicas: number };
        spec: { template: { spec: { automountServiceAccountToken: boolean; containers: { securityContext: Record<string, unknown> }[] } } };
      };
      expect(deploy.status.readyReplicas).toBe(4);
      expect(deploy.spec.template.spec.automountServiceAccountToken).toBe(false);
      expect(deploy.spec.template.spec.containers[0]?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(kubectl('get', 'hpa', 'hello', '-o', 'jsonpath={.spec.minReplicas}/{.spec.maxReplicas}')).toBe('4/10');
      expect(kubectl('get', 'configmap', 'hello-env', '-o', 'jsonpath={.data.MESSAGES}')).toBe('Hello from berth|Bonjour|Hola');
      // Probed out of the box: at hello's real ClusterIP in the sandbox, from its first Available.
      const clusterIP = kubectl('get', 'service', 'hello', '-o', 'jsonpath={.spec.clusterIP}');
      let health: { target: { kind: string; url: string }; lastProbe: { ok: boolean; status?: number } | null } | undefined;
      for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
        health = (await (await fetch(`${url}/v1/namespaces/default/apps/hello/health`, { headers: { authorization: `Bearer ${token}` } })).json()) as typeof health;
        if (health?.lastProbe) break;
      }
      expect(health?.target).toEqual({ kind: 'service', url: `http://${clusterIP}:80/healthz` });
      expect(health?.lastProbe).toMatchObject({ ok: true, status: 200 });
      expect(await run.stop()).toBe(0);
      expect(run.out()).toContain('stopping berth server and sandbox');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('rejects an invalid App before starting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-up-bad-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: { name: Bad_Name }\nspec: { image: nginx:1.27 }\n');
      // No marker: this waits for the process to exit by itself.
      const run = await runUntil(['up', '--port', '0', '-f', 'bad.yaml'], dir, '\0');
      expect(await run.stop()).toBe(2);
      expect(run.out()).toMatch(/error BERTH_SPEC_INVALID/);
      expect(run.out()).toContain('/metadata/name: name "Bad_Name" is not valid');
      expect(existsSync(join(dir, '.berth'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
