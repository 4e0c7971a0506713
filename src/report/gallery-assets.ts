// The gallery's inline stylesheet and script. Static strings: no data is ever interpolated here (data reaches the
// script only through the escaped JSON block and the escaped data-* attributes of the cards).

/** Cards shown per page: keeps a 10,000-job gallery responsive (hidden cards are not laid out, their images never load). */
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
.toolbar button, .toolbar select { font: inherit; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px;
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

/** Filters and pagination. Runs from file:// under the page's CSP; reads the cards' data-* attributes only. */
export const GALLERY_JS = `
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('gallery-data').textContent || '{}');
  var pageSize = cfg.pageSize > 0 ? cfg.pageSize : 200;
  var cards = Array.prototype.slice.call(document.querySelectorAll('main .card'));
  var statusButtons = Array.prototype.slice.call(document.querySelectorAll('[data-filter-status]'));
  var reasonSelect = document.getElementById('filter-reason');
  var pager = document.getElementById('pager');
  var pageInfo = document.getElementById('page-info');
  var prev = document.getElementById('page-prev');
  var next = document.getElementById('page-next');
  var state = { status: 'all', reason: 'all', page: 0 };

  function matches(card) {
    if (state.status !== 'all' && card.getAttribute('data-status') !== state.status) return false;
    if (state.reason !== 'all' && card.getAttribute('data-reason') !== state.reason) return false;
    return true;
  }

  function render() {
    var shown = cards.filter(matches);
    var pages = Math.max(1, Math.ceil(shown.length / pageSize));
    if (state.page > pages - 1) state.page = pages - 1;
    var from = state.page * pageSize;
    var onPage = new Set(shown.slice(from, from + pageSize));
    for (var i = 0; i < cards.length; i++) cards[i].hidden = !onPage.has(cards[i]);
    statusButtons.forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-filter-status') === state.status)); });
    pageInfo.textContent = shown.length === 0 ? 'no job matches'
      : (from + 1) + '–' + Math.min(shown.length, from + pageSize) + ' of ' + shown.length + ' (page ' + (state.page + 1) + ' of ' + pages + ')';
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
  }

  statusButtons.forEach(function (b) {
    b.addEventListener('click', function () {
      state.status = b.getAttribute('data-filter-status') || 'all';
      if (state.status === 'succeeded') { state.reason = 'all'; reasonSelect.value = 'all'; }
      state.page = 0;
      render();
    });
  });
  reasonSelect.addEventListener('change', function () {
    state.reason = reasonSelect.value;
    if (state.reason !== 'all') state.status = 'failed';
    state.page = 0;
    render();
  });
  prev.addEventListener('click', function () { state.page--; render(); window.scrollTo(0, 0); });
  next.addEventListener('click', function () { state.page++; render(); window.scrollTo(0, 0); });
  // Controls stay hidden when scripts cannot run, so the page never shows buttons that do nothing.
  document.getElementById('filters').hidden = false;
  pager.hidden = false;
  render();
})();
`;
