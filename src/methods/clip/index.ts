/** The CLIP prompt baseline (s_clip): settings, pure scoring core and the method for the registry. */
export { promptPairEmbeddings, clipImageScores } from './scoring.ts';
