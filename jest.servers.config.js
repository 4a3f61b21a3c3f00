// Suites against real servers started by scripts/servers/start.sh (Kafka, FerretDB) and EventStoreDB when EVENTSTORE_URL is set.
const base = require('./jest.config.js').projects[0];
module.exports = { ...base, displayName: 'servers', testMatch: ['<rootDir>/{apps,libs,test}/**/*.servers-spec.ts'], testTimeout: 120000 };
