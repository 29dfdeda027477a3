// The dashboard: state lives in the URL (pair, grain, view, publisher country, dates,
// chosen day, language), so a reload or a shared link shows the same screen.
import { api } from "./api.js";
import { SeriesChart } from "./chart.js";
import { EVIDENCE_COLUMNS, evidenceRows, markKey, renderEvidence } from "./evidence.js";
import { applyStatic, country, dateTime, LANGS, lang, setLang, t } from "./i18n.js";
import { FOCUS, indexCells, renderMatrix } from "./matrix.js";
import {
  download,
  h,
  int,
  isDay,
  isNum,
  percent,
  periodEnd,
  periodStart,
  signed,
  toCSV,
  toneColour,
  toneInk,
} from "./util.js";

const GRAINS = ["day", "week", "month"];
const SERIES_COLUMNS = [
  "date",
  "source",
  "target",
  "directed",
  "seen_from",
  "grain",
  "tone",
  "tone_raw",
  "ci_low",
  "ci_high",
  "volume",
  "articles",
  "sources",
  "attention",
  "n_conflict",
  "n_neutral",
  "n_cooperation",
  "tone_smooth7",
  "model",
];
const $ = (id) => document.getElementById(id);

const state = {
  pair: null, // [A, B] as chosen (order matters for the directed view)
  grain: "day",
  directed: false,
  seen: "",
  from: "",
  to: "",
  day: "",
  lang: "en",
};

const data = {
  status: null,
  models: null,
  matrix: null,
  series: null,
  pairAlerts: [],
  alerts: [],
  evidence: [],
};

const inflight = {};

/** Run ``fn(signal)``, cancelling the previous request on the same channel. */
async function latest(channel, fn) {
  inflight[channel]?.abort();
  const ctl = new AbortController();
  inflight[channel] = ctl;
  try {
    return await fn(ctl.signal);
  } finally {
    if (inflight[channel] === ctl) delete inflight[channel];
  }
}

// ---------------------------------------------------------------- URL state

function code(s) {
  return typeof s === "string" && /^[A-Za-z]{3}$/.test(s) ? s.toUpperCase() : "";
}

