/**
 * What the method needs from a CLIP backbone. ClipModel satisfies it; tests use small stubs with the
 * same shape so that scores can be checked against hand-computed values.
 */
import { basename } from 'node:path';
import type { EncodeOptions } from '../../clip/model.ts';
import type { PreprocessCfg } from '../../clip/preprocess/index.ts';
import type { WindowOutputs } from '../../clip/window_tower.ts';

/** A CLIP model as the method uses it: identity, sizes, and the two encoders. */
export interface Backbone {
  /** The model directory, when there is one (only used in messages and names). */
  readonly dir?: string;
  readonly config: {
    readonly name?: string;
    readonly embedDim: number;
    /** open_clip's val transform settings; the input side is `preprocess.size`. */
    readonly preprocess: PreprocessCfg;
  };
  /** sha256 of the resolved config and the weights (see src/clip/fingerprint.ts). */
  readonly fingerprint: string;
  /** Raw (un-normalised) text features, one per text, in input order. */
  encodeText(texts: readonly string[], opts?: EncodeOptions): Promise<Float32Array[]>;
  /**
   * Optional: raw text features of prompt pairs, the same values as encodeText of each prompt but
   * faster (ClipModel runs the tokens both prompts share once). `batchSize` counts prompts.
   */
  encodeTextPairs?(pairs: ReadonlyArray<{ normal: string; anomaly: string }>, opts?: EncodeOptions): Promise<{ normal: Float32Array[]; anomaly: Float32Array[] }>;
  /**
   * Optional (WinCLIP and maps): per preprocessed [3, S, S] image, the image embedding, the
   * unprojected ln_post patch tokens and the window embeddings of each scale, all raw.
   */
  encodeWindows?(images: readonly Float32Array[], opts?: { scales?: readonly number[]; batchSize?: number }): Promise<WindowOutputs[]>;
  /** Raw image features for already preprocessed [3, S, S] tensors, in input order. */
  encodeImage(images: readonly Float32Array[], opts?: EncodeOptions): Promise<Float32Array[]>;
}

export type { WindowOutputs } from '../../clip/window_tower.ts';

/** A display name for a backbone: its config name, else its folder name, else "backbone". */
export function backboneName(b: Backbone): string {
  return b.config.name ?? (b.dir !== undefined ? basename(b.dir) : 'backbone');
}
