// Every label of the dashboard in English and Korean; country names for the focus
// countries are fixed here (the names Korean analysts use), others come from the browser.
import { ISO2 } from "./countries.js";

export const LANGS = ["en", "ko"];

const TEXT = {
  en: {
    "app.title": "Country relations index",
    "app.tagline": "Daily tone between countries from the news, with the sentences behind each point",
    "lang.switch": "한국어",
    "lang.switch.label": "Switch the page to Korean",
    "meta.model": "Model",
    "meta.updated": "Index updated",
    "meta.range": "Days covered",
    "meta.serving": "serving {model}",
    "skip.chart": "Skip to the chart",
    "matrix.title": "Relations matrix",
    "matrix.caption":
      "Latest tone of each pair (−1 conflict … +1 cooperation) and its shift over the window. Select a cell to open the pair.",
    "matrix.asof": "as of {day}, shift over {window} days",
    "matrix.others": "Other pairs in the news",
    "matrix.shift": "shift",
    "matrix.download": "Matrix CSV",
    "matrix.cell": "{a} and {b}: tone {tone}, shift {shift}, {volume} sentences",
    "matrix.cell.empty": "{a} and {b}: no data",
    "legend.title": "Tone",
    "label.conflict": "Conflict",
    "label.neutral": "Neutral",
    "label.cooperation": "Cooperation",
    "pair.title": "Relation index",
    "pair.pick": "Pair",
    "pair.source": "Country A",
    "pair.target": "Country B",
    "pair.swap.label": "Swap the two countries",
    "grain.label": "Grain",
    "grain.day": "Day",
    "grain.week": "Week",
    "grain.month": "Month",
    "view.label": "View",
    "view.undirected": "Both directions",
    "view.directed": "Directed (A → B)",
    "seen.label": "Seen from (publisher country)",
    "seen.all": "All publishers",
    "range.from": "From",
    "range.to": "To",
    "range.reset": "All days",
    "csv.series": "Download CSV",
    "csv.series.label": "Download the points on screen as CSV",
    "chart.tone": "Tone",
    "chart.band": "90% interval",
    "chart.smooth": "7-day mean",
    "chart.raw": "Raw tone",
    "chart.volume": "Sentences",
    "chart.alerts": "Alerts",
    "chart.help":
      "Select a day (click, or focus the chart and use ← → then Enter) to read the sentences behind it.",
    "chart.aria": "Tone of {pair} by {grain}: {n} points from {first} to {last}",
    "chart.empty": "No points for this view. Try another grain, view or date range.",
    "table.title": "Points",
    "table.date": "Date",
    "table.tone": "Tone",
    "table.interval": "90% interval",
    "table.volume": "Sentences",
    "table.articles": "Articles",
    "table.attention": "Attention",
    "table.counts": "Conflict / neutral / coop.",
    "table.open": "Evidence for {date}",
    "evidence.title": "Evidence sentences",
    "evidence.hint": "Select a day on the chart or in the table.",
    "evidence.for": "{pair}, {range}",
    "evidence.none": "No sentences for this day.",
    "evidence.source": "Source",
    "evidence.link": "Open article",
    "evidence.probs": "Probabilities",
    "evidence.model": "Model version",
    "evidence.contribution": "Contribution",
    "evidence.direction": "Direction",
    "evidence.download": "Evidence CSV",
    "direction.a->b": "{a} → {b}",
    "direction.b->a": "{b} → {a}",
    "direction.mutual": "mutual",
    "alerts.title": "Recent alerts",
    "alerts.none": "No alerts.",
    "alerts.to_conflict": "toward conflict",
    "alerts.to_cooperation": "toward cooperation",
    "alerts.detail": "{value} against baseline {baseline} · {volume} sentences",
    "alerts.open": "Open {pair} on {day}",
    "common.loading": "Loading…",
    "common.error": "Error",
    "common.dismiss": "Dismiss",
    "footer.about":
      "Tone = P(cooperation) − P(conflict), pooled per day with a 90% interval. Every figure traces back to its sentences and model version.",
    "footer.api": "JSON API",
  },
  ko: {
    "app.title": "국가 관계 지수",
    "app.tagline": "뉴스로 본 국가 간 관계의 일별 지수와 각 지점의 근거 문장",
    "lang.switch": "English",
    "lang.switch.label": "페이지를 영어로 바꾸기",
    "meta.model": "모델",
    "meta.updated": "지수 갱신",
    "meta.range": "수록 기간",
    "meta.serving": "서비스 중 {model}",
    "skip.chart": "차트로 건너뛰기",
    "matrix.title": "관계 매트릭스",
    "matrix.caption":
      "쌍별 최신 지수(−1 갈등 … +1 협력)와 기간 내 변화. 칸을 선택하면 해당 쌍이 열립니다.",
    "matrix.asof": "{day} 기준, {window}일간 변화",
    "matrix.others": "보도된 기타 국가 쌍",
    "matrix.shift": "변화",
    "matrix.download": "매트릭스 CSV",
    "matrix.cell": "{a}–{b}: 지수 {tone}, 변화 {shift}, 문장 {volume}개",
    "matrix.cell.empty": "{a}–{b}: 데이터 없음",
    "legend.title": "지수",
    "label.conflict": "갈등",
    "label.neutral": "중립",
    "label.cooperation": "협력",
    "pair.title": "관계 지수",
    "pair.pick": "국가 쌍",
    "pair.source": "국가 A",
    "pair.target": "국가 B",
    "pair.swap.label": "두 국가의 순서 바꾸기",
    "grain.label": "단위",
    "grain.day": "일",
    "grain.week": "주",
    "grain.month": "월",
    "view.label": "보기",
    "view.undirected": "양방향",
    "view.directed": "방향성 (A → B)",
    "seen.label": "보도 국가 기준",
    "seen.all": "전체 언론사",
    "range.from": "시작일",
    "range.to": "종료일",
    "range.reset": "전체 기간",
    "csv.series": "CSV 다운로드",
    "csv.series.label": "화면의 지수를 CSV로 내려받기",
    "chart.tone": "지수",
    "chart.band": "90% 구간",
    "chart.smooth": "7일 평균",
    "chart.raw": "원 지수",
    "chart.volume": "문장 수",
    "chart.alerts": "경보",
    "chart.help":
      "날짜를 선택하면(클릭, 또는 차트에서 ← → 후 Enter) 그날의 근거 문장이 표시됩니다.",
    "chart.aria": "{pair} {grain}별 지수: {first}부터 {last}까지 {n}개 지점",
    "chart.empty": "이 조건에는 지수가 없습니다. 단위, 보기 또는 기간을 바꿔 보세요.",
    "table.title": "데이터 표",
    "table.date": "날짜",
    "table.tone": "지수",
    "table.interval": "90% 구간",
    "table.volume": "문장 수",
    "table.articles": "기사 수",
    "table.attention": "주목도",
    "table.counts": "갈등 / 중립 / 협력",
    "table.open": "{date} 근거 문장 보기",
    "evidence.title": "근거 문장",
    "evidence.hint": "차트나 표에서 날짜를 선택하세요.",
    "evidence.for": "{pair}, {range}",
    "evidence.none": "이 날짜의 문장이 없습니다.",
    "evidence.source": "출처",
    "evidence.link": "기사 보기",
    "evidence.probs": "확률",
    "evidence.model": "모델 버전",
    "evidence.contribution": "기여도",
    "evidence.direction": "방향",
    "evidence.download": "근거 문장 CSV",
    "direction.a->b": "{a} → {b}",
    "direction.b->a": "{b} → {a}",
    "direction.mutual": "상호",
    "alerts.title": "최근 경보",
    "alerts.none": "경보가 없습니다.",
    "alerts.to_conflict": "갈등 쪽으로",
    "alerts.to_cooperation": "협력 쪽으로",
    "alerts.detail": "기준선 {baseline} 대비 {value} · 문장 {volume}개",
    "alerts.open": "{day} {pair} 열기",
    "common.loading": "불러오는 중…",
    "common.error": "오류",
    "common.dismiss": "닫기",
    "footer.about":
      "지수 = P(협력) − P(갈등), 날짜별로 모아 90% 구간과 함께 계산합니다. 모든 수치는 근거 문장과 모델 버전까지 추적됩니다.",
    "footer.api": "JSON API",
  },
};

