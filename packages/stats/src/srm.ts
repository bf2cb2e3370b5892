import erfc from '@stdlib/math-base-special-erfc';

export interface Allocation {
  control: number;
  treatment: number;
}

export interface SrmResult {
  chiSquare: number;
  pValue: number;
  /** True when p < SRM_ALPHA: the observed split is implausible under the intended allocation. */
  failed: boolean;
}

export const SRM_ALPHA = 0.001;

/**
 * Sample-ratio-mismatch check: chi-square goodness of fit of (nControl, nTreatment) against the
 * intended allocation, 1 degree of freedom. Null when there is no traffic yet.
 */
export function srmTest(
  nControl: number,
  nTreatment: number,
  allocation: Allocation = { control: 0.5, treatment: 0.5 },
): SrmResult | null {
  const total = nControl + nTreatment;
  if (total === 0) return null;
  const weights = allocation.control + allocation.treatment;
  if (!(allocation.control > 0 && allocation.treatment > 0)) {
    throw new RangeError('srmTest: allocation fractions must both be > 0');
  }
  // Normalise so fractions like 3/1 work as well as 0.75/0.25.
  const eC = (total * allocation.control) / weights;
  const eT = (total * allocation.treatment) / weights;
  const chiSquare = (nControl - eC) ** 2 / eC + (nTreatment - eT) ** 2 / eT;
  // Upper tail of chi2(1) is P(|Z| > sqrt(X^2)) = erfc(sqrt(X^2 / 2)); exact even for tiny p,
  // where 1 - cdf would cancel to 0.
  const pValue = erfc(Math.sqrt(chiSquare / 2));
  return { chiSquare, pValue, failed: pValue < SRM_ALPHA };
}
