// Dependency direction points inward: the domain knows nothing of frameworks, drivers or adapters.
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'libs/domain is pure TypeScript: no NestJS, no drivers, no I/O, no other libs but contracts.',
      severity: 'error',
      from: { path: '^libs/domain' },
      to: {
        path: '(^node_modules/(@nestjs|better-sqlite3|kafkajs|mongodb|@eventstore|mingo|pino|class-validator|class-transformer))|(^libs/(?!domain|contracts))|^apps/|(^(fs|net|http|https|child_process|worker_threads|node:))',
      },
    },
    {
      name: 'contracts-are-leaf',
      comment: 'libs/contracts only describes messages; it depends on no other lib or adapter.',
      severity: 'error',
      from: { path: '^libs/contracts' },
      to: { path: '(^libs/(?!contracts))|^apps/|^node_modules/(@nestjs|better-sqlite3|kafkajs|mongodb|@eventstore)' },
    },
    {
      name: 'libs-never-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(\\.spec\\.ts$|\\.int-spec\\.ts$|\\.e2e-spec\\.ts$|\\.servers-spec\\.ts$)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
