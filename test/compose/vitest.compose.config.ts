import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

// `npm run test:compose` only: docker-compose.yml on Podman (test/compose/). Not part of
// `npm test` nor CI (the file is `*.compose.ts`, outside the root config's include): building
// the images takes minutes and needs Podman installed as root.
export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  resolve: root.resolve,
  ssr: root.ssr,
  test: {
    include: ['test/compose/compose-cluster.compose.ts'],
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
    // Progress lines (build, kill, figures) go to the console as they come.
    silent: false,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
