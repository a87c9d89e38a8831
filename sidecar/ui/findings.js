"use strict";
// The findings at the top of the page: what the sidecar concluded from its
// samples, with the evidence and one line of advice. Everything the app or
// the sidecar provides goes into the DOM as text, never as markup. Uses the
// page script's fmt, clock, span and parseTime when called.
const FINDING_TITLES = {
  goroutine_leak: "Goroutine leak suspected",
  memory_near_limit: "Memory near the limit",
  no_gomemlimit: "No GOMEMLIMIT",
  gc_pressure: "GC pressure",
  gomaxprocs_above_cpu_limit: "GOMAXPROCS above the CPU limit",
};
const SEVERITY_RANK = {critical: 0, warning: 1, info: 2};

// node makes an HTML element with a class and text content.
function node(name, cls, text) {
  const e = document.createElement(name);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

// figureValue formats one evidence figure by its unit.
function figureValue(f) {
  const v = Number(f.value), u = String(f.unit || "");
  if (!Number.isFinite(v)) return String(f.value);
  switch (u) {
    case "bytes": return v >= 2 ** 63 - 1024 ? "no limit (the maximum)" : fmt("bytes", v);
    case "bytes per second": return fmt("rate", v);
    case "seconds": return Math.abs(v) >= 1 ? span(v) : fmt("seconds", v);
    case "ratio": return +(v * 100).toFixed(1) + "%";
  }
  const n = v.toLocaleString("en-US", {maximumFractionDigits: Math.abs(v) < 10 ? 2 : 1});
  return u ? n + " " + u : n;
}

// when says when a finding began, or over which window its evidence was taken.
function when(from, to) {
  const a = from ? parseTime(from) : NaN, b = to ? parseTime(to) : NaN;
  if (!(a > 0) || !(b > 0)) return "";
  if (a === b) return "at " + clock(a, true);
  return "over " + clock(a, true) + "–" + clock(b, true) + " (" + span((b - a) / 1000) + ")";
}

// stackItem shows one goroutine stack of a leak: its function, how many
// goroutines wait there and how many more than at the previous read, with
// its frames folded away.
function stackItem(s) {
  const li = node("li", "stack"), det = node("details"), sum = node("summary");
  sum.append(node("code", "function", String(s.function)), " ", node("span", "count", Number(s.count).toLocaleString("en-US") + " goroutines"));
  if (s.growth != null) {
    const g = Number(s.growth);
    sum.append(" ", node("span", "growth", (g >= 0 ? "+" : "") + g.toLocaleString("en-US") + " since the previous read"));
  }
  if (s.leaked === true) sum.append(" ", node("span", "leaked", "leaked: the runtime's leak profile lists them"));
  const frames = node("ol", "frames");
  for (const f of s.frames || []) frames.appendChild(node("li", "frame", String(f)));
  det.append(sum, frames);
  li.appendChild(det);
  return li;
}

// findingItem shows one finding.
function findingItem(f) {
  const sev = String(f.severity), kind = String(f.kind);
  const li = node("li", "finding sev-" + (sev in SEVERITY_RANK ? sev : "other"));
  li.dataset.kind = kind;
  const head = node("div", "finding-head");
  head.append(node("span", "severity", sev), " ", node("strong", "title", FINDING_TITLES[kind] || kind));
  const since = when(f.since, f.since);
  if (since) head.append(" ", node("span", "since", since.replace(/^at /, "since ")));
  li.append(head, node("p", "advice", String(f.advice || "")));
  const ev = f.evidence || {}, figs = node("ul", "figures");
  for (const g of ev.figures || []) {
    const fi = node("li", "figure");
    fi.append(node("span", "figure-name", String(g.name)), " ", node("b", "figure-value", figureValue(g)));
    figs.appendChild(fi);
  }
  const win = when(ev.from, ev.to);
  li.append(node("p", "window", "Evidence " + (win || "from the latest sample") + ":"), figs);
  if (f.stacks && f.stacks.length) {
    const stacks = node("ul", "stacks");
    stacks.append(...f.stacks.map(stackItem));
    const read = when(f.stacksRead, f.stacksRead);
    li.append(node("p", "window", "Where the goroutines wait" + (read ? ", read " + read : "") + " (largest share first):"), stacks);
  }
  return li;
}

// renderFindings shows the active findings, most urgent first.
function renderFindings(list) {
  const box = $("findings"), ul = $("finding-list"), found = list.slice();
  found.sort((a, b) => (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) ||
    String(a.kind).localeCompare(String(b.kind)));
  box.classList.remove("hidden");
  box.dataset.count = String(found.length);
  $("h-findings").textContent = found.length ? (found.length === 1 ? "1 finding" : found.length + " findings") : "No findings";
  ul.replaceChildren(...found.map(findingItem));
}

async function pollFindings() {
  try {
    const r = await fetch("api/v1/findings", {cache: "no-store", headers: {Accept: "application/json"}});
    if (!r.ok) return;
    const j = await r.json();
    if (Array.isArray(j.findings)) renderFindings(j.findings);
  } catch (e) { /* the history poll reports an unreachable sidecar */ }
}
