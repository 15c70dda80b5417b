// The table view: every contract of the asset, filtered, sorted and paged; pages above a few
// hundred rows are windowed. Live changes patch only the cells whose text changed.
import { NF, esc } from './format.js';
import { $, storage, togglePopover, fillWindow, onScrollFrame } from './dom.js';
import { ui, store, metrics, page, serverNow } from './state.js';
import { COLUMNS, COLUMN, PRESETS } from './columns.js';
import { premiumUnit } from './prices.js';
import { setCell, ageTitle, isOld } from './cells.js';
import { filterAndSort, windowRange } from './store.js';

export const table = {
  el: document.getElementById('options-table'),
  wrap: document.querySelector('#view-table .table-wrap'),
  tbody: document.querySelector('#options-table tbody'),
  thead: document.querySelector('#options-table thead tr'),
  list: [], // symbols of the current page, in order
  rendered: new Map(), // symbol -> tr actually in the DOM
  windowed: false, // only the rows around the scroll position are in the DOM
  first: 0, // windowed: index in `list` of the first row in the DOM
  last: 0,
  rowHeight: 33, // measured after the first windowed render
  dirty: false, // sort key of a shown row moved: re-sort soon
};

// Pages above this many rows are windowed: the DOM holds what is on screen plus a margin, so
// a 2,500-row page costs what a 60-row page does to lay out, patch and re-sort.
// `localStorage.tableWindowing = 'off'` renders every row, for `make bench` to compare against.
const WINDOW_ABOVE = storage.get('tableWindowing') === 'off' ? Infinity : 120;
const OVERSCAN = 15;

export function visibleColumns() {
  return COLUMNS.filter((c) => ui.visible[c.key]);
}

