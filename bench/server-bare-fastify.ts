/**
 * Child of bench/server.bench.ts: the baseline of createTask/s, a bare fastify app with one POST
 * route that parses the JSON body and answers 200 with a small envelope. Nothing else: no
 * validation, no storage. `argv[2]` = port; sends `{type: 'ready'}` over IPC once listening.
 */
import Fastify from 'fastify';

const port = Number(process.argv[2]);

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  let n = 0;
  app.post('/xcron/createTask', async (request) => {
    const body = request.body as { type?: unknown };
    n++;
    return {
      uuid: String(n),
      code: body.type === undefined ? 1000 : 0,
      data: { task_id: String(n) },
    };
  });
  await app.listen({ port, host: '127.0.0.1' });
  process.send?.({ type: 'ready' });
  process.on('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
