import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startInProcessNode, type InProcessNode } from './testing/in-process-node';

describe('createXcronApp', () => {
  let node: InProcessNode;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    node = await startInProcessNode(['body_limit_bytes = 2048']);
    app = node.app;
  });

  afterAll(async () => {
    await node?.dispose();
  });

  it('answers GET /healthz with 200 {"status":"ok"}', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('answers an unknown route with 404', async () => {
    expect((await app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(404);
  });

  it('gives Fastify body_limit_bytes as its bodyLimit', () => {
    expect(app.getHttpAdapter().getInstance().initialConfig.bodyLimit).toBe(2048);
  });

  it('refuses a body over body_limit_bytes with 413 and lets one under it through', async () => {
    const post = (sizeBytes: number) =>
      app.inject({
        method: 'POST',
        url: '/healthz',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ pad: 'x'.repeat(sizeBytes - 10) }),
      });
    expect((await post(2049)).statusCode).toBe(413);
    // No POST route exists yet: past the size check, the request is simply not found.
    expect((await post(2048)).statusCode).toBe(404);
  });
});
