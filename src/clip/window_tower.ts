/**
 * WinCLIP's vision passes on onnxruntime: for normalised pixels [B, 3, S, S], one session run per
 * batch yields each image's embedding, its ln_post patch tokens and the CLS embedding of every
 * window of each scale (./onnx/window_graph.ts). A tower is built for a fixed set of scales.
 */
import * as ort from 'onnxruntime-node';
import { RwdaError } from '../errors.ts';
import { openClipWeights } from './checkpoint.ts';
import type { ClipConfig } from './config.ts';
import type { TowerGraphOptions } from './onnx/build.ts';
import { createSession, type SessionOptions } from './onnx/session.ts';
import type { KernelOptions } from './onnx/transformer.ts';
import { VISION_INPUT, VISION_OUTPUT, VISION_TOKENS_OUTPUT } from './onnx/vision_graph.ts';
import { buildWindowGraph, windowOutputName } from './onnx/window_graph.ts';

/** anomalib's WinCLIP window sides, in patches. */
export const DEFAULT_WINDOW_SCALES: readonly number[] = [2, 3];
/** Default images per onnxruntime call (each image is already ~2,900 tokens of work for scales 2, 3). */
export const DEFAULT_WINDOW_BATCH = 1;

/** One image's WinCLIP embeddings, all raw (not normalised). */
export interface WindowOutputs {
  /** encode_image: ln_post(CLS) @ proj, [embedDim]. */
  image: Float32Array;
  /** ln_post of tokens 1..g² (not projected), [g²·width] row-major. */
  patchTokens: Float32Array;
  /** scale → [nWindows·embedDim] row-major, windows in windowPatches(grid, scale) order. */
  windows: Record<number, Float32Array>;
  grid: number;
  width: number;
  embedDim: number;
}

export interface EncodeWindowsOptions {
  /** Images per onnxruntime call (default 1). */
  batchSize?: number;
  /** Called after each batch with (done, total) images. */
  onProgress?: (done: number, total: number) => void;
}

/** Checks a list of window scales for a grid: integers in 1..grid, no repeats. Returns a copy. */
export function checkWindowScales(scales: readonly number[], grid: number): number[] {
  if (!Array.isArray(scales)) throw new RwdaError(`scales must be an array of window sides in patches, got ${String(scales)}`);
  const seen = new Set<number>();
  for (const s of scales) {
    if (!Number.isInteger(s) || s < 1 || s > grid) throw new RwdaError(`scales: window side ${String(s)} is not an integer in 1..${grid} (the patch grid)`);
    if (seen.has(s)) throw new RwdaError(`scales: window side ${s} is listed twice`);
    seen.add(s);
  }
  return [...scales];
}

/** A loaded WinCLIP vision session for one set of scales. */
export class WindowTower {
  private constructor(
    readonly config: ClipConfig,
    readonly scales: readonly number[],
    private session: ort.InferenceSession | undefined,
  ) {}

  /** Builds the graph for `scales` and creates its session. */
  static async create(cfg: ClipConfig, scales: readonly number[], graph: TowerGraphOptions, session: SessionOptions = {}): Promise<WindowTower> {
    const checked = checkWindowScales(scales, cfg.vision.gridSize);
    const built = buildWindowGraph(cfg, { ...graph, scales: checked });
    return new WindowTower(cfg, checked, await createSession(built, session, 'window tower'));
  }

  /** Opens the checkpoint, builds the session and closes the file again (external weights are read by onnxruntime at creation). */
  static async fromCheckpoint(
    cfg: ClipConfig,
    weightsPath: string,
    scales: readonly number[],
    opts: { kernels?: KernelOptions; weightMode?: 'external' | 'inline'; session?: SessionOptions } = {},
  ): Promise<WindowTower> {
    const checked = checkWindowScales(scales, cfg.vision.gridSize);
    const weights = openClipWeights(weightsPath, cfg);
    try {
      return await WindowTower.create(cfg, checked, { source: weights.file, read: weights.get, weightMode: opts.weightMode, kernels: opts.kernels }, opts.session);
    } finally {
      weights.close();
    }
  }

  /** Floats in one preprocessed image (3·S·S). */
  get imageLength(): number {
    const S = this.config.vision.imageSize;
    return 3 * S * S;
  }

  /** Windows of `scale` on this model's grid. */
  windowCount(scale: number): number {
    const n = this.config.vision.gridSize - scale + 1;
    return n * n;
  }

  /** Runs the passes on `pixels` = [B, 3, S, S] (B = pixels.length / (3·S·S)), in batches; one result per image. */
  async encodePixels(pixels: Float32Array, opts: EncodeWindowsOptions = {}): Promise<WindowOutputs[]> {
    const session = this.live();
    const v = this.config.vision;
    const per = this.imageLength;
    if (!(pixels instanceof Float32Array) || pixels.length === 0 || pixels.length % per !== 0) {
      const got = pixels instanceof Float32Array ? `${pixels.length} floats` : 'not a Float32Array';
      throw new RwdaError(`pixels: ${got}; expected a positive multiple of 3·${v.imageSize}·${v.imageSize} = ${per}`);
    }
    const n = pixels.length / per;
    const batchSize = opts.batchSize ?? DEFAULT_WINDOW_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RwdaError(`batchSize: window batch size must be a positive integer, got ${batchSize}`);
    const E = this.config.embedDim;
    const P = v.gridSize * v.gridSize * v.width;
    // One buffer per output kind; every image's arrays are views into them.
    const image = new Float32Array(n * E);
    const patchTokens = new Float32Array(n * P);
    const windows = new Map(this.scales.map((s) => [s, new Float32Array(n * this.windowCount(s) * E)]));
    const fetches = [VISION_OUTPUT, VISION_TOKENS_OUTPUT, ...this.scales.map(windowOutputName)];
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const input = new ort.Tensor('float32', pixels.subarray(start * per, (start + b) * per), [b, 3, v.imageSize, v.imageSize]);
      const result = await session.run({ [VISION_INPUT]: input }, fetches);
      try {
        image.set(result[VISION_OUTPUT]!.data as Float32Array, start * E);
        patchTokens.set(result[VISION_TOKENS_OUTPUT]!.data as Float32Array, start * P);
        for (const [s, buf] of windows) buf.set(result[windowOutputName(s)]!.data as Float32Array, start * this.windowCount(s) * E);
      } finally {
        for (const t of Object.values(result)) t.dispose();
      }
      opts.onProgress?.(start + b, n);
    }
    checkFinite(image, 'image features');
    for (const [s, buf] of windows) checkFinite(buf, `window embeddings (scale ${s})`);
    return Array.from({ length: n }, (_, i) => {
      const win: Record<number, Float32Array> = {};
      for (const [s, buf] of windows) {
        const len = this.windowCount(s) * E;
        win[s] = buf.subarray(i * len, (i + 1) * len);
      }
      return { image: image.subarray(i * E, (i + 1) * E), patchTokens: patchTokens.subarray(i * P, (i + 1) * P), windows: win, grid: v.gridSize, width: v.width, embedDim: E };
    });
  }

  /** Releases the onnxruntime session. */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }

  private live(): ort.InferenceSession {
    if (!this.session) throw new RwdaError('the window tower was disposed');
    return this.session;
  }
}

// NaN/Inf weights are not read by JS on the fast path, so they would surface here first.
function checkFinite(a: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x - x !== 0) throw new RwdaError(`the model produced a non-finite value in ${what} (the weights may hold NaN/Inf; load with validateWeights to find the tensor)`);
  }
}
