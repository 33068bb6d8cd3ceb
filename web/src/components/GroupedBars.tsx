import { useMemo } from "react";
import type uPlot from "uplot";
import { UPlotChart } from "./UPlotChart.tsx";

/** Module-level so the default keeps its identity across renders (the chart rebuilds when it changes). */
const plain = (v: number) => String(v);

export interface BarSeries {
  label: string;
  colour: string;
  values: number[];
}

/**
 * Bars per category, one bar per series side by side (e.g. current vs candidate). uPlot has no
 * category axis, so categories sit at x = 0..n-1 and the axis prints their labels.
 */
export function GroupedBars({
  categories,
  series,
  yLabel,
  yValue = plain,
  testId,
}: {
  categories: string[];
  series: BarSeries[];
  yLabel: string;
  yValue?: (v: number) => string;
  testId: string;
}) {
  const { options, data } = useMemo(() => {
    const width = 0.8 / Math.max(series.length, 1);
    const options: Omit<uPlot.Options, "width" | "height"> = {
      series: [
        { label: "", value: (_u, i) => (i === null ? "" : (categories[i] ?? "")) },
        ...series.map((s, k) => ({
          label: s.label,
          stroke: s.colour,
          fill: s.colour,
          value: (_u: uPlot, v: number | null) => (v === null ? "" : yValue(v)),
          points: { show: false },
          // Each series is drawn as a bar shifted to its own slot inside the category.
          paths: offsetBars(width, k - (series.length - 1) / 2),
        })),
      ],
      scales: {
        x: { time: false, range: [-0.5, categories.length - 0.5] },
        // Bars start at zero, so zero is always on the scale.
        y: { range: (_u, min, max) => [Math.min(0, min), Math.max(0, max) * 1.1 || 1] },
      },
      axes: [
        {
          splits: () => categories.map((_, i) => i),
          values: (_u, splits) => splits.map((i) => categories[i] ?? ""),
          grid: { show: false },
        },
        { label: yLabel, values: (_u, splits) => splits.map(yValue), size: 100 },
      ],
      legend: { live: false },
    };
    const data: uPlot.AlignedData = [categories.map((_, i) => i), ...series.map((s) => s.values)];
    return { options, data };
  }, [categories, series, yLabel, yValue]);
  return <UPlotChart options={options} data={data} testId={testId} />;
}

/** Bars `width` wide (in categories), centred `slot` widths from the category's centre. */
function offsetBars(width: number, slot: number): uPlot.Series.PathBuilder {
  return (u, seriesIdx, idx0, idx1) => {
    const fill = new Path2D();
    const xs = u.data[0];
    const ys = u.data[seriesIdx] as (number | null)[];
    const zero = u.valToPos(0, "y", true);
    for (let i = idx0; i <= idx1; i++) {
      const y = ys[i];
      const x = xs[i];
      if (y === null || y === undefined || x === undefined) continue;
      const left = u.valToPos(x + (slot - 0.5) * width, "x", true);
      const right = u.valToPos(x + (slot + 0.5) * width, "x", true);
      const top = u.valToPos(y, "y", true);
      fill.rect(left, Math.min(top, zero), right - left, Math.abs(zero - top));
    }
    return { stroke: fill, fill };
  };
}
