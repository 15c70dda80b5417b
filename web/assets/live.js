// The live indicator: whether what the page shows is current (diagnose.js says why not), the
// exchange-to-screen latency of what it shows (latency.js), and the status popover with the
// feeder's and the server's figures.
import { NF, clock, isNum, ago } from './format.js';
import { $, togglePopover, setText } from './dom.js';
import { prefs, ui, conn, page } from './state.js';
import { diagnose, secs } from './diagnose.js';
import { createLatency, summary, label as latencyLabel } from './latency.js';

/** Exchange time → paint of what this page shows (latency.js), for the live indicator. */
export const latency = createLatency();

export function renderLive() {
  const el = $('live');
  const banner = $('banner');
  const d = diagnose(conn, ui.asset, ui.live);
  let message = d.message || null;
  let error = !!d.error;
  if (!message && conn.error) {
    message = conn.error;
    error = true;
  }
  if (!message && conn.notice) message = conn.notice;
  el.dataset.state = d.state;
  const seen = d.state === 'live' ? summary(latency, Date.now()) : null;
  setText('live-text', seen ? `${d.label} · ${latencyLabel(seen)}` : d.label);
  el.title = seen ? `Exchange time to this screen over the last minute (${NF[0].format(seen.n)} updates), on the server's clock` : '';
  // Quotes that may be old are dimmed, not hidden: the last book is still worth seeing.
  document.querySelector('main').classList.toggle('quotes-old', d.state === 'stale' || d.state === 'disconnected');
  banner.hidden = message === null;
  banner.classList.toggle('error', error);
  if (message !== null && banner.textContent !== message) banner.textContent = message;
  setText('stat-last-ago', conn.lastUpdateMs ? ago(conn.lastUpdateMs) : '');
}

/** The operations figures, in the status popover of the live indicator. */
export function renderStatusPanel() {
  const st = conn.status;
  const f = st && st.feeder;
  let feeder = 'unknown';
  if (st && !st.error) {
    feeder = !f ? 'not running (no heartbeat in Redis)'
      : `up since ${clock(f.started_ms, prefs.utc)} · ${f.ws_open}/${f.ws_wanted} connections to Bybit · last ticker ${isNum(f.last_message_ms) && f.last_message_ms ? secs(st.server_ms - f.last_message_ms) + ' ago' : 'none yet'} · Telegram ${f.telegram ? 'on' : 'off'}`;
  }
  setText('stat-feeder', feeder);
  setText('stat-server', st && isNum(st.server_ms) ? clock(st.server_ms, prefs.utc) : '–');
}
$('live').addEventListener('click', (e) => {
  e.stopPropagation();
  togglePopover('status-panel', $('live'));
  renderStatusPanel();
});
$('status-panel').addEventListener('click', (e) => e.stopPropagation());
setInterval(renderLive, 1000);
page.renderLive = renderLive;
