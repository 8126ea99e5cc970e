/**
 * The CLIP vision tower on onnxruntime: normalised pixels [B, 3, S, S] → image features [B, embed]
 * and patch tokens [B, g², width] (ln_post applied, CLS dropped, not projected).
 */
import * as ort from 'onnxruntime-node';
import { RwdaError } from '../errors.ts';
import type { ClipConfig } from './config.ts';
import type { TowerGraphOptions } from './onnx/build.ts';
import { createSession, type SessionOptions } from './onnx/session.ts';
import { buildVisionGraph, VISION_INPUT, VISION_OUTPUT, VISION_TOKENS_OUTPUT } from './onnx/vision_graph.ts';

/** Default images per onnxruntime call. */
export const DEFAULT_IMAGE_BATCH = 8;

/** Vision tower outputs for B images, row-major. */
export interface PixelOutputs {
  /** [B, embedDim] raw (not normalised) image features. */
  features: Float32Array;
  /** [B, gridSize², width] patch tokens after ln_post. */
  patchTokens: Float32Array;
}

export interface EncodePixelsOptions {
  /** Images per onnxruntime call (default 8). */
  batchSize?: number;
  /** Skip copying the patch tokens out (they are still computed). */
  withPatchTokens?: boolean;
  /** Called after each batch with (done, total) images. */
  onProgress?: (done: number, total: number) => void;
}

/** A loaded vision tower (one onnxruntime session). */
export class VisionTower {
  private constructor(
    readonly config: ClipConfig,
    private session: ort.InferenceSession | undefined,
  ) {}

  /** Builds the graph and creates its session. */
  static async create(cfg: ClipConfig, graph: TowerGraphOptions, session: SessionOptions = {}): Promise<VisionTower> {
    const built = buildVisionGraph(cfg, graph);
    return new VisionTower(cfg, await createSession(built, session, 'vision tower'));
  }

  /** Floats in one preprocessed image (3·S·S). */
  get imageLength(): number {
    const S = this.config.vision.imageSize;
    return 3 * S * S;
  }

  /** Runs the tower on `pixels` = [B, 3, S, S] (B = pixels.length / (3·S·S)), in batches. */
  async encodePixels(pixels: Float32Array, opts: EncodePixelsOptions = {}): Promise<PixelOutputs> {
    const session = this.live();
    const v = this.config.vision;
    const per = this.imageLength;
    if (pixels.length === 0 || pixels.length % per !== 0) {
      throw new RwdaError(`pixel tensor has ${pixels.length} floats; expected a positive multiple of 3·${v.imageSize}·${v.imageSize} = ${per}`);
    }
    const n = pixels.length / per;
    const batchSize = opts.batchSize ?? DEFAULT_IMAGE_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RwdaError(`image batch size must be a positive integer, got ${batchSize}`);
    const E = this.config.embedDim;
    const P = v.gridSize * v.gridSize * v.width;
    const withTokens = opts.withPatchTokens ?? true;
    const features = new Float32Array(n * E);
    const patchTokens = new Float32Array(withTokens ? n * P : 0);
    const fetches = withTokens ? [VISION_OUTPUT, VISION_TOKENS_OUTPUT] : [VISION_OUTPUT];
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const input = new ort.Tensor('float32', pixels.subarray(start * per, (start + b) * per), [b, 3, v.imageSize, v.imageSize]);
      const result = await session.run({ [VISION_INPUT]: input }, fetches);
      features.set(result[VISION_OUTPUT]!.data as Float32Array, start * E);
      if (withTokens) patchTokens.set(result[VISION_TOKENS_OUTPUT]!.data as Float32Array, start * P);
      for (const t of Object.values(result)) t.dispose();
      opts.onProgress?.(start + b, n);
    }
    return { features, patchTokens };
  }

  /** Releases the onnxruntime session. */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }

  private live(): ort.InferenceSession {
    if (!this.session) throw new RwdaError('the vision tower was disposed');
    return this.session;
  }
}
