// The JSON API, and nothing else: the dashboard has no server logic of its own.
// Paths are relative, so the page works behind a proxy that serves it under a prefix.

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** GET ``path`` with ``params``; an API error body becomes an ApiError with its message. */
export async function get(path, params = {}, { signal } = {}) {
  let response;
  try {
    response = await fetch(`${path}${query(params)}`, {
      headers: { Accept: "application/json" },
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", `${path}: ${err.message}`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const e = body && body.error;
    const detail = body && typeof body.detail === "string" ? body.detail : null;
    throw new ApiError(
      response.status,
      (e && e.type) || "http",
      (e && e.message) || detail || `${path}: HTTP ${response.status}`,
    );
  }
  return body;
}

export const api = {
  status: (opts) => get("v1/index/status", {}, opts),
  models: (opts) => get("v1/models", {}, opts),
  matrix: (p, opts) => get("v1/index/matrix", p, opts),
  series: (p, opts) => get("v1/index", { ...p, format: "json" }, opts),
  evidence: (p, opts) => get("v1/index/evidence", p, opts),
  alerts: (p, opts) => get("v1/index/alerts", p, opts),
};
