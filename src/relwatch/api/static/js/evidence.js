// The sentences behind a point: both country mentions highlighted, the probabilities the
// model gave, where the sentence came from and which model version read it.
import { country, t } from "./i18n.js";
import { fixed, h, isNum, signed, toneColour, toneInk } from "./util.js";

const LABELS = ["conflict", "neutral", "cooperation"];

function span(pair) {
  return Array.isArray(pair) && pair.length === 2 && isNum(pair[0]) && isNum(pair[1]) ? pair : null;
}

/** The sentence as text nodes with <mark> around each country mention (overlaps skipped);
 * ``names`` titles each mark with its country. */
export function highlighted(text, spans, names = {}) {
  const marks = [
    ["source", span(spans?.source)],
    ["target", span(spans?.target)],
  ]
    .filter(([, s]) => s && s[0] >= 0 && s[0] < s[1] && s[1] <= text.length)
    .sort((a, b) => a[1][0] - b[1][0]);
  const out = [];
  let pos = 0;
  for (const [role, [start, end]] of marks) {
    if (start < pos) continue;
    out.push(
      text.slice(pos, start),
      h("mark", { class: `m-${role}`, title: names[role] || null }, text.slice(start, end)),
    );
    pos = end;
  }
  out.push(text.slice(pos));
  return out;
}

function safeUrl(url) {
  try {
    const u = new URL(url, window.location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

function probs(p) {
  const values = LABELS.map((k) => (p && isNum(p[k]) ? p[k] : 0));
  return h(
    "div",
    { class: "probs" },
    h(
      "div",
      { class: "probs-bar", "aria-hidden": "true" },
      LABELS.map((k, i) =>
        h("span", { class: `p-${k}`, style: `width:${(values[i] * 100).toFixed(1)}%` }),
      ),
    ),
    h(
      "dl",
      { class: "probs-list" },
      LABELS.map((k, i) => [h("dt", { class: `p-${k}` }, t(`label.${k}`)), h("dd", {}, fixed(values[i]))]),
    ),
  );
}

/** "a->b" names the sentence's own order: a is the country named first in it. */
function directionText(ev, view) {
  if (!ev.direction) return null;
  const s = span(ev.spans?.source);
  const g = span(ev.spans?.target);
  const sourceFirst = !s || !g || s[0] <= g[0];
  const [a, b] = sourceFirst ? view : [view[1], view[0]];
  const key = `direction.${ev.direction}`;
  const text = t(key, { a: country(a), b: country(b) });
  return text === key ? ev.direction : text;
}

function item(ev, i, view) {
  const label = LABELS.includes(ev.label) ? ev.label : null;
  const tone = ev.probs ? (ev.probs.cooperation ?? 0) - (ev.probs.conflict ?? 0) : null;
  const url = ev.url ? safeUrl(ev.url) : null;
  const direction = directionText(ev, view);
  const names = { source: country(view[0]), target: country(view[1]) };
  return h(
    "li",
    { class: "evidence-item", dataset: { sentence: ev.sentence_id ?? "" } },
    h(
      "div",
      { class: "ev-head" },
      h("span", { class: "ev-rank" }, `${i + 1}.`),
      h(
        "span",
        { class: `label-chip l-${label || "unknown"}`, style: `background:${toneColour(tone)};color:${toneInk(tone)}` },
        label ? t(`label.${label}`) : ev.label || "?",
      ),
      h("span", { class: "ev-date" }, ev.date || ""),
      isNum(ev.contribution)
        ? h("span", { class: "ev-contrib" }, `${t("evidence.contribution")} ${signed(ev.contribution, 3)}`)
        : null,
    ),
    h("p", { class: "ev-text" }, highlighted(ev.text || "", ev.spans, names)),
    probs(ev.probs),
    h(
      "p",
      { class: "ev-meta" },
      h("span", {}, `${t("evidence.source")}: `, h("strong", {}, ev.source_name || "—")),
      ev.title ? h("span", { class: "ev-title" }, ev.title) : null,
      url
        ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, `${t("evidence.link")} ↗`)
        : ev.corpus_id
          ? h("span", { class: "muted" }, ev.corpus_id)
          : null,
      direction ? h("span", {}, `${t("evidence.direction")}: ${direction}`) : null,
      h("span", { class: "muted" }, `${t("evidence.model")}: ${ev.model_version ?? "—"}`),
    ),
  );
}

/** ``view`` is [source, target] of the series: the countries the spans belong to. */
export function renderEvidence(list, items, view) {
  if (!items.length) {
    list.replaceChildren(h("li", { class: "muted" }, t("evidence.none")));
    return;
  }
  list.replaceChildren(...items.map((ev, i) => item(ev, i, view)));
}

/** Which highlight is which country. */
export function markKey(view) {
  return h(
    "span",
    { class: "mark-key" },
    h("mark", { class: "m-source" }, country(view[0])),
    " ",
    h("mark", { class: "m-target" }, country(view[1])),
  );
}

export const EVIDENCE_COLUMNS = [
  "date",
  "sentence_id",
  "label",
  "p_conflict",
  "p_neutral",
  "p_cooperation",
  "contribution",
  "direction",
  "text",
  "title",
  "source_name",
  "url",
  "corpus_id",
  "model_version",
];

export function evidenceRows(items) {
  return items.map((ev) => ({
    ...ev,
    p_conflict: ev.probs?.conflict,
    p_neutral: ev.probs?.neutral,
    p_cooperation: ev.probs?.cooperation,
  }));
}
