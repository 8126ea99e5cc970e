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
}

/** Creates a progress bar showing count, rate per second and ETA. */
export function createProgress(opts: ProgressOptions): Progress {
  const enabled = !opts.quiet && process.stderr.isTTY === true && opts.total > 0;
  if (!enabled) {
    return { tick() {}, update() {}, stop() {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${opts.label ? opts.label + ' ' : ''}{bar} {value}/{total} ${opts.unit} | {rate} ${opts.unit}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = Date.now();
  let value = 0;
  bar.start(opts.total, 0, { rate: '0.0' });
  const rate = () => ((value * 1000) / Math.max(1, Date.now() - start)).toFixed(1);
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
