/**
 * Connected components of a binary mask, as MVTec's AU-PRO code gets them from
 * `scipy.ndimage.label(mask, np.ones((3, 3)))`: 8-connectivity by default (pixels touching only at a corner are one
 * region). Neighbours are found by (row, column), so regions never wrap from a row's end to the next row's start.
 */

/** Labels 1..count per pixel (0 = background) and each region's pixel count (`sizes[label - 1]`). */
export interface Components {
  labels: Int32Array;
  count: number;
  sizes: number[];
}

/** Labels the non-zero pixels of a row-major `height`×`width` mask with 8- (default) or 4-connectivity. */
export function labelComponents(mask: Uint8Array, height: number, width: number, connectivity: 8 | 4 = 8): Components {
  const n = height * width;
  const labels = new Int32Array(n);
  const sizes: number[] = [];
  const stack = new Int32Array(n);
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    count++;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const y = (p / width) | 0;
      const x = p - y * width;
      const y0 = y > 0 ? y - 1 : 0;
      const y1 = y < height - 1 ? y + 1 : y;
      const x0 = x > 0 ? x - 1 : 0;
      const x1 = x < width - 1 ? x + 1 : x;
      for (let yy = y0; yy <= y1; yy++) {
        for (let xx = x0; xx <= x1; xx++) {
          if (connectivity === 4 && yy !== y && xx !== x) continue;
          const q = yy * width + xx;
          if (mask[q] !== 0 && labels[q] === 0) {
            labels[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes };
}
