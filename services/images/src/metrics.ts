/**
 * Prometheus text exposition (format 0.0.4), by hand as in the other services: requests by status
 * code (`http_requests_total{code}`, the series berth's rules and dashboard read), a latency
 * histogram, and the service's own counters (uploads, bytes, downloads, object-storage failures).
 */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ImagesMetrics {
  // 200 and 500 exist from the start so an error-ratio rule reads 0, not "no data", before a failure.
  private readonly byCode = new Map<number, number>([
    [200, 0],
    [500, 0],
  ]);
  private readonly buckets = new Array<number>(BUCKETS.length + 1).fill(0);
  private sum = 0;
  private count = 0;
  uploads = 0;
  uploadedBytes = 0;
  downloads = 0;
  storageErrors = 0;

  observe(status: number, seconds: number): void {
    this.byCode.set(status, (this.byCode.get(status) ?? 0) + 1);
    const i = BUCKETS.findIndex((b) => seconds <= b);
    const at = i === -1 ? BUCKETS.length : i;
    this.buckets[at] = (this.buckets[at] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }

  render(): string {
    const lines = ['# HELP http_requests_total HTTP requests answered, by status code.', '# TYPE http_requests_total counter'];
    for (const [code, n] of [...this.byCode].sort(([a], [b]) => a - b)) lines.push(`http_requests_total{code="${code}"} ${n}`);
    lines.push('# HELP http_request_duration_seconds Latency of every answered HTTP response in seconds.', '# TYPE http_request_duration_seconds histogram');
    let cumulative = 0;
    BUCKETS.forEach((b, i) => {
      cumulative += this.buckets[i] ?? 0;
      lines.push(`http_request_duration_seconds_bucket{le="${b}"} ${cumulative}`);
    });
    lines.push(`http_request_duration_seconds_bucket{le="+Inf"} ${this.count}`, `http_request_duration_seconds_sum ${this.sum}`, `http_request_duration_seconds_count ${this.count}`);
    const counter = (name: string, help: string, value: number): void => void lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    counter('images_uploads_total', 'Images stored in object storage.', this.uploads);
    counter('images_uploaded_bytes_total', 'Bytes of the images stored.', this.uploadedBytes);
    counter('images_downloads_total', 'Images served from object storage.', this.downloads);
    counter('images_storage_errors_total', 'Requests to object storage that failed or were refused.', this.storageErrors);
    lines.push('# HELP process_resident_memory_bytes Resident memory size in bytes.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${process.memoryUsage.rss()}`);
    return lines.join('\n') + '\n';
  }
}
