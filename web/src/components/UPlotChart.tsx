import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/**
 * uPlot in a React component: the plot is rebuilt when its options or data change and resized with
 * its container. `options` must not carry width/height; the container decides them.
 */
export function UPlotChart({
  options,
  data,
  height = 260,
  testId,
}: {
  options: Omit<uPlot.Options, "width" | "height">;
  data: uPlot.AlignedData;
  height?: number;
  testId?: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = container.current;
    if (el === null) return;
    const plot = new uPlot({ ...options, width: Math.max(el.clientWidth, 200), height }, data, el);
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [options, data, height]);
  return <div ref={container} className="chart" data-testid={testId} />;
}
