import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// The backend must run under plain Node (tests, browser mode), so only electron/app/ may import 'electron'.
const ELECTRON_ONLY_IN_APP = {
  paths: [
    { name: 'electron', message: "Only electron/app/ may import 'electron' (the backend runs under plain Node)." },
  ],
  patterns: [{ group: ['electron/*'], message: "Only electron/app/ may import 'electron'." }],
};
// The model runtime has a front door (docs/runtime.md): the backend and the benches import model-runtime/src/index,
// or runtime-paths (no native module) in code that also runs in a worker thread. Tests may reach inside.
const RUNTIME_FRONT_DOOR = {
  regex: 'model-runtime/src/(?!(index|runtime-paths)$)',
  message:
    'Import the model runtime from model-runtime/src/index (or runtime-paths in code that also runs in a worker thread); export what is missing there.',
};
const restrictImports = ({ paths = [], patterns = [] }, ...more) => ({
  'no-restricted-imports': ['error', { paths, patterns: [...patterns, ...more] }],
});

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      '.vite',
      'out',
      'test-results',
      'assets',
      'model-runtime/python',
      '.venv-torch2',
      'tmp',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      ...restrictImports(ELECTRON_ONLY_IN_APP),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['electron/**', 'bench/**'], rules: restrictImports(ELECTRON_ONLY_IN_APP, RUNTIME_FRONT_DOOR) },
  { files: ['electron/app/**'], rules: restrictImports({}, RUNTIME_FRONT_DOOR) },
  { files: ['test/**', 'bench/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
);
