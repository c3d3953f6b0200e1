// The one page of `swlab dashboard`: self-contained HTML with inline CSS and script and no
// external resource, so that it works offline and its Content-Security-Policy can forbid
// everything but itself. The script follows /events (server-sent events) and posts actions
// to /api/action with the admin credential the user types in; nothing secret is in the page.
import { createHash } from 'node:crypto'

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #6e7781; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 12px 20px 40px; }
h1 { font-size: 20px; margin: 4px 0 8px; }
h2 { font-size: 16px; margin: 18px 0 6px; }
header { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: baseline; border-bottom: 1px solid var(--line); padding-bottom: 8px; }
.kv { white-space: nowrap; }
.kv b { font-variant-numeric: tabular-nums; }
#credential { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin: 10px 0; }
#credential input { width: 12em; }
table { border-collapse: collapse; min-width: 50%; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td { font-variant-numeric: tabular-nums; }
td[data-field="actions"], td[data-field="id"], td[data-field="move"] { white-space: nowrap; }
button { font: inherit; padding: 1px 8px; margin: 1px 2px 1px 0; cursor: pointer; }
.good { color: var(--ok); }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.muted { color: var(--muted); }
[data-field="action-error"] { color: var(--bad); font-weight: 600; }
[data-field="cluster-error"] { color: var(--bad); font-weight: 600; }
tr[data-process="dead"] td:first-child, tr[data-process="paused"] td:first-child { text-decoration: line-through; }
#events { list-style: none; padding: 0; margin: 0; font-family: ui-monospace, monospace; font-size: 12.5px; }
#events li { padding: 1px 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#events time { display: inline-block; width: 6.5em; color: var(--muted); }
#events .source { display: inline-block; width: 9em; overflow: hidden; vertical-align: bottom; }
#events .event { display: inline-block; width: 17em; font-weight: 600; }
`

// Plain ES2017 without template literals: this text is itself inside one.
const SCRIPT = String.raw`
'use strict';
(function () {
  var ACTIONS = ['kill', 'pause', 'resume', 'start', 'partition'];
  var $ = function (selector) { return document.querySelector(selector); };
  var connection = $('[data-field="connection"]');
  var actionResult = $('[data-field="action-result"]');
  var actionError = $('[data-field="action-error"]');
  var nodeIds = [];

  function setText(el, value) {
    var s = value === null || value === undefined ? '' : String(value);
    if (el.textContent !== s) el.textContent = s;
  }
  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }
  function setField(root, name, value, cls) {
    var el = field(root, name);
    if (!el) return;
    setText(el, value);
    if (cls !== undefined && el.className !== cls) el.className = cls;
  }
  function addCell(row, name) {
    var td = document.createElement('td');
    td.setAttribute('data-field', name);
    row.appendChild(td);
    return td;
  }
  function addButton(parent, action, label, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('data-action', action);
    b.textContent = label;
    b.addEventListener('click', onClick);
    parent.appendChild(b);
    return b;
  }
  // Rows are kept per key and updated in place, so a click or an open select survives updates.
  function syncRows(tbody, attr, items, keyOf, create, update) {
    var existing = new Map();
    Array.prototype.forEach.call(tbody.children, function (tr) { existing.set(tr.getAttribute(attr), tr); });
    var keep = new Set();
    items.forEach(function (item, i) {
      var key = keyOf(item);
      keep.add(key);
      var tr = existing.get(key);
      if (!tr) {
        tr = document.createElement('tr');
        tr.setAttribute(attr, key);
        create(tr, item);
      }
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
      update(tr, item);
    });
    existing.forEach(function (tr, key) { if (!keep.has(key)) tr.remove(); });
  }
  function yesNo(value) { return value ? 'yes' : 'no'; }
  function seconds(ms) { return (ms / 1000).toFixed(1) + ' s'; }

  function renderHeader(s) {
    var header = $('header');
    setField(header, 'name', s.name);
    setField(header, 'quorum', s.ok ? yesNo(s.quorum) : 'unknown', s.quorum ? 'good' : 'bad');
    setField(header, 'term', s.term);
    setField(header, 'epoch', s.epoch);
    setField(header, 'leader', s.leader || 'none', s.leader ? '' : 'bad');
    setField(header, 'witness', s.witness.kind + (s.witness.holder ? ' (held by ' + s.witness.holder + ')' : ''));
    setField(header, 'uptime', seconds(s.nowMs));
    setField(document, 'cluster-error', s.ok ? '' : 'cluster status unavailable: ' + s.error);
  }

  function renderNodes(s) {
    syncRows($('#nodes tbody'), 'data-node', s.nodes, function (n) { return n.id; }, function (tr, n) {
      ['id', 'process', 'state', 'role', 'term', 'epoch', 'quorum', 'serving', 'csvs', 'registrations', 'partitioned'].forEach(function (name) { addCell(tr, name); });
      var actions = addCell(tr, 'actions');
      ACTIONS.forEach(function (action) {
        addButton(actions, action, action, function () { act({ action: action, node: n.id }); });
      });
    }, function (tr, n) {
      tr.setAttribute('data-process', n.process);
      setField(tr, 'id', n.id + (n.leader ? ' ★' : ''));
      setField(tr, 'process', n.process, n.process === 'running' ? 'good' : n.process === 'paused' ? 'warn' : 'bad');
      setField(tr, 'state', n.state, n.state === 'up' ? 'good' : 'bad');
      setField(tr, 'role', n.role);
      setField(tr, 'term', n.term);
      setField(tr, 'epoch', n.epoch);
      setField(tr, 'quorum', yesNo(n.quorum), n.quorum ? 'good' : 'bad');
      setField(tr, 'serving', yesNo(n.serving), n.serving ? 'good' : 'bad');
      setField(tr, 'csvs', n.servingCsvs.join(', ') || '-');
      setField(tr, 'registrations', n.registrations);
      setField(tr, 'partitioned', n.partitionedFrom.join(', ') || '-', n.partitionedFrom.length ? 'warn' : 'muted');
    });
  }

  function renderCsvs(s) {
    syncRows($('#csvs tbody'), 'data-csv', s.csvs, function (c) { return c.name; }, function (tr) {
      ['name', 'owner', 'served-by', 'redirected'].forEach(function (name) { addCell(tr, name); });
    }, function (tr, c) {
      setField(tr, 'name', c.name);
      setField(tr, 'owner', c.owner || 'none', c.owner ? '' : 'bad');
      setField(tr, 'served-by', c.servedBy.join(', ') || 'nobody', c.servedBy.length === 1 ? '' : 'bad');
      setField(tr, 'redirected', yesNo(c.redirected));
    });
  }

  function syncOptions(select, ids) {
    var current = Array.prototype.map.call(select.options, function (o) { return o.value; }).join(',');
    if (current === ids.join(',')) return;
    var chosen = select.value;
    while (select.firstChild) select.removeChild(select.firstChild);
    ids.forEach(function (id) {
      var option = document.createElement('option');
      option.value = id;
      option.textContent = id;
      select.appendChild(option);
    });
    if (ids.indexOf(chosen) >= 0) select.value = chosen;
  }

  function renderClients(s) {
    syncRows($('#clients tbody'), 'data-client', s.clients, function (c) { return c.name; }, function (tr, c) {
      ['name', 'data-node', 'witness-node', 'failovers', 'last-failover', 'last-notification', 'state'].forEach(function (name) { addCell(tr, name); });
      var move = addCell(tr, 'move');
      var select = document.createElement('select');
      select.setAttribute('data-field', 'move-to');
      select.setAttribute('aria-label', 'move ' + c.name + ' to');
      move.appendChild(select);
      addButton(move, 'client-move', 'client-move', function () { act({ action: 'client-move', client: c.name, to: select.value }); });
    }, function (tr, c) {
      setField(tr, 'name', c.name);
      setField(tr, 'data-node', c.dataNode || '-');
      setField(tr, 'witness-node', c.witnessNode || '-');
      setField(tr, 'failovers', c.failovers);
      setField(tr, 'last-failover', c.lastFailoverMs === null ? '-' : c.lastFailoverMs + ' ms (' + c.lastFailoverCause + ')');
      setField(tr, 'last-notification', c.lastNotification || '-');
      setField(tr, 'state', c.state + (c.lastError ? ': ' + c.lastError : ''), c.state === 'working' ? 'good' : c.state === 'failing-over' || c.state === 'stopped' ? 'warn' : 'bad');
      syncOptions(field(tr, 'move-to'), nodeIds);
    });
  }

  function renderEvents(s) {
    var list = $('#events');
    var items = s.events.map(function (e) {
      var li = document.createElement('li');
      li.setAttribute('data-event', e.event);
      var time = document.createElement('time');
      time.textContent = '+' + seconds(e.atMs);
      var source = document.createElement('span');
      source.className = 'source';
      source.textContent = e.source;
      var name = document.createElement('span');
      name.className = 'event';
      name.textContent = e.event;
      li.append(time, source, name, document.createTextNode(e.text));
      li.title = e.source + ' ' + e.event + ' ' + e.text;
      return li;
    });
    list.replaceChildren.apply(list, items);
  }

  function render(s) {
    nodeIds = s.nodes.map(function (n) { return n.id; });
    renderHeader(s);
    renderNodes(s);
    renderCsvs(s);
    renderClients(s);
    renderEvents(s);
  }

  function act(body) {
    var label = body.action + (body.node ? ' ' + body.node : '') + (body.client ? ' ' + body.client + ' → ' + body.to : '');
    setText(actionError, '');
    var user = $('#admin-user').value;
    var password = $('#admin-password').value;
    if (!password) {
      setText(actionError, label + ': enter the admin password first');
      return;
    }
    setText(actionResult, label + ': …');
    fetch('/api/action', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-swlab-user': user, 'x-swlab-password': password },
      body: JSON.stringify(body),
    })
      .then(function (r) {
        return r.json().catch(function () { return { ok: false, error: 'HTTP ' + r.status }; });
      })
      .then(function (reply) {
        if (reply.ok) {
          setText(actionResult, label + ': done' + (typeof reply.affected === 'number' ? ' (' + reply.affected + ' registration(s))' : ''));
        } else {
          setText(actionResult, '');
          setText(actionError, label + ': ' + reply.error);
        }
      })
      .catch(function (err) {
        setText(actionResult, '');
        setText(actionError, label + ': ' + err.message);
      });
  }

  $('#credential').addEventListener('submit', function (e) { e.preventDefault(); });
  $('[data-action="heal"]').addEventListener('click', function () { act({ action: 'heal' }); });

  // EventSource reconnects by itself after a network error, but gives up on an HTTP error (the
  // server's bound on event streams): then try again a little later.
  function connect() {
    var source = new EventSource('/events');
    source.addEventListener('state', function (e) {
      try {
        render(JSON.parse(e.data));
        setText(connection, 'live');
        connection.className = 'good';
      } catch (err) {
        setText(connection, 'bad update: ' + err.message);
        connection.className = 'bad';
      }
    });
    source.onerror = function () {
      setText(connection, 'disconnected, reconnecting…');
      connection.className = 'bad';
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
  }
  connect();
})();
`

function sha256Base64(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64')
}

/** Only the page's own inline style and script, and requests to its own origin. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${sha256Base64(STYLE)}'`,
  `script-src 'sha256-${sha256Base64(SCRIPT)}'`,
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The page; adminUser only prefills the user field (the password is never in the page). */
export function renderDashboardPage(adminUser: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>swlab dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>swlab dashboard <span data-field="name"></span></h1>
  <span class="kv">quorum <b data-field="quorum">…</b></span>
  <span class="kv">term <b data-field="term">…</b></span>
  <span class="kv">epoch <b data-field="epoch">…</b></span>
  <span class="kv">leader <b data-field="leader">…</b></span>
  <span class="kv">witness <b data-field="witness">…</b></span>
  <span class="kv">since start <b data-field="uptime">…</b></span>
  <span class="kv">updates <b data-field="connection">connecting…</b></span>
</header>
<p data-field="cluster-error" role="status"></p>
<form id="credential" autocomplete="off">
  <label>admin user <input id="admin-user" name="user" autocomplete="username" value="${escapeHtml(adminUser)}"></label>
  <label>password <input id="admin-password" name="password" type="password" autocomplete="current-password"></label>
  <button type="button" data-action="heal">heal network</button>
  <span data-field="action-result" role="status"></span>
  <span data-field="action-error" role="alert"></span>
</form>
<h2>Nodes</h2>
<table id="nodes">
<thead><tr><th>node</th><th>process</th><th>member</th><th>role</th><th>term</th><th>epoch</th><th>quorum</th><th>serving</th><th>CSVs served</th><th>witness registrations</th><th>partitioned from</th><th>actions</th></tr></thead>
<tbody></tbody>
</table>
<h2>CSV owners</h2>
<table id="csvs">
<thead><tr><th>CSV</th><th>owner</th><th>served by</th><th>redirected</th></tr></thead>
<tbody></tbody>
</table>
<h2>Clients</h2>
<table id="clients">
<thead><tr><th>client</th><th>data node</th><th>witness node</th><th>failovers</th><th>last failover</th><th>last notification</th><th>state</th><th>move to</th></tr></thead>
<tbody></tbody>
</table>
<h2>Recent events</h2>
<ol id="events"></ol>
<script>${SCRIPT}</script>
</body>
</html>
`
}
