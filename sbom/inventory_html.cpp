// This file implements inventory_html(): the audit report as one
// self-contained HTML page. The JSON report is embedded as data; an inline
// script draws the summary, two SVG bar charts (verdicts, findings per type),
// the filters and the table, using textContent only (never markup from data).
#include "sbom/inventory.h"

namespace pedigree {
namespace {

const char* const kHead = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>Pedigree audit</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d232a;background:#fff}
h1{font-size:1.4em;margin:0 0 .2em}
.meta{color:#56606b;margin-bottom:1em}
.cards{display:flex;gap:1em;flex-wrap:wrap;margin-bottom:1em}
.card{border:1px solid #d5dbe1;border-radius:6px;padding:.6em 1em;min-width:7em}
.card b{display:block;font-size:1.6em}
.charts{display:flex;gap:2em;flex-wrap:wrap;margin-bottom:1em}
.chart h2{font-size:1em;margin:.2em 0}
.filters{display:flex;gap:1em;flex-wrap:wrap;align-items:end;margin:1em 0}
.filters label{display:flex;flex-direction:column;font-size:.85em;color:#56606b}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e3e7eb;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f3f5f7;cursor:pointer;user-select:none;position:sticky;top:0}
td.mono{font-family:ui-monospace,monospace;font-size:.8em;word-break:break-all;max-width:22em}
td.v-pass{color:#1a7f37}td.v-flagged{color:#b35900;font-weight:bold}td.v-error{color:#c62828;font-weight:bold}
#shown{color:#56606b}
</style>
</head>
<body>
<h1>Pedigree audit</h1>
<div class="meta" id="meta"></div>
<div class="cards" id="cards"></div>
<div class="charts">
<div class="chart"><h2>Verdicts</h2><svg id="chart-verdicts" role="img" aria-label="verdicts"></svg></div>
<div class="chart"><h2>Findings per type (models with the finding)</h2><svg id="chart-findings" role="img" aria-label="findings per type"></svg></div>
</div>
<div class="filters">
<label>Verdict<select id="f-verdict"><option value="">all</option><option>pass</option><option>flagged</option><option>error</option></select></label>
<label>Format<select id="f-format"><option value="">all</option></select></label>
<label>Finding<select id="f-finding"><option value="">any or none</option><option value="*">any finding</option><option value="-">no finding</option></select></label>
<label>Search<input id="f-text" type="search" placeholder="subject, root, error"></label>
<span id="shown"></span>
</div>
<table id="inventory">
<thead><tr><th data-k="subject">Subject</th><th data-k="model">Model</th><th data-k="verdict">Verdict</th><th data-k="format">Format</th><th data-k="nfind">Findings</th><th data-k="ids">Finding types</th><th data-k="manifest_root">Manifest root</th><th data-k="error">Error</th></tr></thead>
<tbody></tbody>
</table>
<noscript><p>This page draws its table with JavaScript; the same data is in inventory.json and inventory.csv.</p></noscript>
<script type="application/json" id="audit-data">
)HTML";

const char* const kTail = R"HTML(
</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("audit-data").textContent);
  var rows = data.subjects.map(function (s) {
    var ids = {};
    s.findings.forEach(function (f) { ids[f.id] = true; });
    s.ids = Object.keys(ids).sort().join("; ");
    s.nfind = s.findings.length;
    return s;
  });
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = {pass: "#1a7f37", flagged: "#b35900", error: "#c62828", warning: "#b35900", info: "#4b6cb7"};
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function bars(svg, items, onClick) {
    var max = 1, rowH = 22, labelW = 190, barW = 260;
    items.forEach(function (it) { if (it.value > max) max = it.value; });
    svg.setAttribute("width", labelW + barW + 60);
    svg.setAttribute("height", Math.max(1, items.length) * rowH + 4);
    if (!items.length) svg.appendChild(svgEl("text", {x: 0, y: 15}, "none"));
    items.forEach(function (it, i) {
      var y = i * rowH + 2, w = it.value ? Math.max(1, Math.round(barW * it.value / max)) : 0;
      var g = svgEl("g", {"class": "bar", "data-label": it.label});
      g.appendChild(svgEl("text", {x: 0, y: y + 14}, it.label.length > 28 ? it.label.slice(0, 27) + "\u2026" : it.label));
      g.appendChild(svgEl("rect", {x: labelW, y: y, width: w, height: rowH - 6, fill: it.color}));
      g.appendChild(svgEl("text", {x: labelW + w + 6, y: y + 14}, it.value));
      g.appendChild(svgEl("title", {}, it.label + ": " + it.value));
      if (onClick) { g.style.cursor = "pointer"; g.addEventListener("click", function () { onClick(it.label); }); }
      svg.appendChild(g);
    });
  }
  var meta = document.getElementById("meta");
  meta.textContent = "Generated " + data.generated_at + " by pedigree " + data.tool.version +
    (data.inputs.length ? " from " + data.inputs.join(", ") : "");
  var cards = document.getElementById("cards");
  [["subjects", data.summary.subjects], ["pass", data.summary.pass], ["flagged", data.summary.flagged],
   ["error", data.summary.error]].forEach(function (c) {
    var d = el("div", undefined, "card");
    d.appendChild(el("b", c[1]));
    d.appendChild(document.createTextNode(c[0]));
    cards.appendChild(d);
  });
  var fVerdict = document.getElementById("f-verdict"), fFormat = document.getElementById("f-format");
  var fFinding = document.getElementById("f-finding"), fText = document.getElementById("f-text");
  Object.keys(data.formats).sort().forEach(function (f) { fFormat.appendChild(el("option", f)); });
  var findingIds = Object.keys(data.findings).sort();
  findingIds.forEach(function (f) { fFinding.appendChild(el("option", f)); });
  bars(document.getElementById("chart-verdicts"), ["pass", "flagged", "error"].map(function (v) {
    return {label: v, value: data.summary[v], color: COLORS[v]};
  }), function (v) { fVerdict.value = v; render(); });
  bars(document.getElementById("chart-findings"), findingIds.map(function (f) {
    var s = data.findings[f];
    return {label: f, value: s.models, color: COLORS[s.severity] || "#4b6cb7"};
  }), function (f) { fFinding.value = f; render(); });
  var sortKey = "subject", sortDir = 1;
  document.querySelectorAll("#inventory th").forEach(function (th) {
    th.addEventListener("click", function () {
      var k = th.getAttribute("data-k");
      sortDir = k === sortKey ? -sortDir : 1;
      sortKey = k;
      render();
    });
  });
  function keep(r) {
    if (fVerdict.value && r.verdict !== fVerdict.value) return false;
    if (fFormat.value && r.format !== fFormat.value) return false;
    var f = fFinding.value;
    if (f === "*" && !r.nfind) return false;
    if (f === "-" && r.nfind) return false;
    if (f && f !== "*" && f !== "-" && !r.findings.some(function (x) { return x.id === f; })) return false;
    var q = fText.value.toLowerCase();
    if (q && [r.subject, r.model, r.manifest_root, r.error, r.ids].join(" ").toLowerCase().indexOf(q) < 0) return false;
    return true;
  }
  function render() {
    var body = document.querySelector("#inventory tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    var shown = rows.filter(keep).sort(function (a, b) {
      var x = a[sortKey], y = b[sortKey];
      if (x < y) return -sortDir;
      if (x > y) return sortDir;
      return a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0;
    });
    shown.forEach(function (r) {
      var tr = el("tr");
      tr.setAttribute("data-id", r.id);
      tr.appendChild(el("td", r.subject, "mono"));
      tr.appendChild(el("td", r.model));
      tr.appendChild(el("td", r.verdict, "v-" + r.verdict));
      tr.appendChild(el("td", r.format));
      tr.appendChild(el("td", r.nfind));
      tr.appendChild(el("td", r.ids));
      tr.appendChild(el("td", r.manifest_root, "mono"));
      tr.appendChild(el("td", r.error));
      body.appendChild(tr);
    });
    document.getElementById("shown").textContent = shown.length + " of " + rows.length + " shown";
  }
  [fVerdict, fFormat, fFinding].forEach(function (s) { s.addEventListener("change", render); });
  fText.addEventListener("input", render);
  render();
})();
</script>
</body>
</html>
)HTML";

// JSON text safe inside a <script> element: every '<' as \u003c (valid JSON,
// since '<' can only occur inside strings), so neither "</script" nor "<!--" appears.
std::string script_safe(const std::string& json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (char c : json_text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

}  // namespace

std::string inventory_html(const std::vector<InventoryRow>& rows, const InventoryMeta& meta) {
  nlohmann::json data = inventory_json(rows, meta);
  return kHead + script_safe(data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) + kTail;
}

}  // namespace pedigree
