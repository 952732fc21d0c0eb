/**
 * Hand-written Prometheus text exposition (format 0.0.4). The service exports a handful of series, which
 * does not justify a dependency; the rules that matter are kept here: one HELP and TYPE line per family,
 * cumulative `le` buckets ending in `+Inf`, and `+Inf` equal to `_count`.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** prom-client's defaults; 10 s covers the longest `/work` request. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type CodeClass = `${1 | 2 | 3 | 4 | 5}xx`;

export function codeClass(status: number): CodeClass {
  const hundreds = Math.min(5, Math.max(1, Math.floor(status / 100))) as 1 | 2 | 3 | 4 | 5;
  return `${hundreds}xx`;
}

export interface Gauge {
  readonly name: string;
  readonly help: string;
  readonly value: number;
}

export class HelloMetrics {
  // Pre-seeded so `rate()` and error-ratio rules see a 0 series before the first error happens.
  private readonly requests = new Map<CodeClass, number>([
    ['2xx', 0],
    ['4xx', 0],
    ['5xx', 0],
  ]);
  private readonly buckets: readonly number[];
  /** Per-bucket (non-cumulative) counts; index `buckets.length` is the overflow above the last bound. */
  private readonly bucketCounts: number[];
  private durationSum = 0;
  private durationCount = 0;

  constructor(buckets: readonly number[] = DEFAULT_BUCKETS) {
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new Error('histogram buckets must be finite and distinct');
    }
    this.buckets = sorted;
    this.bucketCounts = new Array<number>(sorted.length + 1).fill(0);
  }

  /** Records one finished response; only 2xx responses feed the latency histogram. */
  observe(status: number, seconds: number): void {
    const cls = codeClass(status);
    this.requests.set(cls, (this.requests.get(cls) ?? 0) + 1);
    if (cls !== '2xx') return;
    let i = this.buckets.findIndex((bound) => seconds <= bound);
    if (i === -1) i = this.buckets.length;
    this.bucketCounts[i] = (this.bucketCounts[i] ?? 0) + 1;
    this.durationSum += seconds;
    this.durationCount += 1;
  }

  requestCount(cls: CodeClass): number {
    return this.requests.get(cls) ?? 0;
  }

  render(gauges: readonly Gauge[] = []): string {
    const lines: string[] = [];

    lines.push(
      '# HELP hello_http_requests_total HTTP requests answered, by status code class.',
      '# TYPE hello_http_requests_total counter',
    );
    for (const [cls, n] of [...this.requests].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`hello_http_requests_total{code_class="${cls}"} ${formatNumber(n)}`);
    }

    const histogram = 'hello_http_request_duration_seconds';
    lines.push(
      `# HELP ${histogram} Latency of 2xx HTTP responses in seconds.`,
      `# TYPE ${histogram} histogram`,
    );
    let cumulative = 0;
    this.buckets.forEach((bound, i) => {
      cumulative += this.bucketCounts[i] ?? 0;
      lines.push(`${histogram}_bucket{le="${formatNumber(bound)}"} ${cumulative}`);
    });
    lines.push(
      `${histogram}_bucket{le="+Inf"} ${this.durationCount}`,
      `${histogram}_sum ${formatNumber(this.durationSum)}`,
      `${histogram}_count ${this.durationCount}`,
    );

    for (const g of gauges) {
      lines.push(`# HELP ${g.name} ${escapeHelp(g.help)}`, `# TYPE ${g.name} gauge`, `${g.name} ${formatNumber(g.value)}`);
    }
    // The format requires the exposition to end with a line feed.
    return lines.join('\n') + '\n';
  }
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
