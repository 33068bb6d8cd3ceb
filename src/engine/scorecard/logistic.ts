/**
 * L2-regularised logistic regression fitted by Newton's method (IRLS). The intercept is not
 * penalised. Convergence is checked, never assumed: a fit that does not converge says so.
 */
export interface LogisticFit {
  intercept: number;
  coefficients: Float64Array;
  iterations: number;
  converged: boolean;
}

export interface LogisticOptions {
  l2: number;
  maxIterations: number;
  tolerance: number;
}

export const DEFAULT_LOGISTIC: LogisticOptions = { l2: 1e-3, maxIterations: 50, tolerance: 1e-8 };

/** `x` is row-major, `rows` x `columns`; `y` is 1 for the event (bad). */
export function fitLogistic(
  x: Float64Array,
  rows: number,
  columns: number,
  y: Uint8Array,
  options: LogisticOptions = DEFAULT_LOGISTIC,
): LogisticFit {
  if (x.length !== rows * columns || y.length !== rows) throw new RangeError("x and y sizes disagree");
  const p = columns + 1; // parameter 0 is the intercept
  const beta = new Float64Array(p);
  const hessian = new Float64Array(p * p);
  const gradient = new Float64Array(p);
  const lambda = options.l2 * rows;
  for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
    hessian.fill(0);
    gradient.fill(0);
    for (let r = 0; r < rows; r++) {
      const base = r * columns;
      let eta = beta[0] as number;
      for (let c = 0; c < columns; c++) eta += (beta[c + 1] as number) * (x[base + c] as number);
      const mu = 1 / (1 + Math.exp(-eta));
      const w = Math.max(mu * (1 - mu), 1e-10);
      const residual = (y[r] as number) - mu;
      for (let i = 0; i < p; i++) {
        const xi = i === 0 ? 1 : (x[base + i - 1] as number);
        gradient[i] = (gradient[i] as number) + xi * residual;
        for (let j = 0; j <= i; j++) {
          const xj = j === 0 ? 1 : (x[base + j - 1] as number);
          hessian[i * p + j] = (hessian[i * p + j] as number) + w * xi * xj;
        }
      }
    }
    for (let i = 1; i < p; i++) {
      hessian[i * p + i] = (hessian[i * p + i] as number) + lambda;
      gradient[i] = (gradient[i] as number) - lambda * (beta[i] as number);
    }
    for (let i = 0; i < p; i++)
      for (let j = i + 1; j < p; j++) hessian[i * p + j] = hessian[j * p + i] as number;
    const step = solveSymmetric(hessian, gradient, p);
    let largest = 0;
    for (let i = 0; i < p; i++) {
      beta[i] = (beta[i] as number) + (step[i] as number);
      largest = Math.max(largest, Math.abs(step[i] as number));
    }
    if (largest < options.tolerance) {
      return {
        intercept: beta[0] as number,
        coefficients: beta.slice(1),
        iterations: iteration,
        converged: true,
      };
    }
  }
  return {
    intercept: beta[0] as number,
    coefficients: beta.slice(1),
    iterations: options.maxIterations,
    converged: false,
  };
}

/** Solves A x = b for a symmetric positive definite A by Cholesky decomposition. */
export function solveSymmetric(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (s <= 0) throw new RangeError("matrix is not positive definite (collinear features?)");
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / (l[j * n + j] as number);
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (z[k] as number);
    z[i] = s / (l[i * n + i] as number);
  }
  const out = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (out[k] as number);
    out[i] = s / (l[i * n + i] as number);
  }
  return out;
}