function readUrl() {
  const q = new URLSearchParams(window.location.search || window.location.hash.slice(1));
  const m = /^([A-Za-z]{3})[-/:]([A-Za-z]{3})$/.exec(q.get("pair") || "");
  state.pair = m && m[1].toUpperCase() !== m[2].toUpperCase() ? [m[1].toUpperCase(), m[2].toUpperCase()] : null;
  state.grain = GRAINS.includes(q.get("grain")) ? q.get("grain") : "day";
  state.directed = ["1", "true", "yes"].includes((q.get("directed") || "").toLowerCase());
  state.seen = code(q.get("seen_from") || "");
  state.from = isDay(q.get("from")) ? q.get("from") : "";
  state.to = isDay(q.get("to")) ? q.get("to") : "";
  state.day = isDay(q.get("day")) ? q.get("day") : "";
  let l = q.get("lang");
  if (!LANGS.includes(l)) {
    try {
      l = localStorage.getItem("relwatch.lang");
    } catch {
      l = null;
    }
  }
  if (!LANGS.includes(l)) l = (navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en";
  state.lang = l;
}

function writeUrl(push = false) {
  const q = new URLSearchParams();
  if (state.pair) q.set("pair", state.pair.join("-"));
  q.set("grain", state.grain);
  if (state.directed) q.set("directed", "1");
  if (state.seen) q.set("seen_from", state.seen);
  if (state.from) q.set("from", state.from);
  if (state.to) q.set("to", state.to);
  if (state.day) q.set("day", state.day);
  q.set("lang", state.lang);
  const url = `${window.location.pathname}?${q.toString()}`;
  if (url === `${window.location.pathname}${window.location.search}`) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

// ---------------------------------------------------------------- errors

function showError(err) {
  if (err?.name === "AbortError") return;
  console.warn("relwatch:", err);
  $("error-text").textContent = err?.message || String(err);
  $("error").hidden = false;
}

function panelMessage(el, err) {
  const tag = el.tagName === "OL" || el.tagName === "UL" ? "li" : "p";
  el.replaceChildren(h(tag, { class: "panel-error", role: "status" }, err?.message || String(err)));
}

// ---------------------------------------------------------------- header

function modelText(m) {
  if (!m) return "—";
  if (typeof m === "string") return m;
  return `${m.name ?? "?"}@${m.version ?? "?"}`;
}

function renderMeta() {
  const s = data.status;
  const model = s?.model ?? data.series?.model ?? data.matrix?.model;
  let text = modelText(model);
  const loaded = data.models?.loaded;
  if (loaded && model && modelText(loaded) !== modelText(model)) text += ` (${t("meta.serving", { model: modelText(loaded) })})`;
  $("meta-model").textContent = text;
  $("meta-updated").textContent = dateTime(s?.updated_at ?? data.matrix?.updated_at);
  $("meta-range").textContent = s?.first_day ? `${s.first_day} – ${s.last_day}` : "—";
  for (const id of ["from", "to"]) {
    if (s?.first_day) $(id).min = s.first_day;
    if (s?.last_day) $(id).max = s.last_day;
  }
}

// ---------------------------------------------------------------- matrix

function pairLabel(pair = state.pair, directed = state.directed) {
  if (!pair) return "—";
  const [a, b] = pair;
  return `${country(a)} ${directed ? "→" : "–"} ${country(b)}`;
}

function renderMatrixPanel() {
  const root = $("matrix");
  root.setAttribute("aria-busy", "false");
  if (!data.matrix) return;
  renderMatrix(root, data.matrix, {
    focus: FOCUS,
    selected: state.pair,
    onOpen: (a, b) => openPair([a, b], { focusChart: false }),
  });
  const m = data.matrix;
  $("matrix-asof").textContent = m.day ? t("matrix.asof", { day: m.day, window: m.window ?? 30 }) : "";
}

async function loadMatrix() {
  const matrix = await latest("matrix", (signal) =>
    api.matrix({ countries: FOCUS.join(","), window: 30, extra: "true", day: state.to || undefined }, { signal }),
  );
  matrix.window ??= 30;
  data.matrix = matrix;
  renderMatrixPanel();
  renderPickers();
}

// ---------------------------------------------------------------- alerts

function alertItem(a) {
  const up = a.direction === "to_cooperation";
  const pair = [a.source, a.target];
  const tone = up ? 0.6 : -0.6;
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: "alert",
        "aria-label": `${t("alerts.open", { pair: pairLabel(pair, a.directed), day: a.day })}: ${t(`alerts.${a.direction}`)} ${signed(a.size)}`,
        onclick: () => openAlert(a),
      },
      h("span", { class: "alert-day" }, a.day),
      h(
        "span",
        { class: "alert-dir", style: `background:${toneColour(tone)};color:${toneInk(tone)}` },
        `${up ? "▲" : "▼"} ${signed(a.size)}`,
      ),
      h("span", { class: "alert-pair" }, pairLabel(pair, a.directed)),
      h(
        "span",
        { class: "alert-detail muted" },
        `${t(`alerts.${a.direction}`)} · ${t("alerts.detail", {
          value: signed(a.value),
          baseline: signed(a.baseline),
          volume: int(a.volume),
        })}`,
      ),
    ),
  );
}

function renderAlerts() {
  const list = $("alerts");
  list.setAttribute("aria-busy", "false");
  if (!data.alerts.length) {
    list.replaceChildren(h("li", { class: "muted" }, t("alerts.none")));
    return;
  }
  list.replaceChildren(...data.alerts.map(alertItem));
}

async function loadAlerts() {
  const body = await api.alerts({ limit: 15 });
  data.alerts = body.alerts || [];
  renderAlerts();
}

function openAlert(a) {
  state.pair = [a.source, a.target];
  state.directed = Boolean(a.directed);
  state.grain = "day";
  state.seen = "";
  if ((state.from && a.day < state.from) || (state.to && a.day > state.to)) {
    state.from = "";
    state.to = "";
  }
  state.day = a.day;
  writeUrl(true);
  syncControls();
  renderMatrixPanel();
  loadPair({ evidence: true });
  $("chart").focus({ preventScroll: true });
  $("pair-panel").scrollIntoView({ block: "start", behavior: "smooth" });
}

