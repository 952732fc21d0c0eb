import { defineConfig } from 'vitest/config';

/**
 * Test files that drive something outside the vitest worker: child processes (the berth CLI, the hello
 * service, SQLite writers), the sandbox running real processes, PostgreSQL or kubectl. Everything else
 * runs in process (an in-process sandbox or server on port 0 included) and belongs to `unit`.
 * `*.int.test.ts` and test/e2e/ are e2e by name; the files below are e2e by what they start.
 */
const E2E = [
  '**/*.int.test.ts',
  'test/e2e/**/*.test.ts',
  'test/upCommand.test.ts',
  'test/api/limits.test.ts', // the CLI as a child process over TLS
  'test/sandbox/kubectl.test.ts',
  'test/sandbox/processes.test.ts',
  'test/sandbox/processes.sigkill.test.ts',
  'test/sandbox/sandboxCommand.test.ts',
  'services/hello/test/hello.test.ts', // hello as a child process
  'src/install/install.sandbox.test.ts', // kubectl
  'src/install/kustomize.test.ts', // kubectl kustomize
  'src/store/appStore.test.ts', // PostgreSQL
  'src/store/sqliteProcesses.test.ts', // writers in child processes
  'src/auth/tokenStore.test.ts', // PostgreSQL
  'src/audit/auditLog.test.ts', // PostgreSQL
];

export default defineConfig({
  test: {
    // Tests that spawn bin/berth.js run the compiled CLI: rebuild dist/ first when a source changed.
    globalSetup: ['scripts/build.js'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // e2e tests start real servers and child processes; keep parallelism modest on 2 cores.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'services/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', ...E2E],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: E2E,
          exclude: ['**/node_modules/**', '**/dist/**'],
          // After unit, so a plain `vitest run` reports the fast failures first.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
