import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../testing/runCli.ts';

const dirs: string[] = [];
function repo(app = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: web}\nspec: {image: registry.example.com/web:2.0.0}\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ci-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'app.yaml'), app);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('berth ci init', () => {
  it('writes the workflow and the Jenkinsfile for the App file, with its image', async () => {
    const dir = repo();
    const r = await runCli(['ci', 'init', '--github', '--jenkins'], { cwd: dir });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('wrote .github/workflows/berth-deploy.yml\nwrote Jenkinsfile\n');
    expect(readFileSync(join(dir, '.github/workflows/berth-deploy.yml'), 'utf8')).toContain('IMAGE: registry.example.com/web:2.0.0');
    expect(readFileSync(join(dir, 'Jenkinsfile'), 'utf8')).toContain("APP_FILE = 'app.yaml'");
  });

  it('refuses to overwrite (BERTH_CI_FILE_EXISTS, exit 2, nothing written) unless --force', async () => {
    const dir = repo();
    writeFileSync(join(dir, 'Jenkinsfile'), 'mine');
    const r = await runCli(['ci', 'init', '--github', '--jenkins'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.err).toContain('BERTH_CI_FILE_EXISTS');
    expect(existsSync(join(dir, '.github'))).toBe(false);
    expect(readFileSync(join(dir, 'Jenkinsfile'), 'utf8')).toBe('mine');
    expect((await runCli(['ci', 'init', '--jenkins', '--force'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, 'Jenkinsfile'), 'utf8')).toContain('pipeline {');
  });

  it('needs a target, a valid App file with one image, inside the repository', async () => {
    const dir = repo();
    const none = await runCli(['ci', 'init'], { cwd: dir });
    expect([none.code, none.err]).toEqual([2, expect.stringContaining('BERTH_CI_TARGET_REQUIRED')]);
    const two = repo('apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: a}\nspec: {image: x/a:1}\n---\napiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: b}\nspec: {image: x/b:1}\n');
    expect((await runCli(['ci', 'init', '--github'], { cwd: two })).err).toContain('BERTH_CI_ONE_IMAGE');
    const bad = repo('apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: a}\nspec: {imag: x}\n');
    expect((await runCli(['ci', 'init', '--github'], { cwd: bad })).err).toContain('BERTH_SPEC');
    const outside = await runCli(['ci', 'init', '--github', '-f', join(repo(), 'app.yaml'), '--dir', dir], { cwd: dir });
    expect(outside.err).toContain('BERTH_CI_OUTSIDE_REPOSITORY');
    expect(existsSync(join(dir, '.github'))).toBe(false);
    expect((await runCli(['ci', 'init', '--github', '-f', 'nope.yaml'], { cwd: dir })).err).toContain('BERTH_FILE_NOT_FOUND');
  });
});
