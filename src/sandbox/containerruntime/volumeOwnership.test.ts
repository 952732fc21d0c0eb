import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setVolumeOwnership, subPathInside } from './volumeOwnership.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'berth-ownership-'));
  dirs.push(d);
  return d;
};
// Changing a file's group to one the process is not in needs root; otherwise use our own group.
const GROUP = process.getuid?.() === 0 ? 4242 : (process.getgid?.() ?? 0);
const mode = (p: string): number => statSync(p).mode & 0o7777;

describe('setVolumeOwnership', () => {
  it('gives every directory and file the fsGroup, g+rw and setgid directories, and follows no symlink', () => {
    const root = temp();
    const volume = join(root, 'volume');
    mkdirSync(join(volume, 'pgdata'), { recursive: true });
    chmodSync(join(volume, 'pgdata'), 0o700);
    writeFileSync(join(volume, 'pgdata', 'PG_VERSION'), '15\n', { mode: 0o600 });
    const outside = join(root, 'host-file');
    writeFileSync(outside, 'host', { mode: 0o600 });
    const before = statSync(outside);
    // What a tenant could plant to have root change a host file.
    symlinkSync(outside, join(volume, 'escape'));
    symlinkSync(root, join(volume, 'escape-dir'));

    setVolumeOwnership(volume, GROUP);

    for (const p of [volume, join(volume, 'pgdata')]) {
      expect(statSync(p).gid).toBe(GROUP);
      expect(mode(p) & 0o2770).toBe(0o2770);
    }
    expect(mode(join(volume, 'pgdata'))).toBe(0o2770);
    expect(statSync(join(volume, 'pgdata', 'PG_VERSION')).gid).toBe(GROUP);
    expect(mode(join(volume, 'pgdata', 'PG_VERSION'))).toBe(0o660);
    const after = statSync(outside);
    expect([after.gid, after.mode]).toEqual([before.gid, before.mode]);
    expect(mode(root)).toBe(0o700);
  });

  it('gives a read-only volume g+r only, and OnRootMismatch skips a volume whose root already matches', () => {
    const volume = temp();
    writeFileSync(join(volume, 'a'), 'a', { mode: 0o600 });
    setVolumeOwnership(volume, GROUP, { readOnly: true });
    expect(mode(join(volume, 'a'))).toBe(0o640);
    setVolumeOwnership(volume, GROUP);
    writeFileSync(join(volume, 'b'), 'b', { mode: 0o600 });
    chmodSync(join(volume, 'b'), 0o600);
    setVolumeOwnership(volume, GROUP, { onRootMismatch: true });
    expect(mode(join(volume, 'b'))).toBe(0o600);
    setVolumeOwnership(volume, GROUP);
    expect(mode(join(volume, 'b'))).toBe(0o660);
  });
});

describe('subPathInside', () => {
  it('creates a missing subPath with the volume root\'s mode and accepts an existing file at the end', () => {
    const volume = temp();
    chmodSync(volume, 0o777);
    const dir = subPathInside(volume, 'logs/app');
    expect(dir).toBe(join(volume, 'logs', 'app'));
    expect(mode(join(volume, 'logs'))).toBe(0o777);
    expect(mode(dir)).toBe(0o777);
    writeFileSync(join(volume, 'app.conf'), 'x');
    expect(subPathInside(volume, 'app.conf')).toBe(join(volume, 'app.conf'));
  });

  it('refuses a subPath that leaves the volume, goes through a symlink or through a file', () => {
    const volume = temp();
    symlinkSync('/etc', join(volume, 'escape'));
    writeFileSync(join(volume, 'file'), 'x');
    expect(() => subPathInside(volume, '../x')).toThrow('must be a relative path inside the volume');
    expect(() => subPathInside(volume, 'escape')).toThrow('goes through a symbolic link (escape)');
    expect(() => subPathInside(volume, 'escape/ssl')).toThrow('goes through a symbolic link (escape)');
    expect(() => subPathInside(volume, 'file/x')).toThrow('is not a directory or file inside the volume (file)');
  });
});
