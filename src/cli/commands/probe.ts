import type { ProbeFlags } from '../actions/probe.ts';
import type { RegisterCommand } from '../command.ts';
import { collect } from '../flags.ts';

/** `berth probe URL`: the seed's CronJob prober, one JSON line per probe. */
export const registerProbe: RegisterCommand = (program, ctx) => {
  program
    .command('probe')
    .description('GET a URL and print one JSON line per probe (status, latency); exits 1 when a probe fails. Runs in the health CronJob.')
    .argument('<url>', 'http:// or https:// URL to probe')
    .option('--timeout <duration>', 'time one probe may take', '2s')
    .option('--expect <status>', 'a status that counts as success (repeatable; default any 2xx or 3xx)', collect, [])
    .option('--count <n>', 'probes to send', '1')
    .option('--interval <duration>', 'time between probes', '5s')
    .action(async (url: string, flags: ProbeFlags) => (await import('../actions/probe.ts')).runProbe(url, flags, ctx));
};
