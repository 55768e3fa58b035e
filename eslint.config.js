import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Import cycles, type-only imports included, are forbidden by dpdm in the
// `lint` npm script (package.json): import-x/no-cycle skips type imports.

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
