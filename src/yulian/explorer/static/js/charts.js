// Line charts of per-block series, drawn by the vendored uPlot. One function: a figure gets a
// caption (the chart's accessible name), a canvas sized to its container, and a text summary
// (last, min, max) for readers who do not see the chart.

import uPlot from "../vendor/uPlot.esm.js";
import { clear, h } from "./dom.js";
import { t } from "./i18n.js";

// heights and counts are whole numbers: no tick at 2.5
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

export function drawSeries(figure, title, unit, points) {
  clear(figure);
  const caption = h("figcaption", {}, title);
  const plot = h("div", { class: "plot", role: "img", "aria-label": title });
  const values = points.map(([, y]) => Number(y));
  const summary = values.length
    ? t("chart_summary", {
        last: values[values.length - 1],
        min: Math.min(...values),
        max: Math.max(...values),
        unit,
      })
    : t("chart_empty");
  figure.append(caption, plot, h("p", { class: "chart-summary" }, summary));
  if (!points.length) return;
  const width = Math.max(260, figure.clientWidth - 16);
  const opts = {
    width,
    height: 180,
    legend: { show: false },
    cursor: { show: true },
    scales: { x: { time: false } },
    axes: [
      { label: t("height"), incrs: WHOLE_STEPS },
      { label: unit, size: 50, incrs: WHOLE_STEPS },
    ],
    series: [{ label: t("height") }, { label: unit, stroke: "#b4232a", width: 2, points: { show: points.length < 40 } }],
  };
  new uPlot(opts, [points.map(([x]) => Number(x)), values], plot);
}
