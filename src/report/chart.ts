/**
 * ChartSpec: one plot of a report as plain data — a shared x axis and its series — which the
 * page script (page.js) hands to uPlot unchanged. Builders here only align numbers; they know
 * nothing about HTML. Categorical axes (labels, categories, swept values) use x = 0, 1, 2, …
 * with `xLabels`.
 */

export type Series = {
  label: string;
  values: (number | null)[];
  /** A shaded band from `lo` to `hi` (e.g. mean ± std). */
  lo?: (number | null)[];
  hi?: (number | null)[];
  /** Draw points only, no line (e.g. the selected step). */
  isPoints?: boolean;
};

export type ChartSpec = {
  id: string;
  title: string;
  /** Charts of one group are shown under one heading. */
  group: string;
  kind: "line" | "bars";
  x: number[];
  xTitle: string;
  xLabels?: string[];
  series: Series[];
  /** Fixed y range (rates are [0, 1]). */
  yRange?: [number, number];
};

/** One value per step of a run's log, keyed by x. */
export type Points = ReadonlyMap<number, number | null>;

/** The sorted union of the keys of `points`. */
export function unionX(points: readonly Points[]): number[] {
  return [...new Set(points.flatMap((p) => [...p.keys()]))].sort((a, b) => a - b);
}

/** `points` laid on `x`: null where a run has no value. */
export function alignTo(x: readonly number[], points: Points): (number | null)[] {
  return x.map((v) => points.get(v) ?? null);
}

/** A URL- and id-safe slug of `text`. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, v) => a + v, 0) / xs.length;

/** Population standard deviation (0 for a single value). */
export function std(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((v) => (v - m) ** 2)));
}
