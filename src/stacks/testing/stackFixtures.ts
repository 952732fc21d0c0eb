/** A small stack used by the stacks tests: two apps in two namespaces, postgres, redis, s3 and a secret. */
export function shopStack(): Record<string, unknown> {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Stack',
    metadata: { name: 'shop', namespace: 'shop' },
    spec: {
      resources: {
        db: { type: 'postgres', storage: '2Gi' },
        cache: { type: 'redis', namespace: 'auth' },
        files: { type: 's3' },
        'session-key': { type: 'secret', namespace: 'auth' },
      },
      apps: [
        {
          metadata: { name: 'api' },
          uses: ['db', 'files', 'auth'],
          spec: {
            image: 'ghcr.io/acme/api:1.0.0',
            env: {
              DATABASE_URL: '${resources.db.url}',
              DB_HOST: '${resources.db.host}',
              DB_ADDR: '${resources.db.host}:${resources.db.port}',
              S3_ENDPOINT: '${resources.files.endpoint}',
              S3_KEY: '${resources.files.accessKeyId}',
              S3_SECRET: '${resources.files.secretAccessKey}',
              LOG_LEVEL: 'info',
            },
          },
        },
        {
          metadata: { name: 'auth', namespace: 'auth' },
          uses: ['cache', 'session-key'],
          spec: { image: 'ghcr.io/acme/auth:2.0.0', port: 9000, env: { REDIS_URL: '${resources.cache.url}', SESSION_KEY: '${resources.session-key.value}' } },
        },
        { metadata: { name: 'worker' }, uses: ['db'], spec: { image: 'ghcr.io/acme/worker:1.0.0', env: { DATABASE_URL: '${resources.db.url}' } } },
      ],
    },
  };
}
