// The History view: how the chain's analytics moved, from the samples the module records
// (`OPTIONS.HISTORY`, /api/history/{asset}). Spot, 30-day ATM IV, 25Δ risk reversal and
// butterfly, put/call ratio and total GEX over the last hour, day, week or month; hover shows
// the values; new samples are appended as the stream's `analytics` events arrive.
//
// Pure helpers are exported for `node --test` (tests/js/); `HistoryView` needs the DOM and uPlot.

import { isNum, pct, plain, volPoints, ratio, dollars } from './format.js';
import { ui } from './state.js';
import { plotLibrary, inTurns } from './plot.js';
import { setCards } from './dom.js';

export const RANGES = { '1h': 3600e3, '1d': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };

/** The two requests a range needs: totals, and the 30-day tenor. */
export function historyUrls(asset, from, venue = 'bybit') {
  const a = encodeURIComponent(asset);
  const v = venue === 'bybit' ? '' : `&venue=${venue}`;
  return {
    totals: `/api/history/${a}?metric=index&metric=pcr_oi&metric=gex&from=${Math.max(0, Math.floor(from))}${v}`,
    tenor: `/api/history/${a}?metric=atm_iv&metric=rr25&metric=bf25&tenor=30&from=${Math.max(0, Math.floor(from))}${v}`,
  };
}

/**
 * Columns for uPlot from the two replies, joined on the sample time (both come from the same
 * samples; a time missing from one side is null there). x in seconds.
 */
export function joinSeries(totals, tenor) {
  const byTs = new Map();
  const row = (ts) => {
    if (!byTs.has(ts)) byTs.set(ts, { index: null, pcr: null, gex: null, atm: null, rr: null, bf: null });
    return byTs.get(ts);
  };
  for (const [ts, index, pcr, gex] of (totals && totals.points) || []) Object.assign(row(ts), { index, pcr, gex });
  for (const [ts, atm, rr, bf] of (tenor && tenor.points) || []) Object.assign(row(ts), { atm, rr, bf });
  const ts = [...byTs.keys()].sort((a, b) => a - b);
  const col = (k, f = (v) => v) => ts.map((t) => (isNum(byTs.get(t)[k]) ? f(byTs.get(t)[k]) : null));
  return {
    x: ts.map((t) => t / 1000),
    index: col('index'),
    atm: col('atm', (v) => v * 100),
    rr: col('rr', (v) => v * 100),
    bf: col('bf', (v) => v * 100),
    pcr: col('pcr'),
    gex: col('gex'),
    last: ts.length ? { ts: ts[ts.length - 1], ...byTs.get(ts[ts.length - 1]) } : null,
  };
}

/** Appends `more` (later samples) to `data` and drops what fell out of the window. */
export function extend(data, more, from) {
  const points = (r) => (r && r.points) || [];
  const merged = (a, b) => {
    const seen = new Set(points(a).map((p) => p[0]));
    return { ...(a || b), points: [...points(a), ...points(b).filter((p) => !seen.has(p[0]))].filter((p) => p[0] >= from) };
  };
  return { totals: merged(data.totals, more.totals), tenor: merged(data.tenor, more.tenor) };
}

export class HistoryView {
  constructor({ el, drawChart, axes, cssVar }) {
    Object.assign(this, { el, drawChart, axes, cssVar });
    this.asset = null;
    this.range = '1d';
    this.data = { totals: null, tenor: null };
    this.error = null;
    this.busy = false;
    this.again = false;
    this.loading = null;
  }

  show(asset) {
    if (asset !== this.asset) {
      this.asset = asset;
      this.data = { totals: null, tenor: null };
      this.reload();
    } else {
      this.render();
    }
  }

  setRange(range) {
    if (!RANGES[range] || range === this.range) return;
    this.range = range;
    this.reload();
  }

  reload() {
    this.data = { totals: null, tenor: null };
    // Kept so the page can tell when the view's first screen is in (stream.js).
    this.loading = this.fetch(Date.now() - RANGES[this.range], true);
  }

