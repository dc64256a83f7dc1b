// Lints the UI's TypeScript (CI runs `npm run lint`). Type-aware rules catch what matters in a UI
// that talks to Rust over IPC: promises left floating (an error nobody shows) and unsafe `any`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'src/api/generated/', 'node_modules/', 'eslint.config.js', 'scripts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name` marks what a destructuring leaves out on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
      // Commands reject with the shell's plain `IpcError` object, exactly as Tauri's invoke does.
      '@typescript-eslint/only-throw-error': ['error', { allow: [{ from: 'file', name: ['IpcError', 'SettingsError'] }] }],
    },
  },
  {
    files: ['src/**/*.test.ts', 'src/test-support/**'],
    rules: {
      // The IPC mocks reject as the shell does: with a plain `{kind, message}` object.
      '@typescript-eslint/only-throw-error': 'off',
      // Mock handlers are async because the commands they stand in for are.
      '@typescript-eslint/require-await': 'off',
      // `expect.stringContaining` and friends are typed `any` by vitest.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
