import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'imagebatch-out/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // One clock: library time comes from an injected Clock, so tests can run on FakeClock. The emulator is a
    // server with its own (scaled) time.
    files: ['src/**/*.ts'],
    ignores: ['src/internal/clock.ts', 'src/emulator/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'take the time from an injected Clock (src/internal/clock.ts)' }],
    },
  },
);
