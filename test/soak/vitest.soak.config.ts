import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

// The soak run only: `npm run soak` (see bench/README.md, "Soak"). Not part of `npm test`: the
// soak file is `*.soak.ts`, outside the root config's `test/**/*.test.ts`. It reuses the root
// config's resolve conditions (`source`, `node`) so workspace packages load from their sources,
// while the services it starts run from their built dist/.
export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  resolve: root.resolve,
  ssr: root.ssr,
  test: {
    include: ['test/soak/cluster-soak.soak.ts'],
    // The soak bounds itself (a hard deadline from its parameters); this is only a backstop.
    testTimeout: 3 * 24 * 3600_000,
    hookTimeout: 120_000,
    // The figures go to the console as they come: keep them.
    silent: false,
    reporters: ['default'],
  },
});
