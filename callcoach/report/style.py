"""The report's style sheet: system fonts, quiet greys, color only where it means something
(severity, speaker, feedback), and a print layout that keeps cards and rows whole."""

CSS = """
:root { --ink: #1f2430; --muted: #6b7380; --line: #e3e6ea; --soft: #f6f7f9;
        --info: #2f6fdb; --warning: #c27c0e; --critical: #d0353b; --ok: #2e8b5e;
        --agent: #4a6fa5; --customer: #8a5cb8; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #fff; color: var(--ink); line-height: 1.45;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 28px 20px 40px; }
h1 { font-size: 22px; font-weight: 650; margin: 0 0 14px; letter-spacing: -0.01em; }
h2 { font-size: 15px; font-weight: 650; margin: 0 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
section { margin-top: 26px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; }
.fact span, .qa > span { display: block; font-size: 11px; text-transform: uppercase; letter-spacing: .06em;
                         color: var(--muted); }
.fact strong { font-weight: 600; }
.status { padding: 1px 8px; border-radius: 10px; font-size: 12.5px; background: var(--soft); }
.status-complete { background: #e3f3ea; color: #1f6b46; }
.status-incomplete, .status-live { background: #fdf0d9; color: #8a5a06; }
.status-damaged { background: #fbe3e4; color: #9b2226; }
.qa { margin-top: 14px; padding: 10px 14px; background: var(--soft); border-radius: 6px; }
.qa .score { font-size: 15px; }
.qa p { margin: 4px 0 0; white-space: pre-wrap; }
.banner { margin-top: 16px; padding: 10px 14px; border-radius: 6px; border-left: 4px solid; }
.banner.damaged { background: #fdeced; border-color: var(--critical); }
.banner.incomplete { background: #fdf4e3; border-color: var(--warning); }
svg.timeline { display: block; width: 100%; height: auto; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin-top: 6px; font-size: 12px; color: var(--muted); }
.swatch { display: inline-block; width: 14px; height: 8px; border-radius: 2px; margin-right: 6px;
          vertical-align: middle; }
.swatch.dashed { height: 0; border-top: 2px dashed #7a8290; border-radius: 0; }
.swatch.withheld { height: 0; border-top: 2px dotted #b4bac4; border-radius: 0; }
.swatch.gap { background: repeating-linear-gradient(135deg, #7a8290 0 1px, #eceef1 1px 4px);
             border: 1px solid #7a8290; }
.swatch.band { background: #e2f3e8; border: 1px solid #b9dfc7; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: left; padding: 5px 10px 5px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
table.metrics { width: auto; min-width: 50%; }
table.metrics th { font-weight: 500; color: var(--muted); padding-right: 28px; }
table.list th { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
                font-weight: 600; }
.dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 7px; }
.transcript { display: flex; flex-direction: column; }
.line { display: grid; grid-template-columns: 46px 78px 1fr auto; gap: 0 10px; padding: 5px 8px;
        border-radius: 4px; break-inside: avoid; }
.line.customer { background: #faf8fd; }
.line p { margin: 0; }
.time { color: var(--muted); font-variant-numeric: tabular-nums; font-size: 12.5px; padding-top: 1px; }
.who { font-weight: 600; font-size: 12.5px; padding-top: 1px; }
.agent .who { color: var(--agent); }
.customer .who { color: var(--customer); }
.meta { color: var(--muted); font-size: 12px; white-space: nowrap; padding-top: 1px; }
.prompt { margin: 6px 0 8px 142px; padding: 8px 12px; border-left: 4px solid var(--info); border-radius: 6px;
          background: #f2f6fe; break-inside: avoid; }
.prompt.sev-warning { border-color: var(--warning); background: #fdf6ea; }
.prompt.sev-critical { border-color: var(--critical); background: #fdf0f0; }
.prompt p { margin: 3px 0 0; }
.prompt.withheld { border-left: 4px dotted #b4bac4; background: #f6f7f9; color: #7a8290; }
.prompt.withheld .tag { background: #e6e8ec; color: #7a8290; }
.card-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 10px; }
.tag { font-size: 12px; font-weight: 700; color: var(--muted); }
.title { font-size: 14.5px; }
.when { font-size: 12px; color: var(--muted); }
.phrase { font-style: italic; }
.small { font-size: 12.5px; color: #4b5260; }
.fb { font-weight: 600; }
.fb-done { color: var(--ok); }
.fb-unhelpful { color: var(--critical); }
.fb-none { color: var(--muted); font-weight: 400; }
pre.note { margin: 0; padding: 12px 14px; background: var(--soft); border-radius: 6px; white-space: pre-wrap;
           font: 13px/1.5 ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
ul.checklist { list-style: none; padding: 0; margin: 0; }
ul.checklist li { padding: 4px 0 4px 26px; position: relative; }
ul.checklist li::before { content: ""; position: absolute; left: 2px; top: 7px; width: 13px; height: 13px;
                          border: 1.5px solid #9aa1ab; border-radius: 3px; }
ul.notices { padding-left: 0; list-style: none; margin: 0; }
ul.notices li { padding: 3px 0; }
ul.notices .time { display: inline-block; width: 46px; }
ul.notices strong { margin-right: 8px; }
.empty { color: var(--muted); font-style: italic; margin: 0; }
footer { margin-top: 34px; padding-top: 10px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
@media print {
  @page { margin: 14mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  section { break-inside: auto; }
  h2 { break-after: avoid; }
  tr, .prompt, .line, pre.note, svg.timeline { break-inside: avoid; }
}
@media (max-width: 640px) {
  .line { grid-template-columns: 40px 1fr; }
  .line p, .line .meta { grid-column: 2; }
  .prompt { margin-left: 0; }
}
"""
