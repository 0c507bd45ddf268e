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
    // Row 1's page module is imported into the app page by a fixed name (propagation.ts).
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        propagation: fileURLToPath(new URL('./propagation-page.ts', import.meta.url))
      },
      output: { entryFileNames: 'assets/[name].js' }
    },
    target: 'es2022',
    // Readable function names in CPU profiles of the bench worker.
    minify: false
  },
  worker: { format: 'es' },
  logLevel: 'warn'
});
