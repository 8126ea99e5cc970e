/**
 * The one output type of every method (like anomalib's InferenceBatch): the final image score, its
 * named components, and optionally an anomaly map. Runner, reports, CLI and server read only this.
 */

/** A dense anomaly map, row-major, in model-input coordinates (e.g. 240×240) unless said otherwise. */
export interface AnomalyMap {
  readonly width: number;
  readonly height: number;
  /** height·width values, row-major; higher = more anomalous. */
  readonly data: Float32Array;
}

/** One image's result from any method. */
export interface Prediction {
  /** The method's final image score (higher = more anomalous). */
  s: number;
  /** Named components of `s` (e.g. s_clip, s_fnn, s_ref), in a stable order. */
  components: Record<string, number>;
  /** The anomaly map, for methods that compute one. */
  map?: AnomalyMap;
}
