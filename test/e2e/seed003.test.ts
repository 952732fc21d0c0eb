import { seed003Suite } from './testing/seed003Suite.ts';

// Seed 003 with pods as processes of this machine (the sandbox's default runtime).
seed003Suite('processes');
