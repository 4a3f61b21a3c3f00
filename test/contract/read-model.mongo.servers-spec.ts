/**
 * The read-model contract against a real MongoDB-wire server: FerretDB v1 (SQLite backend) started by
 * scripts/servers/start.sh (`npm run test:servers`), or any MongoDB at MONGO_URL. Each run uses its own
 * database, dropped at the end.
 */
import { randomUUID } from 'crypto';
import { MongoClient } from 'mongodb';
import { MongoReadModelStore } from '@crm/read-model';
import { describeReadModelContract } from './read-model.contract';

const url = process.env.MONGO_URL || 'mongodb://127.0.0.1:27017/';
const dbName = `crm_rm_contract_${Date.now()}_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  // Fail once, clearly, instead of every test timing out.
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.db(dbName).command({ ping: 1 });
  } catch (e) {
    throw new Error(
      `MongoDB-wire server unreachable at MONGO_URL=${url} (${(e as Error).message}). ` +
        'Start FerretDB with scripts/servers/start.sh ferretdb, or run npm run test:servers.',
      { cause: e },
    );
  } finally {
    await client.close();
  }
});

describeReadModelContract('MongoReadModelStore', {
  open: () => MongoReadModelStore.connect(url, dbName),
  cleanup: async () => {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.db(dbName).dropDatabase();
    } finally {
      await client.close();
    }
  },
});
