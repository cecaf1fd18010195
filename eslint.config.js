// eslint over our own scripts (`make test` runs it): the static JavaScript of every app, in
// the browser as the pages load it (classic scripts, passkeys.js a module), and the tests'
// Node helpers. FullCalendar and the other packages come from node_modules, never linted.
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  {
    ignores: ["node_modules/**", ".venv/**", "data/**", "test-artifacts/**", "bench/**"],
  },
  js.configs.recommended,
  {
    files: ["*/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser, FullCalendar: "readonly" },
    },
    rules: {
      "no-unused-vars": ["error", { caughtErrors: "none" }],
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
      strict: ["error", "function"],
    },
  },
  {
    files: ["tidbok/static/tidbok/passkeys.js"],
    languageOptions: { sourceType: "module" },
    rules: { strict: "off" },
  },
  {
    // The tests' helpers run in Node: Mozilla's iCalendar parser, a real OpenID provider.
    files: ["**/*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
];
