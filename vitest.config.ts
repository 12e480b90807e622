import { defineConfig } from 'vitest/config';

// Workspace packages are tested from their TypeScript sources (the `source` export condition),
// so unit tests need no build; only tests that spawn services as processes use dist/.
// Vitest also hands these conditions to Node for external modules, so they must stay Node's own
// (`import`/`require`/`default` are applied by Vite and Node themselves): adding `import` would
// make CommonJS require() load ESM builds (Express's router then gets a namespace object).
const conditions = ['source', 'node'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
