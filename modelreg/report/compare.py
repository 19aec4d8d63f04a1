"""A model page's interactive parts: filtering the version table and comparing two versions.

Both run in the page's one script (SCRIPT), allowed by its hash in the Content-Security-Policy; it
reads the versions' params and metrics from a JSON data block (never executed) and writes only
text nodes, so free text in params stays text. Without scripts the page still shows everything but
these two tools.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from modelreg.models import ModelVersion
from modelreg.report.charts import esc

SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var input = document.getElementById("version-filter");
  var count = document.getElementById("version-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.versions tbody tr"));
  function filter() {
    var query = input.value.toLowerCase().replace(/\\s+/g, " ").trim();
    var shown = 0;
    rows.forEach(function (row) {
      var keep = row.textContent.toLowerCase().replace(/\\s+/g, " ").indexOf(query) !== -1;
      row.hidden = !keep;
      if (keep) { shown += 1; }
    });
    count.textContent = query ? shown + " of " + rows.length + " versions" : "";
  }
  input.addEventListener("input", filter);
  var a = document.getElementById("compare-a");
  var b = document.getElementById("compare-b");
  var out = document.getElementById("compare-out");
  function places(x) {
    var s = String(x);
    if (s.indexOf("e") !== -1) { return 6; }
    var dot = s.indexOf(".");
    return dot === -1 ? 0 : s.length - dot - 1;
  }
  function delta(x, y) {
    if (x === undefined) { return "added"; }
    if (y === undefined) { return "removed"; }
    if (typeof x === "number" && typeof y === "number") {
      var text = (y - x).toFixed(Math.max(places(x), places(y)));
      if (Number(text) === 0) { return "="; }
      return (y > x ? "+" : "") + text;
    }
    return JSON.stringify(x) === JSON.stringify(y) ? "=" : "changed";
  }
  function shown(value) {
    return value === undefined ? "\\u2014" : value === null ? "null" : String(value);
  }
  function cell(row, tag, text, cls) {
    var element = document.createElement(tag);
    element.textContent = text;
    if (cls) { element.className = cls; }
    row.appendChild(element);
  }
  function compare() {
    var va = data[a.value], vb = data[b.value];
    var table = document.createElement("table");
    table.className = "compare";
    var head = document.createElement("tr");
    ["", "key", "v" + a.value, "v" + b.value, "\\u0394"].forEach(function (h) { cell(head, "th", h); });
    var thead = document.createElement("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = document.createElement("tbody");
    ["metrics", "params"].forEach(function (section) {
      var keys = Object.keys(Object.assign({}, va[section], vb[section])).sort();
      keys.forEach(function (key) {
        var row = document.createElement("tr");
        var change = delta(va[section][key], vb[section][key]);
        row.className = change === "=" ? "same" : "changed";
        row.setAttribute("data-section", section);
        row.setAttribute("data-key", key);
        cell(row, "td", section, "key");
        cell(row, "td", key);
        cell(row, "td", shown(va[section][key]));
        cell(row, "td", shown(vb[section][key]));
        cell(row, "td", change, "delta");
        body.appendChild(row);
      });
    });
    var bytes = document.createElement("tr");
    bytes.setAttribute("data-section", "artifact");
    cell(bytes, "td", "artifact", "key");
    cell(bytes, "td", "digest");
    cell(bytes, "td", va.digest.slice(0, 19) + "\\u2026");
    cell(bytes, "td", vb.digest.slice(0, 19) + "\\u2026");
    cell(bytes, "td", va.digest === vb.digest ? "same bytes" : "different bytes", "delta");
    body.appendChild(bytes);
    table.appendChild(body);
    out.replaceChildren(table);
  }
  a.addEventListener("change", compare);
  b.addEventListener("change", compare);
  compare();
})();
""".strip()
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()


def data_block(versions: tuple[ModelVersion, ...]) -> str:
    """The versions' params, metrics and digests as a JSON data block (`<` escaped: no text can end it)."""
    data: dict[str, dict[str, Any]] = {
        str(mv.version): {
            "params": dict(mv.manifest.params),
            "metrics": dict(mv.manifest.metrics),
            "digest": mv.manifest.artifact.digest,
        }
        for mv in versions
    }
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="report-data">{text}</script>'


def filter_box(total: int) -> str:
    return (
        '<p class="filter"><label>Filter <input id="version-filter" type="search" autocomplete="off" '
        'placeholder="e.g. production, depth 7, jane"></label> '
        '<span id="version-count" class="meta" aria-live="polite"></span></p>'
        if total > 1
        else ""
    )


def compare_section(versions: tuple[ModelVersion, ...]) -> str:
    """Two version pickers (the previous and the latest version picked) and where the comparison goes."""
    if len(versions) < 2:
        return ""
    numbers = [mv.version for mv in reversed(versions)]

    def picker(ident: str, label: str, chosen: int) -> str:
        options = "".join(f'<option value="{v}"{" selected" if v == chosen else ""}>v{v}</option>' for v in numbers)
        return f'<label>{esc(label)} <select id="{ident}">{options}</select></label>'

    return (
        '<section id="compare"><h2>Compare two versions</h2>'
        f'<p class="pickers">{picker("compare-a", "From", numbers[1])} {picker("compare-b", "to", numbers[0])}</p>'
        '<div class="scroll" id="compare-out"></div>'
        '<p class="meta">Metrics and params side by side; Δ is the second minus the first.</p></section>'
    )