const FOCUS_NAMES = {
  en: {
    KOR: "South Korea",
    PRK: "North Korea",
    USA: "United States",
    CHN: "China",
    JPN: "Japan",
    RUS: "Russia",
    IND: "India",
  },
  ko: { KOR: "한국", PRK: "북한", USA: "미국", CHN: "중국", JPN: "일본", RUS: "러시아", IND: "인도" },
};

let current = "en";
const displayNames = {};

export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : "en";
  document.documentElement.lang = current;
  return current;
}

export function lang() {
  return current;
}

/** The label ``key`` in the current language, with {placeholders} filled from ``vars``. */
export function t(key, vars = {}) {
  const text = TEXT[current][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A country's name in the current language; the ISO3 code when the browser has none. */
export function country(code) {
  if (!code) return "";
  const fixed = FOCUS_NAMES[current][code];
  if (fixed) return fixed;
  const iso2 = ISO2[code];
  if (!iso2 || typeof Intl.DisplayNames !== "function") return code;
  try {
    displayNames[current] ??= new Intl.DisplayNames([current], { type: "region" });
    return displayNames[current].of(iso2) || code;
  } catch {
    return code;
  }
}

/** Fill every element carrying data-i18n (text), data-i18n-label (aria-label) or data-i18n-title. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]"))
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-title]"))
    el.setAttribute("title", t(el.dataset.i18nTitle));
  document.title = `relwatch — ${t("app.title")}`;
}

/** Dates as the analyst reads them (ISO stays ISO: it sorts and is unambiguous). */
export function dateTime(value) {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(current === "ko" ? "ko-KR" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  }).format(d);
}
