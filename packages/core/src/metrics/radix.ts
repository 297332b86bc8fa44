/**
 * Radix sorts used to rank scores for ROC AUC: `radixSort` for whole arrays of 64-bit keys carrying
 * a 16-bit payload, `sortByUpperHalf` for cache-sized buckets of packed 32-bit values.
 *
 * `radixSort`: keys are 32 bits (`hi`) or 64 bits (`hi`, `lo`). Each 32-bit word is sorted in three passes of
 * 11, 11 and 10 bits; a pass whose digit is the same for every element is skipped (common for the
 * high bits of scores in [0, 1]). The sort is stable, which LSD needs, and runs in O(n) with
 * 2^11-entry histograms that stay in cache.
 */

/** IEEE-754 float32 bits → unsigned integer in the order of the floats (negatives flipped, positives offset; -0 = +0). */
export function orderKey(bits: number): number {
  if (bits === 0x80000000) return 0x80000000;
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

const DIGIT_SHIFTS = [0, 11, 22] as const;
const DIGIT_MASKS = [0x7ff, 0x7ff, 0x3ff] as const;
const BUCKETS = 2048;

export interface RadixKeys {
  /** Most significant 32 bits of each key. */
  hi: Uint32Array;
  /** Least significant 32 bits of each key, or null for 32-bit keys. */
  lo: Uint32Array | null;
  payload: Uint16Array;
}

/** Sorts `keys` ascending by (hi, lo); returns the sorted arrays (which may be the input arrays or fresh buffers). */
export function radixSort(keys: RadixKeys): RadixKeys {
  const n = keys.hi.length;
  let src: RadixKeys = keys;
  let dst: RadixKeys = {
    hi: new Uint32Array(n),
    lo: keys.lo === null ? null : new Uint32Array(n),
    payload: new Uint16Array(n),
  };
  // Least significant word first.
  const words: ('lo' | 'hi')[] = keys.lo === null ? ['hi'] : ['lo', 'hi'];
  for (const word of words) {
    const histograms = histogram(word === 'hi' ? keys.hi : keys.lo!);
    for (let d = 0; d < 3; d++) {
      const counts = histograms[d]!;
      if (singleBucket(counts, n)) continue;
      toOffsets(counts);
      scatter(src, dst, word, DIGIT_SHIFTS[d]!, DIGIT_MASKS[d]!, counts);
      const t = src;
      src = dst;
      dst = t;
    }
  }
  return src;
}

/** Counts of each digit value, for the three digits of a word, in one read of the array. */
function histogram(words: Uint32Array): [Uint32Array, Uint32Array, Uint32Array] {
  const h0 = new Uint32Array(BUCKETS);
  const h1 = new Uint32Array(BUCKETS);
  const h2 = new Uint32Array(BUCKETS);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    h0[w & 0x7ff]!++;
    h1[(w >>> 11) & 0x7ff]!++;
    h2[w >>> 22]!++;
  }
  return [h0, h1, h2];
}

/** Whether one bucket holds all n elements, so that the pass would not move anything. */
export function singleBucket(counts: Uint32Array, n: number): boolean {
  for (let b = 0; b < counts.length; b++) {
    const c = counts[b]!;
    if (c !== 0) return c === n;
  }
  return true;
}

/** Turns counts into each bucket's starting offset (exclusive prefix sum), in place. */
function toOffsets(counts: Uint32Array): void {
  let sum = 0;
  for (let b = 0; b < BUCKETS; b++) {
    const c = counts[b]!;
    counts[b] = sum;
    sum += c;
  }
}

function scatter(src: RadixKeys, dst: RadixKeys, word: 'lo' | 'hi', shift: number, mask: number, offsets: Uint32Array): void {
  const digits = word === 'hi' ? src.hi : src.lo!;
  const n = digits.length;
  const sHi = src.hi;
  const dHi = dst.hi;
  const sP = src.payload;
  const dP = dst.payload;
  if (src.lo === null || dst.lo === null) {
    for (let i = 0; i < n; i++) {
      const k = sHi[i]!;
      const at = offsets[(k >>> shift) & mask]!++;
      dHi[at] = k;
      dP[at] = sP[i]!;
    }
    return;
  }
  const sLo = src.lo;
  const dLo = dst.lo;
  for (let i = 0; i < n; i++) {
    const at = offsets[(digits[i]! >>> shift) & mask]!++;
    dHi[at] = sHi[i]!;
    dLo[at] = sLo[i]!;
    dP[at] = sP[i]!;
  }
}

/**
 * Sorts `values[start, end)` ascending by their upper 16 bits (the lower 16 bits ride along, and may
 * end in any order among equal upper halves). Meant for one bucket of packed (key low half, payload)
 * values, small enough to stay in cache: two LSD passes of 8 bits, both counted in one read, each
 * skipped when all values share its digit; or an insertion sort for a handful of values. Passes
 * alternate between the segment and the start of `scratch`, which is reused for every segment and
 * so stays in cache; it holds at least end − start entries. `counts` holds at least 512 entries.
 * @returns whether the sorted segment ended in scratch[0, end − start) (after an odd number of
 *   passes) rather than in place.
 */
export function sortByUpperHalf(values: Uint32Array, scratch: Uint32Array, start: number, end: number, counts: Uint32Array): boolean {
  const m = end - start;
  if (m < 2) return false;
  if (m <= 32) {
    insertionSort(values, start, end);
    return false;
  }
  counts.fill(0, 0, 512);
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    counts[(v >>> 16) & 0xff]!++;
    counts[256 + (v >>> 24)]!++;
  }
  let inScratch = false;
  for (let pass = 0; pass < 2; pass++) {
    const offset = pass * 256;
    const shift = 16 + pass * 8;
    let sum = inScratch ? start : 0;
    let moves = false;
    for (let b = offset; b < offset + 256; b++) {
      const c = counts[b]!;
      if (c === m) break; // one digit value for all: this pass would not move anything
      moves ||= c > 0;
      counts[b] = sum;
      sum += c;
    }
    if (!moves) continue;
    const src = inScratch ? scratch : values;
    const dst = inScratch ? values : scratch;
    const from = inScratch ? 0 : start;
    const to = from + m;
    for (let i = from; i < to; i++) {
      const v = src[i]!;
      dst[counts[offset + ((v >>> shift) & 0xff)]!++] = v;
    }
    inScratch = !inScratch;
  }
  return inScratch;
}

function insertionSort(values: Uint32Array, start: number, end: number): void {
  for (let i = start + 1; i < end; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= start && values[j]! > v) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = v;
  }
}
