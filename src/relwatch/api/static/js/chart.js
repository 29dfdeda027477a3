// The pair's series: tone with its 90% band, the 7-day mean, alert markers and volume bars
// (Apache ECharts, vendored). Days are chosen by click, or from the keyboard: focus the
// chart, move with ← → (Home/End), Enter opens the day's evidence.
import { t } from "./i18n.js";
import { int, isNum, parseDay, percent, signed, toneColour } from "./util.js";

const COLOURS = {
  tone: "#1f4e79",
  band: "rgba(31, 78, 121, 0.18)",
  smooth: "#7a5195",
  raw: "#8a8a8a",
  volume: "#9aa5b1",
  volumeSelected: "#1f4e79",
  conflict: toneColour(-0.6),
  cooperation: toneColour(0.6),
};

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class SeriesChart {
  constructor(el, { onSelect, locale = "EN" }) {
    this.el = el;
    this.onSelect = onSelect;
    this.points = [];
    this.cursor = -1;
    this.selected = null;
    this.hidden = { raw: true };
    this._init(locale);
    el.addEventListener("keydown", (e) => this._key(e));
    new ResizeObserver(() => {
      this.chart.resize();
      // The legend wraps on narrow screens: redraw with room for it when that changes.
      if (this._args && this._narrow() !== this.narrow) this.render(...this._args);
    }).observe(el);
  }

  _init(locale) {
    this.locale = locale;
    this.chart = window.echarts.init(this.el, null, { renderer: "canvas", locale });
    this.chart.getZr().on("click", (e) => this._click(e));
    this.chart.on("legendselectchanged", (e) => {
      for (const [key, name] of Object.entries(this.names || {}))
        if (name in e.selected) this.hidden[key] = !e.selected[name];
    });
  }

  /** Month and day names on the time axis follow the page's language ("EN" or "KO"). */
  setLocale(locale) {
    if (locale === this.locale) return;
    this.chart.dispose();
    this._init(locale);
  }

  _nearest(ms) {
    let best = -1;
    let gap = Infinity;
    this.points.forEach((p, i) => {
      const d = Math.abs(p.ms - ms);
      if (d < gap) {
        gap = d;
        best = i;
      }
    });
    return best;
  }

  _click(e) {
    const at = [e.offsetX, e.offsetY];
    if (!this.points.length) return;
    for (const gridIndex of [0, 1]) {
      if (!this.chart.containPixel({ gridIndex }, at)) continue;
      const [x] = this.chart.convertFromPixel({ gridIndex }, at);
      const i = this._nearest(x);
      if (i >= 0) {
        this.cursor = i;
        this.onSelect(this.points[i].date);
      }
      return;
    }
  }

  _key(e) {
    const n = this.points.length;
    if (!n) return;
    let i = this.cursor >= 0 ? this.cursor : n - 1;
    if (e.key === "ArrowLeft") i = Math.max(0, i - 1);
    else if (e.key === "ArrowRight") i = Math.min(n - 1, i + 1);
    else if (e.key === "Home") i = 0;
    else if (e.key === "End") i = n - 1;
    else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.onSelect(this.points[i].date);
      return;
    } else return;
    e.preventDefault();
    this.cursor = i;
    this.chart.dispatchAction({ type: "showTip", seriesId: "tone", dataIndex: i });
    this._highlightBars();
  }

  _narrow() {
    return this.el.clientWidth > 0 && this.el.clientWidth < 640;
  }

  /** Draw ``points`` (API rows) with ``alerts`` ({date, direction, size}) and the chosen day. */
  render(points, alerts, { selected, grain, pairLabel }) {
    this._args = [points, alerts, { selected, grain, pairLabel }];
    this.narrow = this._narrow();
    const top = this.narrow ? 64 : 36;
    this.points = points.map((p) => ({ ...p, ms: parseDay(p.date) }));
    this.selected = selected;
    this.grain = grain;
    this.cursor = this.points.findIndex((p) => p.date === selected);
    const names = {
      band: t("chart.band"),
      tone: t("chart.tone"),
      smooth: t("chart.smooth"),
      raw: t("chart.raw"),
      alerts: t("chart.alerts"),
      volume: t("chart.volume"),
    };
    this.names = names;
    const first = this.points[0]?.date;
    const last = this.points.at(-1)?.date;
    this.el.setAttribute(
      "aria-label",
      t("chart.aria", { pair: pairLabel, grain: t(`grain.${grain}`), n: points.length, first, last }),
    );
    const lows = this.points.map((p) => p.ci_low).filter(isNum);
    const highs = this.points.map((p) => p.ci_high).filter(isNum);
    const lo = Math.min(0, ...lows);
    const hi = Math.max(0, ...highs);
    const step = [0.05, 0.1, 0.2, 0.25, 0.5].find((x) => (hi - lo) / x <= 5) || 0.5;
    const ymin = Math.max(-1, Math.floor(lo / step - 1e-9) * step);
    const ymax = Math.min(1, Math.ceil(hi / step + 1e-9) * step);
    const byDate = new Map(this.points.map((p) => [p.date, p]));
    const alertData = alerts
      .map((a) => {
        const p = byDate.get(a.date);
        if (!p) return null;
        const up = a.direction === "to_cooperation";
        return {
          value: [p.ms, p.tone],
          symbol: "triangle",
          symbolRotate: up ? 0 : 180,
          itemStyle: { color: up ? COLOURS.cooperation : COLOURS.conflict, borderColor: "#fff" },
          alert: a,
        };
      })
      .filter(Boolean);
    const selectedLegend = {};
    for (const [key, name] of Object.entries(names)) selectedLegend[name] = !this.hidden[key];
    const tone = this.points.map((p) => [p.ms, p.tone]);
    const option = {
      useUTC: true,
      animation: false,
      aria: { enabled: true },
      legend: {
        top: 0,
        left: 0,
        selected: selectedLegend,
        data: [names.tone, names.band, names.smooth, names.raw, names.alerts, names.volume],
        textStyle: { fontSize: 12 },
      },
      grid: [
        { left: 48, right: 16, top, bottom: "34%" },
        { left: 48, right: 16, top: "71%", bottom: 56 },
      ],
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "line", link: [{ xAxisIndex: "all" }] },
        confine: true,
        formatter: (items) => this._tooltip(items),
      },
      axisPointer: { link: [{ xAxisIndex: "all" }] },
      xAxis: [
        { type: "time", gridIndex: 0, axisLabel: { show: false }, axisTick: { show: false } },
        { type: "time", gridIndex: 1, axisLabel: { hideOverlap: true } },
      ],
      yAxis: [
        {
          type: "value",
          gridIndex: 0,
          min: ymin,
          max: ymax,
          interval: step,
          axisLabel: { formatter: (v) => signed(v, 1) },
        },
        {
          type: "value",
          gridIndex: 1,
          splitNumber: 2,
          axisLabel: { formatter: (v) => int(v) },
        },
      ],
      dataZoom: [
        { type: "inside", xAxisIndex: [0, 1] },
        { type: "slider", xAxisIndex: [0, 1], bottom: 8, height: 22, labelFormatter: "" },
      ],
      series: [
        {
          id: "band-low",
          type: "line",
          stack: "ci",
          stackStrategy: "all",
          data: this.points.map((p) => [p.ms, p.ci_low]),
          lineStyle: { opacity: 0 },
          symbol: "none",
          silent: true,
          tooltip: { show: false },
          z: 1,
        },
        {
          id: "band",
          name: names.band,
          type: "line",
          stack: "ci",
          stackStrategy: "all",
          data: this.points.map((p) => [p.ms, p.ci_high - p.ci_low]),
          lineStyle: { opacity: 0 },
          areaStyle: { color: COLOURS.band },
          itemStyle: { color: COLOURS.band },
          symbol: "none",
          silent: true,
          z: 1,
        },
        {
          id: "tone",
          name: names.tone,
          type: "line",
          data: tone,
          itemStyle: { color: COLOURS.tone },
          lineStyle: { width: 2 },
          symbol: "circle",
          symbolSize: this.points.length > 120 ? 3 : 5,
          showSymbol: true,
          z: 3,
          markArea: {
            silent: true,
            data: [
              [{ yAxis: 0, itemStyle: { color: "rgba(26,133,72,0.05)" } }, { yAxis: 1 }],
              [{ yAxis: -1, itemStyle: { color: "rgba(192,39,45,0.05)" } }, { yAxis: 0 }],
            ],
          },
          markLine: this._markLine(),
        },
        {
          id: "smooth",
          name: names.smooth,
          type: "line",
          data: this.points.map((p) => [p.ms, isNum(p.tone_smooth7) ? p.tone_smooth7 : null]),
          itemStyle: { color: COLOURS.smooth },
          lineStyle: { type: "dashed", width: 1.5 },
          symbol: "none",
          connectNulls: false,
          z: 2,
        },
        {
          id: "raw",
          name: names.raw,
          type: "scatter",
          data: this.points.map((p) => [p.ms, p.tone_raw]),
          itemStyle: { color: COLOURS.raw, opacity: 0.6 },
          symbolSize: 4,
          z: 2,
        },
        {
          id: "alerts",
          name: names.alerts,
          type: "scatter",
          data: alertData,
          symbolSize: 14,
          itemStyle: { color: COLOURS.conflict },
          z: 5,
        },
        {
          id: "volume",
          name: names.volume,
          type: "bar",
          xAxisIndex: 1,
          yAxisIndex: 1,
          data: this._bars(),
          itemStyle: { color: COLOURS.volume },
          barMaxWidth: 14,
        },
      ],
    };
    this.chart.setOption(option, { notMerge: true });
  }

  _markLine() {
    const data = [{ yAxis: 0, lineStyle: { color: "#555", type: "solid", width: 1 }, label: { show: false } }];
    if (this.selected) {
      data.push({
        xAxis: parseDay(this.selected),
        lineStyle: { color: "#d08c00", type: "solid", width: 2 },
        label: { show: false },
      });
    }
    return { silent: true, symbol: "none", animation: false, data };
  }

  _bars() {
    return this.points.map((p, i) => {
      const on = p.date === this.selected || i === this.cursor;
      return {
        value: [p.ms, p.volume],
        itemStyle: { color: on ? COLOURS.volumeSelected : COLOURS.volume },
      };
    });
  }

  _highlightBars() {
    this.chart.setOption({ series: [{ id: "volume", data: this._bars() }] });
  }

  /** Mark ``date`` as the chosen day without redrawing (zoom and legend stay). */
  select(date) {
    this.selected = date;
    if (this._args) this._args[2].selected = date;
    const i = this.points.findIndex((p) => p.date === date);
    if (i >= 0) this.cursor = i;
    this.chart.setOption({
      series: [
        { id: "tone", markLine: this._markLine() },
        { id: "volume", data: this._bars() },
      ],
    });
  }

  /** The points inside the zoom window: what is on screen, for the CSV download. */
  visiblePoints() {
    const dz = this.chart.getOption()?.dataZoom?.[0];
    if (!dz || !isNum(dz.startValue) || !isNum(dz.endValue)) return this.points;
    return this.points.filter((p) => p.ms >= dz.startValue && p.ms <= dz.endValue);
  }

  _tooltip(items) {
    const list = Array.isArray(items) ? items : [items];
    const item = list.find((x) => x && x.seriesId !== "alerts") || list[0];
    const p = item && this.points[item.dataIndex];
    if (!p) return "";
    const row = (k, v) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`;
    return (
      `<strong>${esc(p.date)}</strong><table class="tip">` +
      row(t("chart.tone"), signed(p.tone)) +
      row(t("chart.band"), `${signed(p.ci_low)} … ${signed(p.ci_high)}`) +
      (isNum(p.tone_smooth7) ? row(t("chart.smooth"), signed(p.tone_smooth7)) : "") +
      row(t("chart.raw"), signed(p.tone_raw)) +
      row(t("table.volume"), int(p.volume)) +
      row(t("table.articles"), int(p.articles)) +
      row(t("table.attention"), percent(p.attention)) +
      row(t("table.counts"), `${int(p.n_conflict)} / ${int(p.n_neutral)} / ${int(p.n_cooperation)}`) +
      `</table>`
    );
  }

  clear() {
    this.points = [];
    this._args = null;
    this.chart.clear();
  }

  resize() {
    this.chart.resize();
  }
}
