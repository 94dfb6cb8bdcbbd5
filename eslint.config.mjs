// The kit's lint rules (`npm run lint`): ESLint's and typescript-eslint's recommended sets, with the exceptions below.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Built output, reports, and the grader's fixtures (deliberately broken or hostile "student" code).
    ignores: [
      'node_modules/**',
      'reports/**',
      'coverage/**',
      '.stryker-tmp/**',
      'solutions/.mutant-*/**',
      'solutions/.parts-*/**',
      'instructor/test/grader/fixtures/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Suites load the code under test by path at run time (`require(path.join(dir, 'server.ts'))`).
      '@typescript-eslint/no-require-imports': 'off',
      // Control characters in patterns are deliberate: reports strip terminal escapes and invalid XML characters.
      'no-control-regex': 'off',
      // `S extends {} | null` in the checker means "any value but undefined".
      '@typescript-eslint/no-empty-object-type': ['error', { allowObjectTypes: 'always' }],
      // A variable a closure reads before its one assignment (a shutdown handler set up before the cluster starts) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Student skeletons import the types the student will need before they write the code that uses them.
    files: ['lab*/client.ts', 'lab*/server.ts', 'lab*/lock.ts', 'lab*/persistence.ts', 'lab*/node.ts'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' },
  },
);
