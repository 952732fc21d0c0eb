import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalPathProvisioner } from './localPathProvisioner.ts';

const base = mkdtempSync(join(tmpdir(), 'berth-provisioner-test-'));
const roots: string[] = [];
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('LocalPathProvisioner', () => {
  it('makes a 0777 directory per volume in a 0711 root and removes only directories inside it', async () => {
    const dataDir = join(base, 'open');
    const p = new LocalPathProvisioner(dataDir);
    expect(p.root).toBe(join(dataDir, 'volumes'));
    expect(statSync(p.root).mode & 0o777).toBe(0o711);
    const dir = await p.provision('pvc-1', { namespace: 'ns', name: 'data' });
    expect(dir).toBe(join(p.root, 'pvc-1_ns_data'));
    expect(statSync(dir).mode & 0o777).toBe(0o777);
    const outside = join(base, 'not-a-volume');
    mkdirSync(outside);
    await p.remove(outside);
    await p.remove(p.root);
    await p.remove(join(p.root, '..', 'not-a-volume'));
    expect(existsSync(outside) && existsSync(p.root)).toBe(true);
    await p.remove(dir);
    expect(existsSync(dir)).toBe(false);
    // A persisted root stays with the sandbox's state.
    p.close();
    expect(existsSync(p.root)).toBe(true);
  });

  it('keeps volumes out of a private data directory when pods run as other users', () => {
    const dataDir = join(base, 'private', 'state');
    mkdirSync(dataDir, { recursive: true });
    chmodSync(join(base, 'private'), 0o700);
    const p = new LocalPathProvisioner(dataDir, { forOtherUsers: true });
    roots.push(p.root);
    expect(p.root).toMatch(/^\/var\/tmp\/berth-sandbox-volumes-[0-9a-f]{12}$/);
    // The same data directory finds the same volumes after a restart.
    expect(new LocalPathProvisioner(dataDir, { forOtherUsers: true }).root).toBe(p.root);
    expect(new LocalPathProvisioner(dataDir).root).toBe(join(dataDir, 'volumes'));
  });

  it('uses a temporary root without a data directory and removes it on close', () => {
    const p = new LocalPathProvisioner();
    expect(existsSync(p.root)).toBe(true);
    p.close();
    expect(existsSync(p.root)).toBe(false);
  });
});
