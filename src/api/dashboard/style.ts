// The dashboard's stylesheet: system fonts, one column of tables, status colours.
export const DASHBOARD_CSS = `:root {
  --bg: #f6f7f9;
  --panel: #ffffff;
  --ink: #1c2330;
  --muted: #667085;
  --line: #e3e6eb;
  --head: #14213d;
  --ok: #13795b;
  --ok-bg: #e3f5ed;
  --warn: #9a6200;
  --warn-bg: #fdf1d6;
  --bad: #c0262d;
  --bad-bg: #fde5e6;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
}
* { box-sizing: border-box; }
html { font-size: 14px; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  line-height: 1.4;
}
.top {
  display: flex;
  align-items: center;
  justify-content: space-between;
  padding: 10px 24px;
  background: var(--head);
  color: #fff;
}
.brand { font-size: 18px; font-weight: 600; letter-spacing: 0.2px; }
.version { font-size: 12px; font-weight: 400; opacity: 0.7; margin-left: 6px; }
.conn { display: flex; align-items: center; gap: 8px; font-size: 12px; opacity: 0.9; }
.conn .dot { width: 9px; height: 9px; border-radius: 50%; background: #999; }
.conn[data-state="live"] .dot { background: #3ddc97; }
.conn[data-state="down"] .dot { background: #ff6b6b; }
main { max-width: 1440px; margin: 0 auto; padding: 18px 24px 40px; }
h2 { font-size: 15px; font-weight: 600; margin: 22px 0 8px; }
.muted { color: var(--muted); }
.sub { color: var(--muted); font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card-title { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.5px; }
.card-total { font-size: 26px; font-weight: 600; margin: 2px 0; }
.card-detail { font-size: 12px; min-height: 17px; }
.card-detail .warn { color: var(--warn); }
.card-detail .bad { color: var(--bad); }
.card-detail .ok { color: var(--ok); }
.grid2 { display: grid; grid-template-columns: 3fr 2fr; gap: 18px; }
.grid2 > section { min-width: 0; }
table {
  width: 100%;
  border-collapse: separate;
  border-spacing: 0;
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: 8px;
  overflow: hidden;
}
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; font-weight: 600; color: var(--muted); background: #fafbfc; white-space: nowrap; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover td { background: #fafcff; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.col-status { width: 92px; }
.name { font-weight: 600; word-break: break-all; }
.code { font-family: var(--mono); font-size: 12.5px; word-break: break-all; }
.badge {
  display: inline-block;
  padding: 1px 8px;
  border-radius: 10px;
  font-size: 12px;
  font-weight: 600;
  white-space: nowrap;
}
.s-enabled, .s-ok, .s-UP { color: var(--ok); background: var(--ok-bg); }
.s-warning { color: var(--warn); background: var(--warn-bg); }
.s-disabled, .s-error, .s-DOWN { color: var(--bad); background: var(--bad-bg); }
tr.row-disabled td { background: #fffafa; }
.errors { margin: 4px 0 0; padding: 0; list-style: none; color: var(--bad); font-size: 12.5px; }
.errors.warn { color: var(--warn); }
.errors li { word-break: break-word; }
.errors li::before { content: "⚠ "; }
.server { display: flex; gap: 8px; align-items: baseline; }
.server + .server { margin-top: 3px; }
.server .badge { font-size: 11px; padding: 0 6px; min-width: 50px; text-align: center; }
.weight { color: var(--muted); font-size: 12px; white-space: nowrap; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { font-size: 12px; padding: 0 7px; border: 1px solid var(--line); border-radius: 10px; background: #f3f5f8; white-space: nowrap; }
.filter-bar { display: flex; align-items: center; gap: 12px; margin-top: 22px; }
#filter {
  flex: 0 1 460px;
  padding: 7px 10px;
  font: inherit;
  border: 1px solid var(--line);
  border-radius: 6px;
  background: var(--panel);
}
.empty { color: var(--muted); margin: 8px 2px; }
.note { color: var(--muted); font-size: 12px; margin: 6px 2px; }
@media (max-width: 1000px) {
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .grid2 { grid-template-columns: 1fr; }
}
`;
