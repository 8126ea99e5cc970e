/**
 * Every default of the method in one place.
 *
 * Values marked OURS are choices rwda makes where the paper's text lost the number (FNN widths, dropout,
 * learning rate, weight decay, decay factor, multi-crop details). Values marked PAPER come from the paper.
 * All are configurable through the library API and the CLI.
 */

/** Prompt settings. */
export const PROMPT_DEFAULTS = {
  /** PAPER: normal word in "a photo of [n] object". */
  normalWord: 'a',
  /** PAPER: anomaly word in "a photo of [a] object". */
  anomalyWord: 'a damaged',
  /** PAPER: the object name used when the category is unknown. */
  unknownObject: 'object',
  /** PAPER: random words use letters and digits; OURS: lowercase only (the tokenizer lowercases anyway). */
  alphabet: 'abcdefghijklmnopqrstuvwxyz0123456789',
  /** PAPER: random word length drawn uniformly from 5..10 inclusive. */
  minWordLength: 5,
  maxWordLength: 10,
  /** PAPER: number of augmented prompt pairs. */
  pairs: 10_000,
  /** OURS: both prompts of a pair share the same random words (the normal/anomaly word is the only difference). */
  independentWords: false,
  /** PAPER: softmax temperature of the CLIP score. */
  temperature: 0.01,
} as const;

/** FNN and training settings (torch semantics; see src/methods/rwda/fnn). */
export const FNN_DEFAULTS = {
  /** OURS: hidden widths h1, h2, h3. */
  hidden: [512, 256, 128] as readonly number[],
  /** OURS: dropout probability after each hidden block. */
  dropout: 0.5,
  /** OURS: AdamW learning rate. */
  lr: 1e-3,
  /** OURS: AdamW decoupled weight decay. */
  weightDecay: 1e-2,
  /** torch defaults for AdamW. */
  betas: [0.9, 0.999] as readonly [number, number],
  eps: 1e-8,
  /** PAPER: 2 epochs. */
  epochs: 2,
  /** PAPER: batch 128 = 64 whole pairs (both prompts of a pair in the same batch). */
  batchSize: 128,
  /** OURS: StepLR gamma applied after each epoch (the paper decays after epoch 1). */
  lrDecay: 0.1,
  /** torch BatchNorm1d defaults. */
  bnEps: 1e-5,
  bnMomentum: 0.1,
  /** OURS: default seed. */
  seed: 0,
} as const;

/** Multi-crop test-time augmentation (OURS: the paper gives no details). */
export const MULTICROP_DEFAULTS = {
  /** k×k grids of square crops of side 2/(k+1) of the centre square, stride 1/(k+1). */
  scales: [2, 3] as readonly number[],
  /** score = mean(standard-view score, max over crop scores). */
  cropAggregation: 'max' as 'max' | 'mean',
} as const;

/**
 * The few-shot form (the paper's k-shot "CLIP + ours" rows add "an additional score … based on the
 * similarities between the image embeddings of test samples and reference normal samples as
 * described in the paper of WinCLIP"; the fusion formula is not given).
 */
export const FEW_SHOT_DEFAULTS = {
  /**
   * OURS: s = (1 − w)·s_zero_shot + w·s_ref with s_ref = WinCLIP+'s few-shot image score (the max of
   * its reference map) and s_zero_shot = (s_clip + s_fnn) / 2; w = 0.5 mirrors WinCLIP+'s own
   * (zero-shot + few-shot) / 2.
   */
  referenceWeight: 0.5,
} as const;
