// Why the data on screen may be old, and which part is at fault: a pure function of the
// connection state and the server's status events, unit-tested with `node --test`.
import { NF, isNum, ago } from './format.js';

/** Data older than this is stale. */
export const STALE_MS = 10000;
// The server sends a status event every 2 s: after this long without one while the stream
// says it is open, the server itself is stuck.
export const STATUS_SILENT_MS = 7000;
export const secs = (ms) => `${Math.max(0, Math.round(ms / 1000))} s`;

/** Age of the shown asset's data in ms (server clock, so a skewed browser clock is harmless). */
export function assetAge(conn, asset, now) {
  const st = conn.status;
  const a = st && st.assets ? st.assets[asset] : null;
  if (!st || !a || !isNum(a.last_update_ms) || a.last_update_ms <= 0 || !isNum(st.server_ms)) return null;
  return st.server_ms - a.last_update_ms + (now - conn.statusAt);
}

/**
 * Why the shown data of `asset` may be old, naming the part at fault: the dashboard server unreachable or
 * stuck, Redis down, no feeder, the feeder cut off from Bybit or failing to write, or Bybit
 * quiet. `conn` is the connection state (state.js), `live` whether auto-refresh is on, `now`
 * the browser's clock. Returns {state, label, message, error}; message null when all is well.
 */
export function diagnose(conn, asset, live, now = Date.now()) {
  const since = conn.lastUpdateMs ? ` — last update ${ago(conn.lastUpdateMs)}` : '';
  if (conn.state === 'connecting') return { state: 'connecting', label: 'Connecting…' };
  if (conn.state !== 'open') {
    return { state: 'disconnected', label: 'Server unreachable', error: true,
      message: `The dashboard server cannot be reached — reconnecting${since}. Prices shown may be old.` };
  }
  if (conn.statusAt && now - conn.statusAt > STATUS_SILENT_MS) {
    return { state: 'disconnected', label: 'Server stuck', error: true,
      message: `The dashboard server stopped sending updates ${secs(now - conn.statusAt)} ago (connected, but silent). Prices shown may be old.` };
  }
  if (conn.redisError) {
    return { state: 'disconnected', label: 'Redis down', error: true,
      message: `${conn.redisError}${since}. Showing the last data received.` };
  }
  const st = conn.status;
  const age = assetAge(conn, asset, now);
  const stale = age !== null && age > STALE_MS;
  const assetSince = age !== null ? ` — last ${asset} update ${secs(age)} ago` : since;
  if (st && !st.error) {
    const f = st.feeder;
    if (!f) {
      if (stale || age === null) {
        return { state: 'stale', label: 'No feeder',
          message: `No feeder is running: nothing writes ${asset} to Redis${assetSince}.` };
      }
    } else if (isNum(f.ws_wanted) && f.ws_open < f.ws_wanted) {
      return { state: 'stale', label: 'Bybit unreachable',
        message: `The feeder cannot reach Bybit: ${f.ws_wanted - f.ws_open} of ${f.ws_wanted} connections down${assetSince}.` };
    } else if (stale) {
      const quietFor = isNum(f.last_message_ms) && f.last_message_ms > 0 ? st.server_ms - f.last_message_ms : null;
      if (f.redis_up === 0) {
        return { state: 'stale', label: 'Write errors',
          message: `The feeder receives Bybit's tickers but cannot write them to Redis${assetSince}.` };
      }
      // Half the staleness limit without any ticker is the exchange going quiet (one asset
      // stops while the others keep ticking: the others are fresher than that).
      if (quietFor === null || quietFor > STALE_MS / 2) {
        return { state: 'stale', label: 'Bybit quiet',
          message: `Bybit is quiet: no ticker for ${quietFor === null ? 'a while' : secs(quietFor)} (the feeder is connected)${assetSince}.` };
      }
      return { state: 'stale', label: `${asset} quiet`,
        message: `No ${asset} ticker for ${secs(age)} while other assets update${since}.` };
    }
  } else if (!st && conn.lastUpdateMs && now - conn.lastUpdateMs > STALE_MS) {
    // A server without status events (older, or no asset followed): the global clock only.
    return { state: 'stale', label: 'Stale', message: `No update${since}. Nothing is writing to Redis.` };
  }
  if (!live) {
    return { state: 'paused', label: conn.pendingCount ? `Paused · ${NF[0].format(conn.pendingCount)} updates held` : 'Paused' };
  }
  return { state: 'live', label: 'Live' };
}
