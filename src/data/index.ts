/** Dataset loaders: MVTec AD, VisA, Sewer-ML and generic folders, all returning {@link LoadedDataset}. */
import { loadFolder, loadFolderPair } from './folder.ts';
import { loadMvtec } from './mvtec.ts';
import { loadSewerMl } from './sewerml.ts';
import { loadVisa } from './visa.ts';
import type { LoadedDataset } from './types.ts';

export type { DatasetItem, LoadedDataset, SkipKind, SkippedItem } from './types.ts';
export { IMAGE_EXTENSIONS, isImageFile, listImages, requireDirectory, type ImageListing } from './images.ts';
export { columnIndex, parseCsv, readCsvFile, type CsvRecord, type CsvTable } from './csv.ts';
export { describeSkipped, formatLoadSummary } from './summary.ts';
export {
  DEFAULT_EXCLUDED_FOLDERS,
  NORMAL_FOLDER,
  loadFolder,
  loadFolderPair,
  promptNameFromCategory,
  scanLabelledFolder,
} from './folder.ts';
export { MVTEC_CATEGORIES, loadMvtec, mvtecPromptName, referenceImages, resolveMvtecCategories } from './mvtec.ts';
export { VISA_CATEGORIES, VISA_PROMPT_NAMES, VISA_SPLIT_CSV, loadVisa } from './visa.ts';
export { SEWERML_CATEGORY, SEWERML_DEFECT_CODES, SEWERML_PROMPT_NAME, loadSewerMl } from './sewerml.ts';

/** Which loader to run and with what; the CLI builds one of these from its flags. */
export type DatasetSpec =
  | { kind: 'mvtec'; root: string; categories?: readonly string[] }
  | { kind: 'visa'; root: string; categories?: readonly string[]; csvPath?: string }
  | { kind: 'sewerml'; csv: string; imageDir: string; promptName?: string }
  | { kind: 'folder'; root: string; category?: string; promptName?: string }
  | { kind: 'folder-pair'; normal: string; anomalous: string; category?: string; promptName?: string };

/** Display name of each dataset kind, for messages. */
export const DATASET_NAMES: Readonly<Record<DatasetSpec['kind'], string>> = {
  mvtec: 'MVTec AD',
  visa: 'VisA',
  sewerml: 'Sewer-ML',
  folder: 'folder dataset',
  'folder-pair': 'folder dataset',
};

/** Runs the loader a spec names. */
export function loadDataset(spec: DatasetSpec): LoadedDataset {
  switch (spec.kind) {
    case 'mvtec':
      return loadMvtec(spec.root, { categories: spec.categories });
    case 'visa':
      return loadVisa(spec.root, { categories: spec.categories, csvPath: spec.csvPath });
    case 'sewerml':
      return loadSewerMl(spec.csv, spec.imageDir, { promptName: spec.promptName });
    case 'folder':
      return loadFolder(spec.root, { category: spec.category, promptName: spec.promptName });
    case 'folder-pair':
      return loadFolderPair(
        { normal: spec.normal, anomalous: spec.anomalous },
        { category: spec.category, promptName: spec.promptName },
      );
  }
}
