// Lints the UI's TypeScript (CI runs `npm run lint`). Type-aware rules catch what matters in a UI
// that talks to Rust over IPC: promises left floating (an error nobody shows) and unsafe `any`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'src/api/generated/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
);
