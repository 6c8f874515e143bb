// npm run lint: typescript-eslint's recommended rules and the house style (2-space indents,
// single quotes, semicolons, 100 columns), for the TypeScript of src/ and the JavaScript of
// tests, benchmarks, scripts and examples.
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'prebuilds/**', 'native/vendor/**', 'node_modules/**', '**/node_modules/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { '@stylistic': stylistic },
    rules: {
      // Lazy require() is deliberate: BullMQ is an optional peer, the addon and Node's built-ins
      // are loaded where a bundled copy can be told apart (src/core/own-files.ts).
      '@typescript-eslint/no-require-imports': 'off',
      // ignoreRestSiblings: `const { dropped, ...rest } = value` leaves a key out of a copy.
      '@typescript-eslint/no-unused-vars': ['error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `(...args: any[]) => unknown` is the one type every function is assignable to (Target).
      '@typescript-eslint/no-explicit-any': ['error', { ignoreRestArgs: true }],
      '@stylistic/max-len': ['error', { code: 100, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true }],
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, ignoredNodes: ['ConditionalExpression'] }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
    },
  },
  {
    // excType is the constructor of any thrown value (Python's exc_type), Symbol and BigInt too.
    files: ['src/thread/excepthook.ts'],
    rules: { '@typescript-eslint/no-unsafe-function-type': 'off' },
  },
);