function renderTableHead() {
  table.thead.innerHTML = visibleColumns()
    .map((c) => {
      const sorted = ui.sort.key === c.key;
      const aria = sorted ? (ui.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
      const unit = c.flash || c.key === 'spread' ? ` (${premiumUnit()})` : '';
      return `<th class="sortable ${c.cls || ''}${sorted ? ' sorted' : ''}" data-col="${c.key}"${sorted ? ` data-dir="${ui.sort.dir}"` : ''} aria-sort="${aria}" tabindex="0" title="${esc(c.title || `Sort by ${c.label}`)}${unit}">${c.label}</th>`;
    })
    .join('');
}

function rowHtml(r, cols) {
  return `<tr data-symbol="${esc(r.symbol)}">` +
    cols.map((c) => `<td class="${c.cls || ''}" data-col="${c.key}">${c.html ? c.html(r) : esc(c.text(r))}</td>`).join('') +
    '</tr>';
}

/** The current page's symbols, filtered and sorted, plus the pager text. */
function pageList() {
  const col = COLUMN[ui.sort.key] || COLUMN.volume;
  const rows = filterAndSort(store.rows, ui, col.get, ui.sort.dir);
  const size = ui.pageSize || rows.length || 1;
  const pages = Math.max(1, Math.ceil(rows.length / size));
  ui.page = Math.min(ui.page, pages - 1);
  const shown = rows.slice(ui.page * size, ui.page * size + size);
  $('page-info').textContent = rows.length
    ? `${NF[0].format(ui.page * size + 1)}–${NF[0].format(ui.page * size + shown.length)} of ${NF[0].format(rows.length)}`
    : '0 contracts';
  $('page-prev').disabled = ui.page === 0;
  $('page-next').disabled = ui.page >= pages - 1;
  return shown.map((r) => r.symbol);
}

export function renderTable() {
  const t0 = performance.now();
  renderTableHead();
  table.list = pageList();
  table.dirty = false;
  table.windowed = table.list.length > WINDOW_ABOVE;
  table.el.classList.toggle('windowed', table.windowed);
  const cols = visibleColumns();
  if (!table.list.length) {
    table.rendered = new Map();
    table.tbody.innerHTML = store.loaded && store.rows.size
      ? `<tr><td class="empty" colspan="${cols.length}">No contracts match these filters.</td></tr>`
      : '';
  } else if (table.windowed) {
    renderWindow(true);
  } else {
    table.tbody.innerHTML = table.list.map((s) => rowHtml(store.rows.get(s), cols)).join('');
    table.rendered = new Map();
    for (const tr of table.tbody.children) table.rendered.set(tr.dataset.symbol, tr);
  }
  metrics.fullRenders++;
  metrics.fullRenderMs += performance.now() - t0;
  if (!metrics.firstRenderAt && table.list.length) metrics.firstRenderAt = performance.now();
}

/** Windowed pages: puts the rows around the scroll position in the DOM. */
function renderWindow(force) {
  const n = table.list.length;
  const h = table.rowHeight;
  const view = table.wrap.clientHeight || window.innerHeight;
  const { first, last } = windowRange(table.wrap.scrollTop, h, view, n, OVERSCAN);
  if (!force && first === table.first && last === table.last) return;
  table.first = first;
  table.last = last;
  const cols = visibleColumns();
  const measured = fillWindow(table.tbody, {
    first, last, count: n, rowHeight: h, colspan: cols.length,
    row: (i) => rowHtml(store.rows.get(table.list[i]), cols),
  });
  table.rendered = new Map();
  for (const tr of table.tbody.querySelectorAll('tr[data-symbol]')) table.rendered.set(tr.dataset.symbol, tr);
  if (measured > 0 && Math.abs(measured - h) > 0.5) {
    table.rowHeight = measured;
    renderWindow(true);
  }
}

onScrollFrame(table.wrap, () => {
  if (table.windowed) renderWindow(false);
});

export function patchTable(changed) {
  const cols = visibleColumns();
  const sortCol = COLUMN[ui.sort.key];
  for (const [symbol, before] of changed) {
    const after = store.rows.get(symbol);
    if (!after) continue;
    if (before && sortCol && sortCol.get(before) !== sortCol.get(after)) table.dirty = true;
    const tr = table.rendered.get(symbol);
    if (!tr) continue;
    cols.forEach((c, i) => {
      setCell(tr.children[i], c.text(after), c.html ? c.html(after) : null, before && c.get(before), c.get(after), c.flash);
    });
  }
}

/** Re-sorts the page after live changes: rows are moved, not rebuilt, when the set is the same. */
export function reorderTable() {
  table.dirty = false;
  const list = pageList();
  const same = list.length === table.list.length && list.every((s, i) => s === table.list[i]);
  if (same) return;
  if (list.length !== table.list.length) {
    renderTable();
    return;
  }
  const previous = table.list;
  table.list = list;
  if (table.windowed) {
    renderWindow(true);
    return;
  }
  // The rows that left the page are given to those that joined it, their cells rewritten in
  // place: a re-sort builds no elements (and so paints no "new" content for the browser's
  // largest-paint record to take for the page still loading).
  const kept = new Set(list);
  const spare = previous.filter((s) => !kept.has(s)).map((s) => table.rendered.get(s));
  const cols = visibleColumns();
  const rendered = new Map();
  const frag = document.createDocumentFragment();
  for (const s of list) {
    let tr = table.rendered.get(s);
    if (!tr) {
      tr = spare.pop();
      const r = store.rows.get(s);
      tr.dataset.symbol = s;
      tr.className = isOld(r, serverNow()) ? 'old' : '';
      tr.title = '';
      // As rowHtml writes a cell (setCell would keep markup whose text happens to match).
      cols.forEach((c, i) => {
        const td = tr.children[i];
        td.className = c.cls || '';
        if (c.html) td.innerHTML = c.html(r);
        else td.textContent = c.text(r);
      });
    }
    rendered.set(s, tr);
    frag.appendChild(tr);
  }
  table.rendered = rendered;
  table.tbody.appendChild(frag);
}

// A shown row whose sort key moved is re-sorted at most every 2 s, so rows don't jump under
// the pointer on every tick.
setInterval(() => {
  if (ui.view === 'table' && table.dirty && ui.live && !document.querySelector('#options-table tbody tr:hover')) reorderTable();
}, 2000);

table.tbody.addEventListener('mouseover', (e) => {
  const tr = e.target.closest('tr[data-symbol]');
  if (tr) tr.title = ageTitle(store.rows.get(tr.dataset.symbol));
});

$('page-size').addEventListener('change', (e) => {
  ui.pageSize = parseInt(e.target.value, 10) || 0;
  ui.page = 0;
  storage.set('pageSize', String(ui.pageSize));
  renderTable();
});
// A row opens its expiry's chain at its strike (not when the click ends a text selection).
table.tbody.addEventListener('click', (e) => {
  const tr = e.target.closest('tr[data-symbol]');
  if (!tr || String(window.getSelection())) return;
  const r = store.rows.get(tr.dataset.symbol);
  if (!r) return;
  ui.expiry = r.expiry;
  ui.settle = r.settle;
  ui.view = 'chain';
  ui.focusStrike = r.strike;
  page.renderView();
});

$('page-prev').addEventListener('click', () => { ui.page = Math.max(0, ui.page - 1); renderTable(); });
$('page-next').addEventListener('click', () => { ui.page += 1; renderTable(); });
function sortBy(th) {
  const key = th.dataset.col;
  if (ui.sort.key === key) ui.sort.dir = ui.sort.dir === 'asc' ? 'desc' : 'asc';
  else ui.sort = { key, dir: ['symbol', 'type', 'expiry', 'strike'].includes(key) ? 'asc' : 'desc' };
  renderTable();
  const again = table.thead.querySelector(`th[data-col="${key}"]`);
  if (again && document.activeElement === document.body) again.focus();
}
table.thead.addEventListener('click', (e) => {
  const th = e.target.closest('th[data-col]');
  if (th) sortBy(th);
});
// Headers sort from the keyboard too (they are focusable).
table.thead.addEventListener('keydown', (e) => {
  const th = e.target.closest('th[data-col]');
  if (th && (e.key === 'Enter' || e.key === ' ')) {
    e.preventDefault();
    sortBy(th);
  }
});

// column visibility
export function renderColumnChecks() {
  $('column-checks').innerHTML = COLUMNS.map((c) =>
    `<label><input type="checkbox" data-col="${c.key}" ${ui.visible[c.key] ? 'checked' : ''}>${c.label}</label>`).join('');
  for (const b of document.querySelectorAll('.presets button')) {
    const p = PRESETS[b.dataset.preset];
    b.classList.toggle('active', COLUMNS.every((c) => ui.visible[c.key] === p.includes(c.key)));
  }
}
function setVisibility(vis) {
  ui.visible = vis;
  storage.set('columnVisibility', JSON.stringify(vis));
  renderColumnChecks();
  renderTable();
}
$('columns-btn').addEventListener('click', (e) => {
  e.stopPropagation();
  togglePopover('columns-panel', $('columns-btn'));
});
$('columns-panel').addEventListener('click', (e) => e.stopPropagation());
$('column-checks').addEventListener('change', (e) => {
  const key = e.target.dataset.col;
  if (!key) return;
  const vis = { ...ui.visible, [key]: e.target.checked };
  if (!Object.values(vis).some(Boolean)) vis.symbol = true;
  setVisibility(vis);
});
for (const b of document.querySelectorAll('.presets button')) {
  b.addEventListener('click', () => {
    const keep = PRESETS[b.dataset.preset];
    setVisibility(Object.fromEntries(COLUMNS.map((c) => [c.key, keep.includes(c.key)])));
  });
}
