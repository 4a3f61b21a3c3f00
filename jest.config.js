// Tests are split by file suffix: *.spec.ts (unit), *.int-spec.ts (integration), *.e2e-spec.ts (end to end).
// *.servers-spec.ts need real Kafka / FerretDB and run only through `npm run test:servers`.
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
}];
const moduleNameMapper = {
  '^@crm/([a-z-]+)$': '<rootDir>/libs/$1/src',
};
// .cache holds generated data and other checkouts (scripts/bench-ab.sh), not modules of this one.
const base = { rootDir: __dirname, testEnvironment: 'node', transform: { '^.+\\.ts$': swc }, moduleNameMapper, modulePathIgnorePatterns: ['<rootDir>/.cache/'] };
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,test}/**/*.spec.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/{apps,libs,test}/**/*.e2e-spec.ts'] },
  ],
};
