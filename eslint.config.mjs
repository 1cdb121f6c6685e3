import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules a pure or browser-side layer must not import. */
const NODE_AND_HOST = [
  { group: ['vscode', 'node:*', 'fs', 'child_process', 'path', 'os', 'sharp'], message: 'this layer is pure: no vscode, no I/O' },
];
const VSCODE = [{ group: ['vscode'], message: 'only src/extension imports vscode' }];
/** Import patterns that reach the given folders of src/, relatively from anywhere in the tree. */
const layers = (...folders) =>
  folders.map((f) => ({ regex: `(^|/)(src/)?${f}/|^\\.\\./${f}$`, message: `this layer must not import src/${f}` }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.venv/**', 'python/**', 'test-artifacts/**', '*.vsix', 'runs/**', '.ivgr/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  // Layers point one way: core <- data, run <- engine <- worker <- cli, extension; the panel sees only core.
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...NODE_AND_HOST, ...layers('data', 'run', 'engine', 'worker', 'cli', 'extension')] },
      ],
    },
  },
  {
    files: ['src/run/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...VSCODE, ...layers('worker', 'cli', 'extension')] }] },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...VSCODE, ...layers('worker', 'cli', 'extension')] }] },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...NODE_AND_HOST, ...layers('data', 'run', 'engine', 'worker', 'cli', 'extension')] },
      ],
    },
  },
);
