import { seed003Suite } from './testing/seed003Suite.ts';

// Seed 003 with pods as podman containers: the service images and PostgreSQL and Redis standing in for postgres:16 and redis:7.
seed003Suite('containers');
