import { Option } from 'commander';
import type { RegisterCommand } from '../command.ts';
import type { LoadFlags } from '../actions/load.ts';
import { collect, withNamespace, withServer } from '../flags.ts';

/**
 * `berth load TARGET`: an open-model load generator. TARGET is a URL, or an app name (with -n): then
 * the load goes through the app's Ingress (or, with --in-cluster, from a Job next to the app to its
 * Service), the live view shows its replicas and CPU next to the load, and the run is recorded by the
 * server.
 */
export const registerLoad: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('load')
    .description('Send load on a schedule (open model) and show latency, errors and the app\'s replicas live; exits 1 when a --fail-on threshold fails.')
    .argument('<target>', 'app name (with -n) or URL (http://… or https://…)')
    .option('--rate <requests/s>', 'constant rate (with --duration)')
    .option('--duration <duration>', 'how long to send at --rate, e.g. 30s or 2m (default 30s)')
    .option('--stages <list>', 'linear ramps DURATION:RATE,… starting at 0, e.g. 30s:50,2m:500,30s:0')
    .option('-c, --concurrency <n>', 'most requests in flight (and connections) at once', '256')
    .option('--timeout <duration>', 'per-request timeout', '10s')
    .option('-X, --method <method>', 'HTTP method', 'GET')
    .option('-H, --header <name: value>', 'request header (repeatable)', collect, [])
    .option('--body <text>', 'request body (@FILE reads a file)')
    .option('-p, --path <path>', 'request path, used round-robin (repeatable; default the URL\'s path or /)', collect, [])
    .option('--address <url>', 'connect to this origin instead (e.g. the sandbox ingress), keeping the app\'s Host header')
    .option('--workers <n>', 'generator threads (default: as many as the rate needs)')
    .option('--fail-on <threshold>', 'exit 1 when it holds, e.g. p99>500ms, errors>1%, dropped>0 (repeatable)', collect, [])
    .option('--no-record', 'do not record the run on the server')
    .option('--in-cluster', 'run the generator as a hardened Job in the app\'s namespace (berth\'s image) against its Service, through the server', false);
  withNamespace(cmd);
  withServer(cmd);
  cmd.addOption(new Option('-o, --output <format>', 'output format: live text, one JSON document at the end, or JSON lines (one per second, then the summary)').choices(['text', 'json', 'jsonl']).default('text'));
  cmd.action(async (target: string, flags: LoadFlags) => (await import('../actions/load.ts')).runLoadCommand(target, flags, ctx));
};
