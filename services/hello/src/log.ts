export type Level = 'debug' | 'info' | 'warn' | 'error';

export type Logger = (level: Level, msg: string, fields?: Record<string, unknown>) => void;

/**
 * One JSON object per line on stdout, the shape log collectors (Fluent Bit, Loki, Cloud Logging) parse
 * without configuration. `time`, `level` and `msg` come first so the line reads well in `kubectl logs`.
 */
export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  return (level, msg, fields = {}) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  };
}
