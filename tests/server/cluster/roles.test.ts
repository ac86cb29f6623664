// Node roles and the event bus choice on a standalone database: a node that does only part of the
// work, or asks for change streams, cannot run there and says why instead of starting half-deaf.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/src/config.ts';
import { startTestCharla, stopAllTestCharlas } from '../../support/charla.ts';

afterAll(stopAllTestCharlas);

describe('node roles on a standalone database', () => {
  it('refuses a web-only or worker-only node: nobody else would hear its events', async () => {
    for (const role of ['web', 'worker']) {
      await expect(startTestCharla({}, { CHARLA_ROLE: role })).rejects.toMatchObject({ code: 'config/invalid', message: expect.stringContaining(`CHARLA_ROLE=${role}`) });
    }
  });

  it('refuses the change-stream bus when the database has no change streams', async () => {
    await expect(startTestCharla({}, { CHARLA_EVENT_BUS: 'change-stream' })).rejects.toMatchObject({ code: 'config/invalid', message: expect.stringContaining('replica set') });
  });

  it('reads the role, node id and retention from the environment, and rejects unknown roles', () => {
    const config = loadConfig({ CHARLA_ROLE: 'worker', CHARLA_NODE_ID: 'eu-1.worker', CHARLA_EVENT_RETENTION_HOURS: '2' });
    expect(config).toMatchObject({ role: 'worker', nodeId: 'eu-1.worker', eventBus: 'auto', eventRetentionMs: 7_200_000 });
    expect(loadConfig({}).role).toBe('all');
    expect(() => loadConfig({ CHARLA_ROLE: 'leader' })).toThrow(/CHARLA_ROLE/);
    expect(() => loadConfig({ CHARLA_NODE_ID: 'a b' })).toThrow(/CHARLA_NODE_ID/);
  });
});
