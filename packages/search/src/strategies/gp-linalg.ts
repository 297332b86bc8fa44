/**
 * The little dense linear algebra a GP needs, over row-major Float64Arrays: Cholesky with
 * growing jitter, triangular solves and the inverse from the factor. n stays in the hundreds.
 */

/** Lower Cholesky factor of the n×n SPD matrix `a` into `l`; false if not positive definite. */
export function choleskyInto(a: Float64Array, n: number, l: Float64Array): boolean {
  l.fill(0);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j] as number;
      for (let k = 0; k < j; k++) s -= (l[ri + k] as number) * (l[rj + k] as number);
      if (i === j) {
        if (!(s > 0)) return false;
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / (l[rj + j] as number);
      }
    }
  }
  return true;
}

/**
 * Cholesky of a + jitter·I, raising the jitter tenfold until it factors (duplicate points make
 * the kernel matrix singular). Returns the factor and the jitter used.
 */
export function robustCholesky(a: Float64Array, n: number, jitter = 1e-8): { l: Float64Array; jitter: number } {
  const l = new Float64Array(n * n);
  const work = Float64Array.from(a);
  let added = 0;
  for (let attempt = 0; attempt < 12; attempt++) {
    if (choleskyInto(work, n, l)) return { l, jitter: added };
    const next = attempt === 0 ? jitter : added * 10;
    for (let i = 0; i < n; i++) work[i * n + i] = (a[i * n + i] as number) + next;
    added = next;
  }
  throw new Error('gp: kernel matrix is not positive definite even with jitter');
}

/** Solves L x = b (L lower triangular) in place on b. */
export function solveLower(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= (l[ri + k] as number) * (b[k] as number);
    b[i] = s / (l[ri + i] as number);
  }
  return b;
}

/** Solves Lᵀ x = b in place on b. */
export function solveUpper(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (b[k] as number);
    b[i] = s / (l[i * n + i] as number);
  }
  return b;
}

/** (L Lᵀ)⁻¹ from the factor. */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  // Invert L (lower), then K⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    li[i * n + i] = 1 / (l[i * n + i] as number);
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += (l[i * n + k] as number) * (li[k * n + j] as number);
      li[i * n + j] = -s / (l[i * n + i] as number);
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += (li[k * n + i] as number) * (li[k * n + j] as number);
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}
