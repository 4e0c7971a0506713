// The gallery's inline stylesheet and script. Static strings: no data is ever interpolated here (data reaches the
// script only through the escaped JSON block and the data files, and becomes text nodes and attributes).

/** Cards per page: the DOM never holds more, whatever the number of jobs. */
export const PAGE_SIZE = 200;

export const GALLERY_CSS = `
:root { color-scheme: light dark; --bg: #fafafa; --fg: #1d1d1f; --muted: #6b6b70; --card: #fff; --line: #ddd;
  --ok: #137333; --fail: #b3261e; --accent: #0b57d0; }
@media (prefers-color-scheme: dark) { :root { --bg: #121214; --fg: #e8e8ea; --muted: #9a9aa0; --card: #1c1c1f;
  --line: #333; --ok: #6dd58c; --fail: #f2b8b5; --accent: #a8c7fa; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { padding: 16px 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 8px; overflow-wrap: anywhere; }
.stats { display: flex; flex-wrap: wrap; gap: 6px 20px; margin: 0; }
.stats div { display: flex; gap: 6px; } .stats dt { color: var(--muted); } .stats dd { margin: 0; font-weight: 600; }
.reasons, .muted { color: var(--muted); }
.stopped { color: var(--fail); font-weight: 600; }
.histogram { max-width: 100%; height: auto; margin-top: 10px; }
.histogram rect { fill: var(--accent); } .histogram line { stroke: var(--line); }
.histogram text { fill: var(--muted); font-size: 11px; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 10px 20px; position: sticky; top: 0;
  background: var(--bg); border-bottom: 1px solid var(--line); z-index: 1; }
.toolbar button, .toolbar select, .toolbar input { font: inherit; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); cursor: pointer; }
.toolbar button[aria-pressed="true"] { border-color: var(--accent); color: var(--accent); font-weight: 600; }
.toolbar .spacer { flex: 1; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 14px; padding: 16px 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden;
  content-visibility: auto; contain-intrinsic-size: auto 420px; }
.card[hidden] { display: none; }
.thumb { display: block; aspect-ratio: 1; background: repeating-conic-gradient(#8881 0 25%, transparent 0 50%) 0 0 / 16px 16px; }
.thumb img { width: 100%; height: 100%; object-fit: contain; display: block; }
.thumb.empty { display: grid; place-items: center; color: var(--muted); }
.meta { padding: 10px 12px; }
.prompt { margin: 0 0 6px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 8.4em; overflow: auto; }
.badge { font-weight: 600; } .s-succeeded .badge { color: var(--ok); } .s-failed .badge { color: var(--fail); }
.msg { margin: 4px 0; color: var(--muted); overflow-wrap: anywhere; max-height: 5.6em; overflow: auto; font-size: 12px; }
.facts { display: grid; grid-template-columns: auto 1fr; gap: 0 8px; margin: 6px 0 0; font-size: 12px; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; overflow-wrap: anywhere; }
.extra a { margin-right: 6px; color: var(--accent); }
footer { padding: 10px 20px 24px; color: var(--muted); }
`;

/**
 * Paging, filters, sort and search. Runs from file:// under the page's CSP. The first page's cards are in the HTML;
 * everything else comes from the data files (gallery-data.ts) through <script src> and one global callback object.
 * Memory stays bounded: one page of cards in the DOM, at most MAX_CHUNKS job files kept, the per-job columns
 * (numbers) once a filter or sort needs them, and prompts only while a search scans them.
 */
