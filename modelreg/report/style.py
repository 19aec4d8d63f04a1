"""The report's one stylesheet (allowed by its hash in each page's Content-Security-Policy)."""

STYLESHEET = """
:root{--ink:#1d2430;--muted:#5b6573;--line:#d9dee5;--bg:#f6f7f9;--card:#fff;--accent:#2f5fd0;--prod:#c2410c}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:12px 20px 32px}
header.top{background:#1d2430;padding:10px 20px}
header.top a{color:#fff;text-decoration:none;font-weight:600}
footer{max-width:1240px;margin:0 auto;padding:0 20px 24px;color:var(--muted);font-size:13px}
h1{font-size:26px;margin:12px 0 4px;overflow-wrap:anywhere}
h2{font-size:19px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
a{color:var(--accent)}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
p,li,.description{overflow-wrap:anywhere}
.meta,.crumbs{color:var(--muted);font-size:14px}
.warning{background:#fff4e5;border:1px solid #f3c98b;padding:6px 10px;border-radius:6px}
.empty{color:var(--muted);font-style:italic}
.scroll{overflow-x:auto;max-width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;vertical-align:top;padding:6px 10px;border-bottom:1px solid var(--line)}
th{background:#eef1f5;font-weight:600;white-space:nowrap}
tr:last-child td{border-bottom:0}
td.text{min-width:180px;max-width:360px;overflow-wrap:anywhere}
td.pairs{white-space:nowrap}
.key{color:var(--muted)}
.subject{color:var(--muted);font-size:13px}
.chip{display:inline-block;padding:0 8px;margin:2px 4px 2px 0;border-radius:10px;font-size:13px;
background:#e8eefc;color:#23408e;white-space:nowrap}
.chip.stage{background:#fde8dc;color:#8a2c06}
.chip.retired{background:#e5e7eb;color:#374151;vertical-align:middle}
tr:target{background:#fff8d6}
.timeline-box{padding:8px}
svg.timeline{display:block;width:100%;min-width:760px;height:auto}
time{white-space:nowrap}
svg text{font:13px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--ink)}
.row-label{text-anchor:end;font-weight:600}
.track{fill:#eef1f5}
.span-label{fill:#fff;font-weight:600;pointer-events:none}
.tick{stroke:#b8c0cc;stroke-dasharray:3 3}
.tick-label{fill:var(--muted)}
.c0{fill:#2f5fd0}.c1{fill:#0f8a6a}.c2{fill:#b45309}.c3{fill:#7c3aed}.c4{fill:#be123c}.c5{fill:#0e7490}
.c6{fill:#4d7c0f}.c7{fill:#a21caf}
rect.open{stroke:#1d2430;stroke-width:1.5}
ol.spans{columns:2 360px;font-size:14px;padding-left:24px}
.spans .target{font-weight:600}
details summary{cursor:pointer;color:var(--muted);font-size:14px;margin:6px 0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,360px),1fr));gap:14px}
figure.metric{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px}
figcaption{font-weight:600;margin:0 0 4px 4px;overflow-wrap:anywhere}
svg.chart{display:block;width:100%;height:auto}
.plot{fill:#fbfcfd;stroke:var(--line)}
.grid{stroke:#e6e9ee}
.y-label{text-anchor:end;fill:var(--muted)}
.x-label,.axis-title{text-anchor:middle;fill:var(--muted)}
.trend{fill:none;stroke:var(--accent);stroke-width:2}
.point circle{fill:var(--accent)}
.point.held circle{fill:#fff;stroke:var(--prod);stroke-width:2.5}
.point.current circle{fill:var(--prod);stroke:#fff;stroke-width:1.5}
.mark-label{fill:var(--prod);font-weight:700}
.legend{font-size:14px;color:var(--muted)}
.dot{display:inline-block;width:11px;height:11px;border-radius:50%;vertical-align:-1px;margin-left:8px}
.dot.held{border:2.5px solid var(--prod);background:#fff}
.dot.current{background:var(--prod)}
[hidden]{display:none}
.filter input,.pickers select{font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:6px}
.filter input{width:min(100%,320px)}
table.compare tr.same td{color:var(--muted)}
table.compare td.delta{font-weight:600;white-space:nowrap}
@media (max-width:640px){
 main{padding:8px 10px 24px}
 h1{font-size:22px}
 th,td{padding:5px 7px}
 td.text{min-width:140px}
}
""".strip()
