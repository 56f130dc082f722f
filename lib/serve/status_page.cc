#include "serve/status_page.h"

#include <fmt/format.h>

#include "storage/xml.h"

namespace manage::serve {
namespace {

// Everything the script shows is put in with textContent, never as markup.
constexpr char kPage[] = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{service}: manage</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }}
h1 {{ font-size: 1.4em; margin: 0 0 .2em; }}
h2 {{ font-size: 1.1em; margin: 1.4em 0 .4em; }}
table {{ border-collapse: collapse; background: #fff; }}
th, td {{ border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }}
th {{ background: #f0f0f0; }}
td.gtid {{ font-family: ui-monospace, monospace; font-size: .9em; }}
tr.primary td {{ background: #eef6ff; font-weight: 600; }}
.passing {{ color: #176b2c; }} .failing {{ color: #b3261e; font-weight: 600; }}
#state {{ color: #666; }} #state.error {{ color: #b3261e; }}
</style>
</head>
<body>
<h1>{service}</h1>
<div id="state">loading&hellip;</div>
<h2>Primary lock</h2>
<div id="primary">&ndash;</div>
<h2>Nodes</h2>
<table><thead><tr><th>node</th><th>address</th><th>role</th><th>health</th>
<th>read_only</th><th>lag</th><th>GTID</th><th>error</th></tr></thead>
<tbody id="nodes"></tbody></table>
<h2>Newest snapshot</h2>
<div id="snapshot">&ndash;</div>
<h2>Failovers and switchovers</h2>
<table><thead><tr><th>time (UTC)</th><th>kind</th><th>from</th><th>to</th><th>took</th>
<th>reason</th></tr></thead><tbody id="history"></tbody></table>
<script>
"use strict";
const refreshMs = {refresh_ms};
function cell(row, text, cls) {{
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}}
function bytes(n) {{
  if (!n) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {{ n /= 1024; i++; }}
  return n.toFixed(i ? 1 : 0) + " " + units[i];
}}
function render(c) {{
  document.getElementById("primary").textContent = c.primary || "(free: no primary)";
  const nodes = document.getElementById("nodes");
  nodes.replaceChildren();
  for (const n of c.nodes) {{
    const tr = document.createElement("tr");
    if (n.role === "primary") tr.className = "primary";
    cell(tr, n.name);
    cell(tr, n.address + ":" + n.port);
    cell(tr, n.role);
    cell(tr, n.healthy ? "passing" : "failing", n.healthy ? "passing" : "failing");
    cell(tr, n.read_only === null ? "-" : (n.read_only ? "ON" : "OFF"));
    cell(tr, n.lag_seconds === null ? "-" : n.lag_seconds + "s");
    cell(tr, n.gtid || "(empty)", "gtid");
    cell(tr, n.error || "");
    nodes.appendChild(tr);
  }}
  const s = c.snapshot;
  document.getElementById("snapshot").textContent = s
    ? s.id + " taken " + s.dt + " by " + (s.node || "?") + ", " + bytes(s.size) +
      (s.duration_ms ? " in " + (s.duration_ms / 1000).toFixed(1) + " s" : "") +
      ", gtid " + (s.gtid || "?")
    : "(none)";
  const history = document.getElementById("history");
  history.replaceChildren();
  for (const h of c.history.slice().reverse().slice(0, 20)) {{
    const tr = document.createElement("tr");
    cell(tr, h.time);
    cell(tr, h.kind);
    cell(tr, h.old || "(none)");
    cell(tr, h.new);
    cell(tr, h.duration_ms + " ms");
    cell(tr, h.reason);
    history.appendChild(tr);
  }}
  if (!c.history.length) {{
    const tr = document.createElement("tr");
    cell(tr, "(none)");
    history.appendChild(tr);
  }}
}}
async function refresh() {{
  const state = document.getElementById("state");
  try {{
    const r = await fetch("/cluster", {{ cache: "no-store" }});
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || r.status);
    render(body);
    state.className = "";
    state.textContent = "updated " + new Date().toISOString().replace("T", " ").slice(0, 19) +
      " UTC; refreshes every " + refreshMs / 1000 + " s";
  }} catch (e) {{
    state.className = "error";
    state.textContent = "cannot read the cluster: " + e.message;
  }}
  setTimeout(refresh, refreshMs);
}}
refresh();
</script>
</body>
</html>
)HTML";

}  // namespace

std::string StatusPage(const std::string& service, std::chrono::milliseconds refresh) {
  return fmt::format(kPage, fmt::arg("service", storage::XmlEscape(service)),
                     fmt::arg("refresh_ms", std::max<int64_t>(refresh.count(), 1000)));
}

}  // namespace manage::serve
