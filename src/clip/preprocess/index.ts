/** open_clip image preprocessing, bit-exact against Pillow 9.4 / torchvision 0.14 (see each module). */
export { decodeImage, pngPillowMode, DEFAULT_MAX_PIXELS, MODE_CHANNELS } from './decode.ts';
export type { DecodedImage, DecodeOptions, ImageMode } from './decode.ts';
export {
  preprocessToU8,
  preprocessImage,
  cropResizeToU8,
  cropResizeImage,
  toTensor,
  shortestSideSize,
  longestSideSize,
  centerCropOffset,
  roundHalfEven,
} from './transform.ts';
export type { PreprocessCfg, PreprocessedU8 } from './transform.ts';
export { resizeBicubic, resizeNearest, bicubicCoefficients, premultiply, unpremultiply, cropRaw } from './resample.ts';
export type { RawImage, OutputWindow, Coefficients } from './resample.ts';
