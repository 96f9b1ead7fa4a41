import { REPORT_CSS } from '../migrate/index.js';

/*
 * The live page: one self-contained document (inline style and script, no external asset, no framework).
 * The server pushes each new state over /events as one `state` message; the script redraws from it. Every
 * value goes in through textContent; only the charts, drawn and escaped by migrate's report code on the
 * server, go in as markup.
 */

const PAGE_CSS = `${REPORT_CSS}
.bar{height:14px;background:#e9ecef;border-radius:3px;overflow:hidden;margin:6px 0}.bar>div{height:100%;background:#2f9e44;width:0}
.pbar{display:inline-block;width:90px;height:8px;background:#e9ecef;vertical-align:middle;margin-right:6px}.pbar>span{display:block;height:100%;background:#1c7ed6}
#conn{color:#868e96;font-size:12px}
`;

const SCRIPT = `(function () {
  'use strict';
  var live = (window.stackshiftLive = { updates: 0, last: null });
  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) {
      var td = document.createElement('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? '' : String(c);
      tr.appendChild(td);
    });
    return tr;
  }
  function badge(s) { return el('span', s, 'st st-' + s); }
  function fill(id, rows, empty, width) {
    var body = $(id);
    body.replaceChildren.apply(body, rows.length ? rows : [row([empty])]);
    if (!rows.length) body.firstChild.firstChild.colSpan = width;
  }
  function until(at) {
    if (!at) return '';
    var s = Math.round((Date.parse(at) - Date.now()) / 1000);
    var left = s <= 0 ? 'now' : s < 120 ? 'in ' + s + ' s' : s < 7200 ? 'in ' + Math.round(s / 60) + ' min' : 'in ' + (s / 3600).toFixed(1) + ' h';
    return left + ' (' + at + ')';
  }
  function progress(p) {
    if (p === undefined || p === null) return '';
    var box = el('span');
    var bar = el('span', null, 'pbar');
    var inner = el('span');
    inner.style.width = Math.round(p * 100) + '%';
    bar.appendChild(inner);
    box.appendChild(bar);
    box.appendChild(document.createTextNode(Math.round(p * 100) + '%'));
    return box;
  }
  function render(d) {
    var s = d.status;
    var rep = s.report;
    document.title = 'Migration: ' + (rep ? rep.migration.name : 'waiting');
    $('name').textContent = rep ? rep.migration.name : 'waiting for the state file';
    $('status').replaceChildren(badge(rep ? rep.status : 'pending'));
    $('note').textContent = s.note || '';
    $('runner').textContent = s.runner
      ? 'run by pid ' + s.runner.pid + ' on ' + s.runner.host + ' since ' + s.runner.since + (s.runner.alive === false ? ' (process gone: run it again to resume)' : '')
      : 'no migrate run holds the state now';
    var pr = s.progress;
    $('bar').style.width = pr.percent + '%';
    $('progress').textContent = pr.done + ' of ' + pr.total + ' steps done (' + pr.percent + ' %)' +
      (pr.etaAt ? ', ETA ' + (pr.etaComplete ? '' : 'at least ') + until(pr.etaAt) : pr.done < pr.total ? ', ETA unknown' : '');
    fill('steps', s.steps.map(function (x) {
      return row([x.phase, x.id, x.kind, badge(x.status), progress(x.progress), x.etaAt ? until(x.etaAt) + (x.etaBasis ? ' [' + x.etaBasis + ']' : '') : '']);
    }), 'no steps yet', 6);
    $('chart-timeline').innerHTML = d.charts.timeline;
    $('chart-gates').innerHTML = d.charts.gates;
    $('chart-consistency').innerHTML = d.charts.consistency;
    fill('backfill', s.backfill.map(function (b) {
      return row([b.step, b.unitsDone + ' done, ' + b.unitsRunning + ' running', b.coverage === undefined ? '' : Math.round(b.coverage * 1000) / 10 + ' %', b.samples, b.requests, b.retries, b.rejectedSamples]);
    }), 'no backfill step has state yet', 7);
    fill('events', (rep ? rep.events : []).slice().reverse().map(function (e) {
      return row([e.at, e.phase, e.step, e.event, e.detail]);
    }), 'no events yet', 5);
    $('updates').textContent = String(live.updates);
  }
  var es = new EventSource('events');
  es.addEventListener('state', function (m) {
    var d = JSON.parse(m.data);
    live.updates++;
    live.last = d.status;
    render(d);
  });
  es.onopen = function () { $('conn').textContent = 'live'; };
  es.onerror = function () { $('conn').textContent = 'connection lost: retrying'; };
})();`;

export function renderStatusPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Migration: loading</title>
<style>
${PAGE_CSS}</style></head><body>
<h1>Migration: <span id="name">loading</span> <span id="status"></span></h1>
<p id="runner"></p><p id="note" class="empty"></p>
<div class="bar"><div id="bar"></div></div><p id="progress"></p>
<h2>Steps</h2>
<table><thead><tr><th>Phase</th><th>Step</th><th>Kind</th><th>Status</th><th>Progress</th><th>ETA</th></tr></thead><tbody id="steps"></tbody></table>
<h2>Phase timeline</h2><div id="chart-timeline"></div>
<h2>Gate figures</h2><div id="chart-gates"></div>
<h2>Consistency per signal</h2><div id="chart-consistency"></div>
<h2>Backfill</h2>
<table><thead><tr><th>Step</th><th>Units</th><th>Range covered</th><th>Samples</th><th>Requests</th><th>Retries</th><th>Rejected samples</th></tr></thead><tbody id="backfill"></tbody></table>
<h2>Recent events</h2>
<table><thead><tr><th>Time</th><th>Phase</th><th>Step</th><th>Event</th><th>Detail</th></tr></thead><tbody id="events"></tbody></table>
<p id="conn">connecting</p><p class="sub">updates received: <span id="updates">0</span>; <a href="metrics">/metrics</a>, <a href="api/state">/api/state</a></p>
<script>
${SCRIPT}
</script>
</body></html>
`;
}
