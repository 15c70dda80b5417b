// uPlot helpers shared by the views.

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