// ---------------------------------------------------------------- controls

function option(value, label, selected) {
  return h("option", { value, selected: selected || null }, label);
}

function renderPickers() {
  const known = new Set(FOCUS);
  for (const c of data.matrix?.cells || []) {
    known.add(c.source);
    known.add(c.target);
  }
  if (state.pair) state.pair.forEach((c) => known.add(c));
  const others = [...known].filter((c) => !FOCUS.includes(c)).sort((x, y) => country(x).localeCompare(country(y)));
  for (const [id, current] of [
    ["pick-a", state.pair?.[0]],
    ["pick-b", state.pair?.[1]],
  ]) {
    const sel = $(id);
    sel.replaceChildren(
      h("optgroup", { label: "★" }, FOCUS.map((c) => option(c, `${country(c)} (${c})`, c === current))),
      others.length
        ? h("optgroup", { label: "…" }, others.map((c) => option(c, `${country(c)} (${c})`, c === current)))
        : "",
    );
    if (current) sel.value = current;
  }
  const seen = $("seen");
  const choices = [...new Set([...(state.pair || []), ...FOCUS])];
  if (state.seen && !choices.includes(state.seen)) choices.push(state.seen);
  seen.replaceChildren(
    option("", t("seen.all"), !state.seen),
    ...choices.map((c) => option(c, `${country(c)} (${c})`, c === state.seen)),
  );
  seen.value = state.seen;
}

function syncControls() {
  for (const r of document.querySelectorAll('input[name="grain"]')) r.checked = r.value === state.grain;
  for (const r of document.querySelectorAll('input[name="directed"]'))
    r.checked = r.value === (state.directed ? "1" : "0");
  $("from").value = state.from;
  $("to").value = state.to;
  $("pair-name").textContent = pairLabel();
  renderPickers();
}

function openPair(pair, { focusChart = true } = {}) {
  if (!pair || pair[0] === pair[1]) return;
  state.pair = pair;
  state.day = "";
  state.seen = state.seen && pair.includes(state.seen) ? state.seen : "";
  writeUrl(true);
  syncControls();
  renderMatrixPanel();
  clearEvidence();
  loadPair({ evidence: false });
  if (focusChart) $("chart").focus({ preventScroll: true });
}

function bindControls() {
  $("controls").addEventListener("submit", (e) => e.preventDefault());
  for (const r of document.querySelectorAll('input[name="grain"]')) {
    r.addEventListener("change", () => {
      const day = state.day;
      state.grain = r.value;
      state.day = day ? periodStart(day, state.grain) : "";
      writeUrl();
      loadPair({ evidence: Boolean(state.day) });
    });
  }
  for (const r of document.querySelectorAll('input[name="directed"]')) {
    r.addEventListener("change", () => {
      state.directed = r.value === "1";
      writeUrl();
      $("pair-name").textContent = pairLabel();
      loadPair({ evidence: Boolean(state.day) });
    });
  }
  const pick = () => {
    const a = $("pick-a").value;
    const b = $("pick-b").value;
    if (a && b && a !== b) openPair([a, b], { focusChart: false });
  };
  $("pick-a").addEventListener("change", pick);
  $("pick-b").addEventListener("change", pick);
  $("swap").addEventListener("click", () => {
    if (state.pair) openPair([state.pair[1], state.pair[0]], { focusChart: false });
  });
  $("seen").addEventListener("change", () => {
    state.seen = $("seen").value;
    writeUrl();
    loadPair({ evidence: Boolean(state.day) });
  });
  const range = () => {
    const from = $("from").value;
    const to = $("to").value;
    if (from && to && from > to) {
      showError(new Error(`${t("range.from")} ${from} > ${t("range.to")} ${to}`));
      return;
    }
    state.from = from;
    state.to = to;
    writeUrl();
    loadPair({ evidence: Boolean(state.day) });
    loadMatrix().catch(showError);
  };
  $("from").addEventListener("change", range);
  $("to").addEventListener("change", range);
  $("range-reset").addEventListener("click", () => {
    state.from = "";
    state.to = "";
    syncControls();
    writeUrl();
    loadPair({ evidence: Boolean(state.day) });
    loadMatrix().catch(showError);
  });
  $("series-csv").addEventListener("click", downloadSeries);
  $("matrix-csv").addEventListener("click", downloadMatrix);
  $("evidence-csv").addEventListener("click", downloadEvidence);
  $("lang-toggle").addEventListener("click", () => switchLang(state.lang === "en" ? "ko" : "en"));
  $("error-close").addEventListener("click", () => {
    $("error").hidden = true;
  });
  window.addEventListener("popstate", () => {
    const before = JSON.stringify([state.pair, state.grain, state.directed, state.seen, state.from, state.to]);
    const lang0 = state.lang;
    readUrl();
    if (state.lang !== lang0) switchLang(state.lang, { write: false });
    syncControls();
    renderMatrixPanel();
    const after = JSON.stringify([state.pair, state.grain, state.directed, state.seen, state.from, state.to]);
    if (before !== after) loadPair({ evidence: Boolean(state.day) });
    else if (state.day) selectDay(state.day, { push: false });
  });
}

