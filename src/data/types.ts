/** Shared shapes of the dataset loaders. */

/** One test image with its ground truth. */
export interface DatasetItem {
  /** Absolute path of the image file. */
  path: string;
  /** Category (object) the image belongs to, e.g. `metal_nut`; metrics are computed per category. */
  category: string;
  /** 0 = normal, 1 = anomalous. */
  label: 0 | 1;
  /** `good` for normal images, otherwise the defect type (folder name, or the dataset's own code). */
  defectType: string;
  /** Object name put into the text prompts, e.g. `metal nut`. */
  promptName: string;
  /** Absolute path of the ground-truth mask (non-zero = anomalous); absent for images without one (normal ones). */
  maskPath?: string;
  /** True for an anomalous image whose dataset provides masks but not this one's: not usable for pixel metrics. */
  maskMissing?: boolean;
}

/** Why a file, folder or CSV row was not turned into an item. */
export type SkipKind =
  | 'non-image' // a file without an image extension (or a hidden file)
  | 'stray-file' // an image outside the folders the layout defines
  | 'empty-folder' // a defect folder without images
  | 'missing-file' // a CSV row whose image file does not exist
  | 'ambiguous-file' // a CSV file name matching several files
  | 'bad-row' // a CSV row with a missing field or a bad value
  | 'duplicate' // the same image listed twice
  | 'unknown-category'; // a CSV row naming an object the dataset does not have

/** Something the loader saw and did not load, with the reason. */
export interface SkippedItem {
  path?: string;
  category?: string;
  kind: SkipKind;
  reason: string;
}

/** What every loader returns. */
export interface LoadedDataset {
  /** Items sorted by category (in `categories` order), then path. */
  items: DatasetItem[];
  skipped: SkippedItem[];
  /** Categories that have items, in the dataset's canonical order. */
  categories: string[];
  /** Informational lines for the user (rows left out by design, folders ignored), never errors. */
  notes: string[];
}
