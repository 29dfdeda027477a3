// The focus-country matrix: an HTML table coloured by tone, with the number always shown
// (colour is never the only signal) and the latest shift beside it. Arrow keys move
// between cells (one tab stop for the grid), Enter or a click opens the pair.
import { country, lang, t } from "./i18n.js";
import { h, int, isNum, signed, toneColour, toneInk, TONE_SATURATION } from "./util.js";

export const FOCUS = ["KOR", "PRK", "USA", "CHN", "JPN", "RUS", "IND"];

export function pairKey(a, b) {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

/** {"A-B" (sorted): cell} from the API's cells (either order, undirected). */
export function indexCells(cells) {
  const out = new Map();
  for (const c of cells || []) out.set(pairKey(c.source, c.target), c);
  return out;
}

function shiftMark(shift) {
  if (!isNum(shift)) return "—";
  if (Math.abs(shift) < 0.005) return "±0.00";
  return `${shift < 0 ? "▼" : "▲"}${Math.abs(shift).toFixed(2)}`;
}

function cellLabel(a, b, cell) {
  if (!cell || !isNum(cell.tone)) return t("matrix.cell.empty", { a: country(a), b: country(b) });
  return t("matrix.cell", {
    a: country(a),
    b: country(b),
    tone: signed(cell.tone),
    shift: signed(cell.shift),
    volume: int(cell.volume),
  });
}

function cellButton(a, b, cell, selected, onOpen) {
  const tone = cell ? cell.tone : null;
  const shift = cell ? cell.shift : null;
  const width = isNum(shift) ? Math.min(100, (Math.abs(shift) / 0.3) * 100) : 0;
  return h(
    "button",
    {
      type: "button",
      class: `cell${selected ? " is-selected" : ""}`,
      style: `background:${toneColour(tone)};color:${toneInk(tone)}`,
      "aria-label": cellLabel(a, b, cell),
      "aria-current": selected ? "true" : null,
      tabindex: "-1",
      dataset: { pair: `${a}-${b}` },
      onclick: () => onOpen(a, b),
    },
    h("span", { class: "cell-tone" }, signed(tone)),
    h(
      "span",
      { class: `cell-shift ${isNum(shift) && shift < 0 ? "down" : "up"}` },
      shiftMark(shift),
    ),
    h("span", { class: "cell-bar", style: `width:${width}%`, "aria-hidden": "true" }),
  );
}

/** Arrow keys move focus through the grid's buttons (roving tabindex). */
function rove(table) {
  const buttons = () => [...table.querySelectorAll("button.cell")];
  const first = table.querySelector("button.cell.is-selected") || buttons()[0];
  if (first) first.tabIndex = 0;
  table.addEventListener("focusin", (e) => {
    if (!e.target.matches("button.cell")) return;
    for (const b of buttons()) b.tabIndex = b === e.target ? 0 : -1;
  });
  table.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (!(e.key in moves) && e.key !== "Home" && e.key !== "End") return;
    const td = e.target.closest("td");
    if (!td) return;
    const rows = [...table.tBodies[0].rows];
    let r = rows.indexOf(td.parentElement);
    let c = [...td.parentElement.cells].indexOf(td);
    const n = rows.length;
    const step = moves[e.key];
    for (let i = 0; i < n + 1; i++) {
      if (e.key === "Home") c = 1;
      else if (e.key === "End") c = n;
      else {
        r = (r + step[0] + n) % n;
        c = ((c - 1 + step[1] + n) % n) + 1;
      }
      const target = rows[r].cells[c]?.querySelector("button.cell");
      if (target) {
        e.preventDefault();
        target.focus();
        return;
      }
      if (e.key === "Home" || e.key === "End") return;
    }
  });
}

export function renderMatrix(root, data, { focus, selected, onOpen }) {
  const cells = indexCells(data.cells);
  const codes = (focus || FOCUS).filter((c) => !data.countries || data.countries.includes(c));
  const selKey = selected ? pairKey(selected[0], selected[1]) : null;
  const head = h(
    "tr",
    {},
    h("td", { class: "corner" }),
    codes.map((c) =>
      h(
        "th",
        { scope: "col", title: country(c), abbr: country(c) },
        lang() === "ko" ? country(c) : c,
      ),
    ),
  );
  const body = codes.map((a) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, h("span", { class: "row-name" }, country(a)), h("span", { class: "code" }, a)),
      codes.map((b) => {
        if (a === b) return h("td", { class: "diag", "aria-hidden": "true" });
        const cell = cells.get(pairKey(a, b));
        if (!cell || !isNum(cell.tone))
          return h("td", { class: "empty" }, h("span", { class: "sr-only" }, cellLabel(a, b, null)), "·");
        return h("td", {}, cellButton(a, b, cell, selKey === pairKey(a, b), onOpen));
      }),
    ),
  );
  const table = h(
    "table",
    { class: "matrix", "aria-describedby": "matrix-caption" },
    h("thead", {}, head),
    h("tbody", {}, body),
  );
  rove(table);

  const focusSet = new Set(codes);
  const others = [...cells.values()]
    .filter((c) => isNum(c.tone) && !(focusSet.has(c.source) && focusSet.has(c.target)))
    .sort((x, y) => (y.volume || 0) - (x.volume || 0))
    .slice(0, 16);
  const extra = others.length
    ? h(
        "div",
        { class: "others" },
        h("h3", {}, t("matrix.others")),
        h(
          "ul",
          { class: "chips" },
          others.map((c) =>
            h(
              "li",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: `chip${selKey === pairKey(c.source, c.target) ? " is-selected" : ""}`,
                  "aria-label": cellLabel(c.source, c.target, c),
                  dataset: { pair: `${c.source}-${c.target}` },
                  onclick: () => onOpen(c.source, c.target),
                },
                h(
                  "span",
                  { class: "swatch", style: `background:${toneColour(c.tone)};color:${toneInk(c.tone)}` },
                  signed(c.tone),
                ),
                ` ${country(c.source)} – ${country(c.target)} `,
                h("span", { class: "muted" }, shiftMark(c.shift)),
              ),
            ),
          ),
        ),
      )
    : null;
  root.replaceChildren(h("div", { class: "matrix-scroll" }, table), legend(), extra || "");
}

/** The colour key with numbers and words, so colour is never needed to read a cell. */
export function legend() {
  const stops = [-1, -2 / 3, -1 / 3, 0, 1 / 3, 2 / 3, 1].map((f) => f * TONE_SATURATION);
  return h(
    "div",
    { class: "legend", role: "group", "aria-label": t("legend.title") },
    h("span", { class: "legend-word conflict" }, `◀ ${t("label.conflict")}`),
    h(
      "ol",
      { class: "legend-scale" },
      stops.map((v, i) =>
        h(
          "li",
          { style: `background:${toneColour(v)};color:${toneInk(v)}` },
          `${i === 0 ? "≤" : i === stops.length - 1 ? "≥" : ""}${signed(v, 1)}`,
        ),
      ),
    ),
    h("span", { class: "legend-word cooperation" }, `${t("label.cooperation")} ▶`),
    h("span", { class: "legend-note muted" }, `0 = ${t("label.neutral")} · ▲▼ ${t("matrix.shift")}`),
  );
}