// ---------------------------------------------------------------- series

let chart; // the SeriesChart, once the chart library has loaded
let chartReady = Promise.resolve();

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`${src}: the chart library did not load`));
    document.head.append(script);
  });
}

/** The chart library (and its Korean locale) loads beside the first API requests. */
async function loadChartLibrary() {
  if (!window.echarts) await loadScript("static/vendor/echarts/echarts.common.min.js");
  await loadScript("static/vendor/echarts/langKO.js");
}

const chartLocale = () => (lang() === "ko" ? "KO" : "EN");

function seriesParams() {
  return {
    pair: state.pair.join("-"),
    grain: state.grain,
    directed: state.directed ? "true" : "false",
    seen_from: state.seen || undefined,
    from: state.from || undefined,
    to: state.to || undefined,
  };
}

function alertsOnSeries() {
  const [a, b] = state.pair;
  const keep = data.pairAlerts.filter((x) => {
    if (Boolean(x.directed) !== state.directed) return false;
    return !state.directed || (x.source === a && x.target === b);
  });
  return keep.map((x) => ({ ...x, date: periodStart(x.day, state.grain) }));
}

function renderPoints() {
  const body = $("points").tBodies[0];
  const points = data.series?.points || [];
  const rows = points
    .slice()
    .reverse()
    .slice(0, 1500)
    .map((p) =>
      h(
        "tr",
        { class: p.date === state.day ? "is-selected" : null, "aria-selected": p.date === state.day ? "true" : null },
        h(
          "th",
          { scope: "row" },
          h(
            "button",
            {
              type: "button",
              class: "day",
              dataset: { date: p.date },
              "aria-label": t("table.open", { date: p.date }),
              onclick: () => selectDay(p.date),
            },
            p.date,
          ),
        ),
        h(
          "td",
          { class: "num" },
          h("span", { class: "tone-chip", style: `background:${toneColour(p.tone)};color:${toneInk(p.tone)}` }, signed(p.tone)),
        ),
        h("td", { class: "num" }, `${signed(p.ci_low)} … ${signed(p.ci_high)}`),
        h("td", { class: "num" }, int(p.volume)),
        h("td", { class: "num" }, int(p.articles)),
        h("td", { class: "num" }, percent(p.attention)),
        h("td", { class: "num" }, `${int(p.n_conflict)} / ${int(p.n_neutral)} / ${int(p.n_cooperation)}`),
      ),
    );
  body.replaceChildren(...rows);
}

function renderSeries() {
  const points = data.series?.points || [];
  const empty = $("chart-empty");
  $("pair-name").textContent = pairLabel();
  $("pair-model").textContent = data.series?.model ? `${t("meta.model")} ${modelText(data.series.model)}` : "";
  if (!points.length) {
    chart.clear();
    $("chart").hidden = true;
    empty.textContent = t("chart.empty");
    empty.hidden = false;
  } else {
    $("chart").hidden = false;
    empty.hidden = true;
    chart.render(points, alertsOnSeries(), { selected: state.day, grain: state.grain, pairLabel: pairLabel() });
  }
  renderPoints();
}

