// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'tools/**', 'test-artifacts/**', 'coverage/**', 'bench/peers/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans print as one expects in a message; objects are what this rule is for.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `(x) => subject.next(x)` and `return this.ended()` in a void function say the same as their longer forms.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true }],
      // Nest modules are classes that are only their decorator.
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
      // Nest declares its option bags (NestApplicationOptions, …) as classes; its docs pass object literals.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // `reply: void` and a handler that may return nothing are how TypeScript spells "no value" in a type map.
      '@typescript-eslint/no-invalid-void-type': 'off',
      // An in-memory implementation of an async interface (a store, a tool, a fake) is async without awaiting.
      '@typescript-eslint/require-await': 'off',
      // Passing on what a catch caught, whatever it is, is right; inventing a reason is what this rule is for.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // One import line per module, types inline (`import { type A, b } from 'm'`).
      'no-duplicate-imports': 'error',
      // `for await (const _chunk of stream)` drains a stream; the underscore says the value is not wanted.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**', 'client/test/**', 'protocol/test/**', 'bench/**', '**/*.spec.ts'],
    rules: {
      // A test states what it expects to be there; a wrong guess fails the test, which is the point.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Jest's asymmetric matchers (expect.any(Number), …) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  {
    files: ['client/scripts/**', 'client/demo/**'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
