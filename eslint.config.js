import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const deepImportBan = {
  group: ['@inbox-bridge/*/*'],
  message: 'Import a workspace package only through its root entry.',
};
const hubspotOnlyInGateway = { group: ['@hubspot/*'], message: 'Only apps/gateway talks to HubSpot.' };

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**', 'scripts/**/*.d.mts'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', '.ci/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'all'],
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@inbox-bridge/*/*'],
              message: 'Import a workspace package only through its root entry.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/shared/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'typeorm', 'amqplib', 'pg'],
              message: 'packages/shared holds framework-free contracts only.',
            },
            { group: ['@inbox-bridge/*'], message: 'packages/shared depends on nothing else in the repo.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/router/src/**/*.ts', 'apps/connector/src/**/*.ts', 'packages/**/*.ts'],
    ignores: ['packages/shared/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImportBan, hubspotOnlyInGateway] }] },
  },
  {
    files: [
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/test/**/*.ts',
      '**/bench/**/*.ts',
      '**/cli/**/*.ts',
      'scripts/**',
      '.ci/**',
    ],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  {
    files: ['scripts/**', 'k8s/**/*.mjs'],
    rules: { 'no-console': 'off' },
  },
);