async function loadPair({ evidence = false } = {}) {
  if (!state.pair) return;
  $("chart").setAttribute("aria-busy", "true");
  // The day's sentences do not depend on the series: both requests go out together.
  const evidenceP = evidence && state.day ? loadEvidence() : null;
  try {
    const [series, alerts] = await latest("series", (signal) =>
      Promise.all([
        api.series(seriesParams(), { signal }),
        api.alerts({ pair: state.pair.join("-"), limit: 500 }, { signal }).catch((e) => {
          if (e.name === "AbortError") throw e;
          return { alerts: [] };
        }),
      ]),
    );
    await chartReady;
    data.series = series;
    data.pairAlerts = alerts.alerts || [];
    $("chart").setAttribute("aria-busy", "false");
    if (state.day && !(series.points || []).some((p) => p.date === state.day)) {
      state.day = "";
      writeUrl();
      clearEvidence();
    }
    renderSeries();
    renderMeta();
    if (evidenceP) await evidenceP;
  } catch (err) {
    if (err.name === "AbortError") return;
    $("chart").setAttribute("aria-busy", "false");
    data.series = null;
    chart?.clear();
    $("chart").hidden = true;
    const empty = $("chart-empty");
    empty.textContent = err.message;
    empty.hidden = false;
    renderPoints();
    showError(err);
  }
}

function downloadSeries() {
  if (!data.series) return;
  const shown = chart ? chart.visiblePoints() : data.series.points || [];
  const s = data.series;
  const rows = shown.map((p) => ({
    ...p,
    source: s.source ?? state.pair[0],
    target: s.target ?? state.pair[1],
    directed: state.directed,
    seen_from: state.seen,
    grain: state.grain,
    model: modelText(s.model),
  }));
  const range = rows.length ? `_${rows[0].date}_${rows.at(-1).date}` : "";
  const view = state.directed ? "directed" : "pair";
  download(`relwatch_${state.pair.join("-")}_${state.grain}_${view}${range}.csv`, toCSV(rows, SERIES_COLUMNS));
}

function downloadMatrix() {
  if (!data.matrix) return;
  const rows = (data.matrix.cells || []).map((c) => ({ ...c, day: data.matrix.day, model: modelText(data.matrix.model) }));
  download(
    `relwatch_matrix_${data.matrix.day || "latest"}.csv`,
    toCSV(rows, ["day", "source", "target", "tone", "shift", "volume", "model"]),
  );
}

// ---------------------------------------------------------------- evidence

function clearEvidence() {
  inflight.evidence?.abort();
  data.evidence = [];
  $("evidence").replaceChildren();
  $("evidence-for").textContent = t("evidence.hint");
  $("evidence-csv").hidden = true;
}

/** [source, target] of the view: as chosen when directed, in code order otherwise. */
function viewPair() {
  const [a, b] = state.pair;
  return state.directed || a < b ? [a, b] : [b, a];
}

function evidenceHeading() {
  $("evidence-for").replaceChildren(
    t("evidence.for", { pair: pairLabel(), range: evidenceRange() }),
    " ",
    markKey(viewPair()),
  );
}

function evidenceRange() {
  const end = periodEnd(state.day, state.grain);
  return end === state.day ? state.day : `${state.day} – ${end}`;
}