export const GALLERY_JS = `
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('gallery-data').textContent || '{}');
  var pageSize = cfg.pageSize > 0 ? cfg.pageSize : 200;
  var chunkJobs = cfg.chunkJobs > 0 ? cfg.chunkJobs : 100;
  var promptChunk = cfg.promptChunk > 0 ? cfg.promptChunk : 5000;
  var n = cfg.jobs > 0 ? cfg.jobs : 0;
  var dir = String(cfg.dataDir || 'gallery') + '/';
  var MAX_CHUNKS = Math.ceil(pageSize) + 8;
  var main = document.querySelector('main');
  var statusButtons = Array.prototype.slice.call(document.querySelectorAll('[data-filter-status]'));
  var reasonSelect = document.getElementById('filter-reason');
  var modelSelect = document.getElementById('filter-model');
  var sortSelect = document.getElementById('sort');
  var search = document.getElementById('search');
  var pager = document.getElementById('pager');
  var pageInfo = document.getElementById('page-info');
  var prev = document.getElementById('page-prev');
  var next = document.getElementById('page-next');
  var state = { status: 'all', reason: 'all', model: 'all', sort: 'index', query: '', page: 0 };
  var chunks = new Map();      // k -> cards, in least-recently-used order
  var arrived = {};            // what the last loaded file handed over
  var columns = null;
  var searched = { query: null, hits: null };
  var generation = 0;          // a newer render cancels an older one still loading

  window.imagebatchGallery = {
    jobs: function (k, cards) { arrived.jobs = { k: k, cards: cards }; },
    columns: function (c) { arrived.columns = c; },
    prompts: function (k, list) { arrived.prompts = { k: k, list: list }; }
  };

  function load(name) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = dir + name;
      s.onload = function () { s.remove(); resolve(); };
      s.onerror = function () { s.remove(); reject(new Error('cannot load ' + dir + name + ' (rebuild with: imagebatch report <dir>)')); };
      document.head.appendChild(s);
    });
  }
  function pad(k, w) { var t = String(k); while (t.length < w) t = '0' + t; return t; }
  function chunk(k) {
    if (chunks.has(k)) { var c = chunks.get(k); chunks.delete(k); chunks.set(k, c); return Promise.resolve(c); }
    return load('jobs-' + pad(k, 5) + '.js').then(function () {
      var got = arrived.jobs; arrived.jobs = null;
      if (!got || got.k !== k) throw new Error('unexpected data in jobs file ' + k);
      chunks.set(k, got.cards);
      while (chunks.size > MAX_CHUNKS) chunks.delete(chunks.keys().next().value);
      return got.cards;
    });
  }
  function needColumns() {
    if (columns) return Promise.resolve(columns);
    return load('columns.js').then(function () { columns = arrived.columns; arrived.columns = null; return columns; });
  }
  // Positions (in index order) whose prompt contains the query, case-insensitive; the prompts are dropped after.
  function searchHits(query) {
    if (searched.query === query) return Promise.resolve(searched.hits);
    var q = query.toLowerCase();
    var hits = [];
    var files = Math.ceil(n / promptChunk);
    var k = 0;
    function step() {
      if (k >= files) { searched = { query: query, hits: hits }; return hits; }
      return load('prompts-' + pad(k, 3) + '.js').then(function () {
        var got = arrived.prompts; arrived.prompts = null;
        if (!got || got.k !== k) throw new Error('unexpected data in prompts file ' + k);
        for (var i = 0; i < got.list.length; i++) if (got.list[i].toLowerCase().indexOf(q) >= 0) hits.push(k * promptChunk + i);
        k++;
        return step();
      });
    }
    return step();
  }
  function isDefault() { return state.status === 'all' && state.reason === 'all' && state.model === 'all' && state.sort === 'index' && !state.query; }
  // The positions to show, in order (null: every job in index order, no columns needed).
  function selection() {
    if (isDefault()) return Promise.resolve(null);
    return Promise.all([needColumns(), state.query ? searchHits(state.query) : null]).then(function (r) {
      var c = r[0];
      var from = r[1];
      var reason = state.reason === 'all' ? -2 : c.reasons.indexOf(state.reason);
      var model = state.model === 'all' ? -2 : c.models.indexOf(state.model);
      var out = [];
      var count = from ? from.length : c.n;
      for (var j = 0; j < count; j++) {
        var i = from ? from[j] : j;
        if (state.status === 'succeeded' && c.status[i] !== 1) continue;
        if (state.status === 'failed' && c.status[i] !== 0) continue;
        if (reason !== -2 && c.reason[i] !== reason) continue;
        if (model !== -2 && c.model[i] !== model) continue;
        out.push(i);
      }
      var key = state.sort.split('-');
      if (key[0] === 'latency' || key[0] === 'cost') {
        var col = c[key[0]];
        var sign = key[1] === 'desc' ? -1 : 1;
        // Unknown values (-1) always last; ties keep index order.
        out.sort(function (a, b) {
          var x = col[a], y = col[b];
          if (x < 0 || y < 0) return (x < 0) - (y < 0) || a - b;
          return sign * (x - y) || a - b;
        });
      }
      return out;
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function card(c) {
    var a = el('article', 'card s-' + c.s);
    a.setAttribute('data-status', c.s);
    a.setAttribute('data-reason', c.rk);
    a.setAttribute('data-index', String(c.i));
    if (c.f.length) {
      var link = el('a', 'thumb');
      link.setAttribute('href', c.f[0]);
      var img = el('img');
      img.setAttribute('loading', 'lazy');
      img.setAttribute('decoding', 'async');
      img.setAttribute('src', c.f[0]);
      img.setAttribute('alt', c.alt);
      link.appendChild(img);
      a.appendChild(link);
    } else a.appendChild(el('div', 'thumb empty', 'no image'));
    var meta = el('div', 'meta');
    meta.appendChild(el('p', 'prompt', c.p));
    var line = el('p');
    line.appendChild(el('span', 'badge', c.s));
    if (c.r) { line.appendChild(document.createTextNode(' ')); line.appendChild(el('span', 'reason', c.r)); }
    meta.appendChild(line);
    if (c.m) meta.appendChild(el('p', 'msg', c.m));
    if (c.t) meta.appendChild(el('p', 'msg', c.t));
    if (c.f.length > 1) {
      var extra = el('p', 'extra');
      for (var i = 1; i < c.f.length; i++) { var x = el('a', null, 'image ' + (i + 1)); x.setAttribute('href', c.f[i]); extra.appendChild(x); }
      meta.appendChild(extra);
    }
    var facts = el('dl', 'facts');
    [['#', String(c.i)], ['attempts', String(c.a)], ['latency', c.l], ['cost', c.c], ['model', c.md]].concat(c.fp ? [['file', c.fp]] : [])
      .forEach(function (f) { facts.appendChild(el('dt', null, f[0])); facts.appendChild(el('dd', null, f[1])); });
    meta.appendChild(facts);
    a.appendChild(meta);
    return a;
  }
  function showInfo(total, pages, from) {
    pageInfo.textContent = total === 0 ? 'no job matches'
      : (from + 1) + '–' + Math.min(total, from + pageSize) + ' of ' + total + ' (page ' + (state.page + 1) + ' of ' + pages + ')';
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    statusButtons.forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-filter-status') === state.status)); });
    reasonSelect.value = state.reason;
  }
  function render(first) {
    var mine = ++generation;
    main.setAttribute('aria-busy', 'true');
    return selection().then(function (sel) {
      if (mine !== generation) return;
      var total = sel ? sel.length : n;
      var pages = Math.max(1, Math.ceil(total / pageSize));
      if (state.page > pages - 1) state.page = pages - 1;
      var from = state.page * pageSize;
      var positions = [];
      for (var i = from; i < Math.min(total, from + pageSize); i++) positions.push(sel ? sel[i] : i);
      showInfo(total, pages, from);
      // The first page in index order is already in the HTML.
      if (first) return;
      var needed = [];
      positions.forEach(function (p) { var k = Math.floor(p / chunkJobs); if (needed.indexOf(k) < 0) needed.push(k); });
      return Promise.all(needed.map(chunk)).then(function (loaded) {
        if (mine !== generation) return;
        var byChunk = new Map();
        needed.forEach(function (k, j) { byChunk.set(k, loaded[j]); });
        var frag = document.createDocumentFragment();
        positions.forEach(function (p) { frag.appendChild(card(byChunk.get(Math.floor(p / chunkJobs))[p % chunkJobs])); });
        main.replaceChildren(frag);
      });
    }).then(function () {
      if (mine === generation) main.removeAttribute('aria-busy');
    }, function (e) {
      main.removeAttribute('aria-busy');
      main.replaceChildren(el('p', 'stopped', String(e && e.message || e)));
    });
  }
  function change(fn) { return function (ev) { fn(ev); state.page = 0; render(false); }; }
  function go(page) { state.page = Math.max(0, page); render(false).then(function () { window.scrollTo(0, 0); }); }

  statusButtons.forEach(function (b) {
    b.addEventListener('click', change(function () {
      state.status = b.getAttribute('data-filter-status') || 'all';
      if (state.status !== 'failed') state.reason = 'all';
    }));
  });
  reasonSelect.addEventListener('change', change(function () {
    state.reason = reasonSelect.value;
    if (state.reason !== 'all') state.status = 'failed';
  }));
  modelSelect.addEventListener('change', change(function () { state.model = modelSelect.value; }));
  sortSelect.addEventListener('change', change(function () { state.sort = sortSelect.value; }));
  var typing = 0;
  search.addEventListener('input', function () {
    clearTimeout(typing);
    typing = setTimeout(change(function () { state.query = search.value.trim(); }), 250);
  });
  prev.addEventListener('click', function () { go(state.page - 1); });
  next.addEventListener('click', function () { go(state.page + 1); });
  document.addEventListener('keydown', function (e) {
    if (e.target && (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT')) {
      if (e.key === 'Escape' && e.target === search) search.blur();
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'ArrowRight' || e.key === 'PageDown' || e.key === 'n') { if (!next.disabled) go(state.page + 1); }
    else if (e.key === 'ArrowLeft' || e.key === 'PageUp' || e.key === 'p') { if (!prev.disabled) go(state.page - 1); }
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(1e9);
    else if (e.key === '/') { e.preventDefault(); search.focus(); }
    else return;
  });
  // Controls stay hidden when scripts cannot run, so the page never shows buttons that do nothing.
  document.getElementById('filters').hidden = false;
  pager.hidden = false;
  render(true);
})();
`;
