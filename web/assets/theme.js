// Applies the saved (or the system's) theme before the first paint, so a light-theme user
// never sees a dark flash. Loaded from <head>; app.js owns the toggle.
(function () {
  var saved = null;
  try { saved = localStorage.getItem('theme'); } catch (e) { /* storage disabled */ }
  var light = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches;
  document.documentElement.setAttribute('data-theme', saved === 'light' || saved === 'dark' ? saved : (light ? 'light' : 'dark'));
})();
