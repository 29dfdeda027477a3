// Small helpers: DOM building (text only, never HTML from data), numbers, colours, dates, CSV.

/** ``h("a", {href, class: "x"}, "text", child)``; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function isNum(v) {
  return typeof v === "number" && Number.isFinite(v);
}

/** "+0.42" / "−0.42" (a true minus sign, so the number reads at a glance). */
export function signed(v, digits = 2) {
  if (!isNum(v)) return "—";
  const s = Math.abs(v).toFixed(digits);
  if (Number(s) === 0) return (0).toFixed(digits);
  return `${v < 0 ? "−" : "+"}${s}`;
}

export function fixed(v, digits = 2) {
  return isNum(v) ? v.toFixed(digits) : "—";
}

export function percent(v) {
  return isNum(v) ? `${Math.round(v * 100)}%` : "—";
}

export function int(v) {
  return isNum(v) ? Math.round(v).toLocaleString("en-US") : "—";
}

// Diverging scale: conflict red, neutral grey, cooperation green; saturates at |tone| = 0.6,
// past which the number in the cell (always shown) carries the difference.
export const TONE_SATURATION = 0.6;
const RED = [192, 39, 45];
const MID = [238, 238, 234];
const GREEN = [26, 133, 72];

export function toneColour(v) {
  if (!isNum(v)) return null;
  const x = Math.max(-1, Math.min(1, v / TONE_SATURATION));
  const end = x < 0 ? RED : GREEN;
  const f = Math.abs(x);
  const rgb = MID.map((m, i) => Math.round(m + (end[i] - m) * f));
  return `rgb(${rgb.join(",")})`;
}

/** Black or white text, whichever reads better on the tone's colour (WCAG contrast). */
export function toneInk(v) {
  const bg = toneColour(v);
  if (!bg) return "#1d1d1f";
  const [r, g, b] = bg.match(/\d+/g).map(Number).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) ? "#111" : "#fff";
}

// Dates are ISO "YYYY-MM-DD" strings handled in UTC, so no time zone moves a day.
export function parseDay(s) {
  const [y, m, d] = s.slice(0, 10).split("-").map(Number);
  return Date.UTC(y, m - 1, d);
}

export function formatDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

export function isDay(s) {
  return typeof s === "string" && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(parseDay(s));
}

/** Last day of the period that starts on ``day`` at ``grain``. */
export function periodEnd(day, grain) {
  const ms = parseDay(day);
  if (grain === "week") return formatDay(ms + 6 * 86400000);
  if (grain === "month") {
    const d = new Date(ms);
    return formatDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
  }
  return day;
}

/** Start of the period of ``grain`` that contains ``day`` (weeks start on Monday). */
export function periodStart(day, grain) {
  const ms = parseDay(day);
  const d = new Date(ms);
  if (grain === "week") return formatDay(ms - ((d.getUTCDay() + 6) % 7) * 86400000);
  if (grain === "month") return formatDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  return day;
}

function csvCell(v) {
  if (v === undefined || v === null) return "";
  const s = typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCSV(rows, columns) {
  const lines = [columns.join(",")];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** Save ``text`` as a file; the BOM lets spreadsheet programs read Korean text as UTF-8. */
export function download(filename, text) {
  const blob = new Blob(["\ufeff", text], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
