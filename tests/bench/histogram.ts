// Latency histograms for the load benchmark: HDR histograms in microseconds, merged across load
// generator processes through their compressed encoding.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** 1 µs to 10 minutes, 3 significant digits. */
export const latencyHistogram = (): Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

export function recordMs(histogram: Histogram, milliseconds: number): void {
  histogram.recordValue(Math.max(1, Math.round(milliseconds * 1000)));
}

export const encodeHistogram = (histogram: Histogram): string => hdr.encodeIntoCompressedBase64(histogram);

/** One histogram holding every encoded one. */
export function mergeHistograms(encoded: string[]): Histogram {
  const merged = latencyHistogram();
  for (const part of encoded) merged.add(hdr.decodeFromCompressedBase64(part));
  return merged;
}

/** Percentiles in milliseconds. */
export function summarize(histogram: Histogram): LatencySummary {
  const ms = (microseconds: number): number => Math.round(microseconds) / 1000;
  return {
    count: histogram.totalCount,
    p50: ms(histogram.getValueAtPercentile(50)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
  };
}
