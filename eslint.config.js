import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // TypeScript is linted with its types, so a promise nobody awaits or handles is an error and a
  // `void` in front of one says it is dropped on purpose. One program over every source and test
  // file (tsconfig.eslint.json, packages resolved to their sources): a checkout lints without a
  // build, and the types are read once, not once per package.
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-meaningless-void-operator': 'error',
    },
  },
  // The bench and test/support run under Node as they are (type stripping), which loads the very
  // file a specifier names: their relative imports name the .ts file (bench/tsconfig.json also
  // allows only syntax Node can erase there).
  {
    files: ['bench/**/*.ts', 'test/support/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\.?/.*\\.js$',
              message: 'Node runs this file as it is: import the .ts file (./name.ts).',
            },
          ],
        },
      ],
    },
  },
  // Plain JavaScript (bin shims, workers in tests) runs on Node.
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: globals.node } },
);
