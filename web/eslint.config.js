// `make lint-js` (part of `make test`): the dashboard's modules import and export across two
// dozen files, so a name used but never imported, or imported but never used, is caught here
// rather than by a trader's browser.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['assets/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      // uPlot is the one classic script the page loads before the modules.
      globals: { ...globals.browser, uPlot: 'readonly' },
    },
    rules: {
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
    },
  },
  {
    // theme.js runs as a classic script before the page paints.
    files: ['assets/theme.js'],
    languageOptions: { sourceType: 'script' },
  },
];
