// Progressive enhancement for the server-rendered console: live queue, relative times, ledger proof checks.
import { verifyEntry } from './merkle.js';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function relative(date) {
  const s = Math.round((date.getTime() - Date.now()) / 1000);
  const abs = Math.abs(s);
  const [n, unit] = abs < 60 ? [abs, 'second'] : abs < 3600 ? [Math.round(abs / 60), 'minute'] : abs < 86400 ? [Math.round(abs / 3600), 'hour'] : [Math.round(abs / 86400), 'day'];
  return new Intl.RelativeTimeFormat('en', { numeric: 'auto' }).format(s < 0 ? -n : n, unit);
}

function refreshTimes() {
  for (const t of $$('time[data-relative]')) {
    const d = new Date(t.getAttribute('datetime'));
    t.textContent = relative(d);
    t.title = d.toLocaleString();
  }
  for (const t of $$('time[data-countdown]')) {
    const d = new Date(t.getAttribute('datetime'));
    t.textContent = d.getTime() <= Date.now() ? 'expired' : relative(d);
    t.title = d.toLocaleString();
  }
}

function clickableRows() {
  for (const row of $$('tr[data-href]')) {
    row.onclick = (ev) => {
      if (ev.target.closest('a, button, input')) return;
      location.href = row.dataset.href;
    };
  }
}

async function refreshQueue() {
  const res = await fetch('/console/api/queue', { credentials: 'same-origin' });
  if (!res.ok) return;
  const { count, rows } = await res.json();
  for (const badge of $$('[data-pending-count]')) {
    badge.textContent = String(count);
    badge.classList.toggle('zero', count === 0);
  }
  const body = $('[data-queue]');
  if (body) {
    const before = new Set($$('tr[data-href]', body).map((r) => r.dataset.href));
    body.innerHTML = rows;
    for (const r of $$('tr[data-href]', body)) if (!before.has(r.dataset.href)) r.classList.add('new');
    clickableRows();
    refreshTimes();
  }
}

/** Re-renders the delivery status of the notices for the request on screen. */
async function refreshNotices(id) {
  const card = $('[data-notices]');
  const res = await fetch(`/console/api/approvals/${encodeURIComponent(id)}`, { credentials: 'same-origin' });
  if (!card || !res.ok) return;
  const { notices } = await res.json();
  const list = document.createElement('ul');
  list.className = 'notices';
  for (const n of notices) {
    const li = document.createElement('li');
    const pill = document.createElement('span');
    pill.className = `pill small ${n.status === 'delivered' ? 'approved' : n.status === 'failed' ? 'rejected' : 'pending'}`;
    pill.textContent = n.status;
    const small = document.createElement('small');
    small.textContent = `${n.attempts} attempt${n.attempts === 1 ? '' : 's'}${n.lastError ? ` · ${n.lastError}` : ''}`;
    li.append(pill, ` ${n.channel}`, small);
    list.append(li);
  }
  card.querySelector('ul.notices, p')?.replaceWith(list);
}

function live() {
  if (!$('[data-pending-count]')) return;
  const events = new EventSource('/console/events');
  const indicator = $('[data-live]');
  events.onopen = () => indicator?.classList.remove('off');
  events.onerror = () => indicator?.classList.add('off');
  const requestId = location.pathname.match(/^\/console\/requests\/([^/]+)$/)?.[1];
  const onChange = (ev) => {
    void refreshQueue();
    const { id } = JSON.parse(ev.data);
    // The request on screen was decided or carried out: show it (unless this reviewer is typing a comment).
    if (requestId && id === decodeURIComponent(requestId) && !$('[data-decide] textarea')?.value) location.reload();
  };
  for (const type of ['created', 'decided', 'voted', 'used']) events.addEventListener(type, onChange);
  events.addEventListener('notice', (ev) => {
    if (requestId && JSON.parse(ev.data).id === decodeURIComponent(requestId)) void refreshNotices(decodeURIComponent(requestId));
  });
}

function checkRow(c) {
  const li = document.createElement('li');
  li.className = c.ok ? 'ok' : 'fail';
  li.innerHTML = `<span class="mark">${c.ok ? '✓' : '✗'}</span><span><strong></strong><small class="mono"></small></span>`;
  li.querySelector('strong').textContent = c.label;
  li.querySelector('small').textContent = c.detail ?? '';
  return li;
}

function showPayload(view, name, bytes) {
  const details = document.createElement('details');
  details.className = 'payload';
  const summary = document.createElement('summary');
  summary.textContent = `Payload "${name}" (${bytes.length} bytes)`;
  const pre = document.createElement('pre');
  pre.className = 'code small';
  const text = new TextDecoder().decode(bytes);
  try {
    pre.textContent = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    pre.textContent = text;
  }
  details.append(summary, pre);
  $('[data-record]', view).after(details);
}

async function ledgerView() {
  const view = $('[data-ledger-view]');
  const q = view?.dataset.query;
  if (!view || !q) return;
  const res = await fetch(`/console/api/ledger/entry?q=${encodeURIComponent(q)}`, { credentials: 'same-origin' });
  const body = await res.json();
  if (!res.ok) {
    view.innerHTML = '<div class="alert error"></div>';
    view.firstChild.textContent = body.error?.message ?? `HTTP ${res.status}`;
    return;
  }
  view.innerHTML = `<div class="grid"><div class="col-main"><section class="card"><h2>Entry #<span data-index></span> <span class="pill small" data-type></span></h2>
    <dl class="kv" data-links></dl><pre class="code" data-record></pre></section></div>
    <aside class="col-side"><section class="card"><h2>Proof checked in your browser</h2><ul class="checks" data-checks><li class="pending">Verifying…</li></ul>
    <p class="small muted" data-verdict></p></section></aside></div>`;
  $('[data-index]', view).textContent = String(body.index);
  $('[data-type]', view).textContent = body.record.type;
  $('[data-record]', view).textContent = JSON.stringify(body.record, null, 2);
  const links = $('[data-links]', view);
  for (const l of body.record.links ?? []) {
    const dt = document.createElement('dt');
    dt.textContent = l.rel;
    const dd = document.createElement('dd');
    const a = document.createElement('a');
    a.href = `/console/ledger?q=${encodeURIComponent(l.index ?? l.id)}`;
    a.textContent = l.index !== undefined ? `entry #${l.index}` : l.id;
    dd.append(a);
    links.append(dt, dd);
  }
  body.payloads = {};
  for (const [name, digest] of Object.entries(body.record.payloads ?? {})) {
    const r = await fetch(`/console/api/ledger/payload?digest=${encodeURIComponent(digest)}`, { credentials: 'same-origin' });
    const bytes = r.ok ? new Uint8Array(await r.arrayBuffer()) : null;
    body.payloads[name] = { bytes };
    if (bytes) showPayload(view, name, bytes);
  }
  const checks = await verifyEntry(body);
  const list = $('[data-checks]', view);
  list.replaceChildren(...checks.map(checkRow));
  const all = checks.every((c) => c.ok);
  view.dataset.verified = all ? 'true' : 'false';
  $('[data-verdict]', view).textContent = all
    ? `Entry #${body.index} is in the ledger as signed at tree size ${body.size}. Nothing here relied on trusting the server's word.`
    : 'Verification FAILED: the entry, the proof or the checkpoint does not check out.';
}

refreshTimes();
setInterval(refreshTimes, 5000);
clickableRows();
live();
void ledgerView();
