import cliProgress from 'cli-progress';

/** A progress reporter on stderr; silent when stderr is not a TTY or when `quiet` is set. */
export interface Progress {
  /** Advances by `n` (default 1). */
  tick(n?: number): void;
  /** Sets the absolute position. */
  update(value: number): void;
  stop(): void;
}

export interface ProgressOptions {
  total: number;
  /** What is being counted, e.g. "images" or "pairs". */
  unit: string;
  label?: string;
  quiet?: boolean;
  /** Values are byte counts: show them as KiB/MiB/GiB and the rate as bytes per second. */
  bytes?: boolean;
  /** Starting value (e.g. bytes already on disk when resuming); the rate counts only what comes after it. */
  initial?: number;
}

/** Formats a byte count with binary prefixes, e.g. 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Creates a progress bar showing count, rate per second and ETA. */
export function createProgress(opts: ProgressOptions): Progress {
  const enabled = !opts.quiet && process.stderr.isTTY === true && opts.total > 0;
  if (!enabled) {
    return { tick() {}, update() {}, stop() {} };
  }
  const prefix = opts.label ? opts.label + ' ' : '';
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: opts.bytes
        ? `${prefix}{bar} {value}/{total} | {rate}/s | ETA {eta_formatted}`
        : `${prefix}{bar} {value}/{total} ${opts.unit} | {rate} ${opts.unit}/s | ETA {eta_formatted}`,
      ...(opts.bytes
        ? { formatValue: (v: number, _o: unknown, type: string) => (type === 'value' || type === 'total' ? formatBytes(v) : String(v)) }
        : {}),
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = Date.now();
  const initial = opts.initial ?? 0;
  let value = initial;
  bar.start(opts.total, initial, { rate: opts.bytes ? formatBytes(0) : '0.0' });
  const rate = () => {
    const perSecond = ((value - initial) * 1000) / Math.max(1, Date.now() - start);
    return opts.bytes ? formatBytes(Math.round(perSecond)) : perSecond.toFixed(1);
  };
  return {
    tick(n = 1) {
      value += n;
      bar.update(value, { rate: rate() });
    },
    update(v: number) {
      value = v;
      bar.update(value, { rate: rate() });
    },
    stop() {
      bar.stop();
    },
  };
}
