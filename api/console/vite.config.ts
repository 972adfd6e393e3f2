// Built into api/web/console, which onair reads at start and serves at /console (api/routes_console.cpp).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  build: {
    outDir: '../web/console', // relative to this folder
    emptyOutDir: true,
    target: 'es2022',
    // hls.js and mpegts.js are loaded only by a page with a player; they are big and that is fine.
    chunkSizeWarningLimit: 700,
    // The licences of what is bundled (preact, hls.js, mpegts.js), shipped beside it.
    license: { fileName: 'licenses.md' },
  },
  server: {
    // `npm run dev` against a local onair: the API and the media come from it.
    proxy: Object.fromEntries(['/v2', '/play', '/vod', '/time'].map((p) => [p, 'http://127.0.0.1:8080'])),
  },
});