  /** The chain changed: fetch samples newer than the newest shown. */
  changed(asset) {
    if (asset !== this.asset) return;
    const j = joinSeries(this.data.totals, this.data.tenor);
    this.fetch(j.last ? j.last.ts + 1 : Date.now() - RANGES[this.range], false);
  }

  async fetch(from, replace) {
    if (!this.asset) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    const asset = this.asset;
    const urls = historyUrls(asset, from, ui.venue);
    try {
      const get = async (u) => {
        const r = await fetch(u, { headers: { Accept: 'application/json' } });
        const body = await r.json();
        if (!r.ok) throw new Error(body.detail || `HTTP ${r.status}`);
        return body;
      };
      const [totals, tenor] = await Promise.all([get(urls.totals), get(urls.tenor)]);
      if (asset === this.asset) {
        const windowFrom = Date.now() - RANGES[this.range];
        this.data = replace ? { totals, tenor } : extend(this.data, { totals, tenor }, windowFrom);
        this.error = null;
      }
    } catch (e) {
      this.error = e.message;
    } finally {
      this.busy = false;
      this.render();
      if (this.again) {
        this.again = false;
        this.changed(this.asset);
      }
    }
  }

  render() {
    for (const b of document.querySelectorAll('#history-ranges button')) b.classList.toggle('active', b.dataset.range === this.range);
    const cap = this.el('history-caption');
    if (this.error) {
      cap.textContent = `History unavailable: ${this.error}`;
      return;
    }
    const j = joinSeries(this.data.totals, this.data.tenor);
    const n = j.x.length;
    const when = (s) => new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ');
    cap.textContent = n
      ? `${n.toLocaleString('en-US')} samples · ${when(j.x[0])} – ${when(j.x[n - 1])} UTC`
      : 'No samples in this range yet: the module records one per minute while the chain is written.';
    const last = j.last || {};
    setCards(this.el('history-latest'), [
      ['Spot', plain(last.index)],
      ['30d ATM IV', pct(last.atm)],
      ['30d RR25', volPoints(last.rr)],
      ['30d BF25', volPoints(last.bf)],
      ['PCR (OI)', ratio(last.pcr)],
      ['GEX per 1%', dollars(last.gex)],
    ]);
    if (!plotLibrary()) return;
    const accent = this.cssVar('--accent');
    const call = this.cssVar('--call');
    const put = this.cssVar('--put');
    const muted = this.cssVar('--muted');
    const line = (label, stroke, fmt, dash) => ({ label, stroke, width: 2, dash, spanGaps: false, points: { show: n < 120 }, value: (u, v) => (v === null ? '–' : fmt(v)) });
    const chart = (slot, id, yLabel, series, cols, yValues) => {
      const axes = this.axes('', yLabel);
      if (yValues) axes[1].values = (u, vals) => vals.map(yValues);
      return () => this.drawChart(slot, this.el(id), { key: slot, series: [{ label: 'Time' }, ...series], axes }, [j.x, ...cols]);
    };
    // One chart per task: five at once held a phone's main thread for a quarter of a second.
    return inTurns(this, [
      chart('hSpot', 'chart-h-spot', 'Spot', [line('Spot', accent, (v) => plain(v))], [j.index]),
      chart('hIv', 'chart-h-iv', 'ATM IV %', [line('30d ATM IV %', accent, (v) => `${v.toFixed(2)}%`)], [j.atm]),
      chart('hSkew', 'chart-h-skew', 'Vol points', [
        line('30d RR25', call, (v) => v.toFixed(2)),
        line('30d BF25', put, (v) => v.toFixed(2), [6, 4]),
      ], [j.rr, j.bf]),
      chart('hPos', 'chart-h-pos', 'Put/call (OI)', [line('PCR (OI)', muted, (v) => v.toFixed(3))], [j.pcr]),
      chart('hGex', 'chart-h-gex', 'GEX per 1%', [line('GEX', put, (v) => dollars(v))], [j.gex], dollars),
    ]);
  }
}
