/**
 * Ground-truth segmentation masks (MVTec AD, VisA, folder datasets): PNG/any sharp-readable image, where any
 * non-zero value is anomalous. MVTec uses 0/255, VisA 0/255 or small class ids, and the fixtures use 1…254 too,
 * so thresholding at 128 (a common shortcut) would silently drop defect pixels.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import { RwdaError } from '../errors.ts';

/** A binary mask, row-major: `data[y * width + x]` is 1 for anomalous, 0 for normal. */
export interface BinaryMask {
  height: number;
  width: number;
  data: Uint8Array;
  /** Number of anomalous pixels. */
  nAnomalous: number;
}

/** Reads a mask image (8-bit or 1-bit grayscale PNG expected; colour images: any non-zero channel counts). */
export async function readMask(path: string): Promise<BinaryMask> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new RwdaError(`${path}: cannot read mask (${(err as Error).message})`, { cause: err });
  }
  let raw: { data: Buffer; info: OutputInfo };
  try {
    // No ICC / colour-space conversion: the stored sample values are the labels.
    raw = await sharp(bytes, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new RwdaError(`${path}: not a readable mask image (${(err as Error).message.split('\n')[0]!.replace(/:\s*$/, '')})`, { cause: err });
  }
  const { width, height, channels } = raw.info;
  const src = raw.data;
  const n = width * height;
  const data = new Uint8Array(n);
  // Alpha is not a label: gray+alpha uses channel 0, RGBA the three colour channels.
  const colour = channels === 1 || channels === 2 ? 1 : 3;
  let nAnomalous = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let c = 0; c < colour; c++) v |= src[i * channels + c]!;
    if (v !== 0) {
      data[i] = 1;
      nAnomalous++;
    }
  }
  return { height, width, data, nAnomalous };
}