async function loadEvidence() {
  const list = $("evidence");
  const pair = state.pair;
  const view = viewPair();
  evidenceHeading();
  list.setAttribute("aria-busy", "true");
  list.replaceChildren(h("li", { class: "muted" }, t("common.loading")));
  try {
    const end = periodEnd(state.day, state.grain);
    const body = await latest("evidence", (signal) =>
      api.evidence(
        {
          pair: pair.join("-"),
          date: state.day,
          to: end !== state.day ? end : undefined,
          directed: state.directed ? "true" : "false",
          limit: 20,
        },
        { signal },
      ),
    );
    data.evidence = body.items || [];
    renderEvidence(list, data.evidence, view);
    $("evidence-csv").hidden = !data.evidence.length;
  } catch (err) {
    if (err.name === "AbortError") return;
    data.evidence = [];
    panelMessage(list, err);
    $("evidence-csv").hidden = true;
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

function selectDay(date, { push = true } = {}) {
  state.day = date;
  writeUrl(push);
  chart?.select(date);
  for (const tr of $("points").tBodies[0].rows) {
    const on = tr.querySelector("button.day")?.dataset.date === date;
    tr.classList.toggle("is-selected", on);
    if (on) tr.setAttribute("aria-selected", "true");
    else tr.removeAttribute("aria-selected");
  }
  loadEvidence();
}

function downloadEvidence() {
  if (!data.evidence.length) return;
  download(
    `relwatch_evidence_${state.pair.join("-")}_${state.day}_${state.grain}.csv`,
    toCSV(evidenceRows(data.evidence), EVIDENCE_COLUMNS),
  );
}

// ---------------------------------------------------------------- language

function switchLang(next, { write = true } = {}) {
  state.lang = setLang(next);
  try {
    localStorage.setItem("relwatch.lang", state.lang);
  } catch {
    /* private mode: the URL still carries it */
  }
  applyStatic();
  $("lang-toggle").setAttribute("lang", state.lang === "en" ? "ko" : "en");
  if (write) writeUrl();
  renderMeta();
  renderMatrixPanel();
  renderPickers();
  renderAlerts();
  $("pair-name").textContent = pairLabel();
  chart?.setLocale(chartLocale());
  if (data.series) renderSeries();
  if (state.day && data.evidence.length) {
    evidenceHeading();
    renderEvidence($("evidence"), data.evidence, viewPair());
  } else if (!state.day) clearEvidence();
}

// ---------------------------------------------------------------- start

function defaultPair() {
  const cells = [...indexCells(data.matrix?.cells).values()].filter(
    (c) => isNum(c.tone) && FOCUS.includes(c.source) && FOCUS.includes(c.target),
  );
  cells.sort((x, y) => (y.volume || 0) - (x.volume || 0));
  const best = cells[0] || (data.matrix?.cells || []).find((c) => isNum(c.tone));
  return best ? [best.source, best.target] : ["KOR", "JPN"];
}

async function start() {
  readUrl();
  setLang(state.lang);
  applyStatic();
  $("lang-toggle").setAttribute("lang", state.lang === "en" ? "ko" : "en");
  chartReady = loadChartLibrary().then(() => {
    chart = new SeriesChart($("chart"), { onSelect: (d) => selectDay(d), locale: chartLocale() });
  });
  bindControls();
  syncControls();
  if (state.day) $("evidence-for").textContent = t("common.loading");
  else clearEvidence();

  const alertsP = loadAlerts();
  // The pair's series starts at once when the URL names it; otherwise after the matrix.
  const pairP = state.pair ? loadPair({ evidence: Boolean(state.day) }) : null;
  const matrixP = loadMatrix().then(() => {
    if (!state.pair) {
      state.pair = defaultPair();
      writeUrl();
      syncControls();
      renderMatrixPanel();
      return loadPair({ evidence: Boolean(state.day) });
    }
    return null;
  });
  const results = await Promise.allSettled([matrixP, alertsP, pairP, chartReady]);
  for (const r of results) if (r.status === "rejected") showError(r.reason);
  if (results[0].status === "rejected") panelMessage($("matrix"), results[0].reason);
  if (results[1].status === "rejected") panelMessage($("alerts"), results[1].reason);
  performance.mark("relwatch:drawn");
  // Header details (days covered, the served model) once the screen is drawn.
  const header = await Promise.allSettled([
    api.status().then((s) => {
      data.status = s;
    }),
    api.models().then((m) => {
      data.models = m;
    }),
  ]);
  renderMeta();
  for (const r of header) if (r.status === "rejected") showError(r.reason);
  document.body.dataset.ready = "true";
}

start().catch(showError);
