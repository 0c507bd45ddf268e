import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// Builds the shared storage compliance suite into a page that Playwright serves on the app's
// origin (test/e2e/store-compliance.spec.ts), with vitest's API replaced by a tiny runner.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/__compliance/',
  resolve: { alias: { vitest: fileURLToPath(new URL('./mini-runner.ts', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../../build-tests/compliance', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022'
  },
  logLevel: 'warn'
});
