// ESM entry: re-exports the CommonJS build, so that `import` and `require` share one registry of
// threads, one excepthook and one main thread (no dual-package hazard).
export * from './index.js';
