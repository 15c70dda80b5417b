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
