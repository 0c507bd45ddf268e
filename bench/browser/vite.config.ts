import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// Builds the browser benchmarks (a page and its worker) into build-tests/bench; bench/browser/main.ts
// serves them on the app's origin so they use that origin's real IndexedDB.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/__bench/',
  build: {
    outDir: fileURLToPath(new URL('../../build-tests/bench', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Readable function names in CPU profiles of the bench worker.
    minify: false
  },
  worker: { format: 'es' },
  logLevel: 'warn'
});
