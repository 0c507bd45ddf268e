import '../../src/lib/platform/polyfills.js';
