import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages are tested from their TypeScript sources; no build needed for unit tests.
    conditions: ['source'],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
