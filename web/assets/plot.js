// uPlot helpers shared by the views, and uPlot itself, loaded when a chart is first drawn.

/**
 * uPlot is loaded only when a view first draws a chart: the table and the chain (most
 * people's first screen) draw none, and evaluating the library costs a phone about 100 ms of
 * main thread while the page loads. `plotLibrary()` is the library when it is here; before that
 * it starts the load (once) and answers null, and the page's `onPlotLibrary` callback draws the
 * shown view's charts when it comes. If it cannot load, the charts say so (`plotLibraryFailed`)
 * until the page is reloaded.
 */
const plotLoad = { promise: null, failed: false, listeners: [] };

/** The library's address: beside the bundle, with the bundle's version query. */
function plotLibraryUrl() {
  const here = new URL(import.meta.url);
  return new URL(`uPlot.iife.min.js${here.search}`, here).href;
}

/** Starts loading uPlot unless it is here or on its way; resolves when it is (or failed). */
export function loadPlotLibrary() {
  if (globalThis.uPlot || plotLoad.failed) return Promise.resolve();
  if (!plotLoad.promise) {
    plotLoad.promise = new Promise((resolve) => {
      const script = document.createElement('script');
      script.src = plotLibraryUrl();
      script.onload = () => resolve();
      script.onerror = () => {
        plotLoad.failed = true;
        resolve();
      };
      document.head.appendChild(script);
    }).then(() => {
      for (const f of plotLoad.listeners) f();
    });
  }
  return plotLoad.promise;
}

/** uPlot, or null while it loads (the load is started) or after it failed. */
export function plotLibrary() {
  if (globalThis.uPlot) return globalThis.uPlot;
  loadPlotLibrary();
  return null;
}

export const plotLibraryFailed = () => plotLoad.failed;

/** Runs `f` when the library has loaded or failed to. */
export function onPlotLibrary(f) {
  plotLoad.listeners.push(f);
}

/**
 * A plugin drawing a vertical dashed line at the x value `read()` returns when the chart draws
 * (null: none). Reading at draw time lets a chart outlive the render that made it.
 */
export function verticalMarker(read, stroke, dash = [4, 4]) {
  return {
    hooks: {
      draw: (u) => {
        const v = read();
        if (v === null || v === undefined) return;
        const x = Math.round(u.valToPos(v, 'x', true));
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        const c = u.ctx;
        c.save();
        c.strokeStyle = stroke;
        c.lineWidth = 1.5;
        c.setLineDash(dash);
        c.beginPath();
        c.moveTo(x, u.bbox.top);
        c.lineTo(x, u.bbox.top + u.bbox.height);
        c.stroke();
        c.restore();
      },
    },
  };
}

/**
 * Whether two uPlot data sets (arrays of columns) hold the same values: a chart given what it
 * already shows need not draw again (a redraw costs a phone ~10 ms a chart).
 */
export function sameData(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!x || !y || x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j] && !(Number.isNaN(x[j]) && Number.isNaN(y[j]))) return false;
  }
  return true;
}

/**
 * Runs `steps` (a view's chart draws) one per task, so that a phone's main thread is never held
 * for all of them at once (each is tens of milliseconds at a phone's speed; the browser can
 * paint and answer input between them). A newer call for the same `owner` replaces the steps
 * not yet run. Resolves when the last step has run.
 */
export function inTurns(owner, steps) {
  owner.turns = steps.slice();
  if (!owner.turning) {
    owner.turning = new Promise((resolve) => {
      const next = () => {
        const step = owner.turns.shift();
        if (!step) {
          owner.turning = null;
          resolve();
          return;
        }
        step();
        setTimeout(next, 0);
      };
      setTimeout(next, 0);
    });
  }
  return owner.turning;
}
