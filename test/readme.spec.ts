import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSeedCodeTable } from '../apps/xcron-server/src/api/api.codes';
import { renderConfigTable } from '../apps/xcron-server/src/config/config.docs';

/** README is for a new user and must stay true: its configuration table is the schema's. */
describe('README', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

  it('documents exactly the configuration keys the server accepts', () => {
    const start = readme.indexOf('<!-- config-table:start');
    const end = readme.indexOf('<!-- config-table:end -->');
    expect(start).toBeGreaterThan(0);
    const table = readme.slice(readme.indexOf('\n', start) + 1, end).trim();
    expect(table).toBe(renderConfigTable().trim());
  });

  it('lists exactly the result codes the API answers', () => {
    const start = readme.indexOf('<!-- code-table:start');
    const end = readme.indexOf('<!-- code-table:end -->');
    expect(start).toBeGreaterThan(0);
    const table = readme.slice(readme.indexOf('\n', start) + 1, end).trim();
    expect(table).toBe(renderSeedCodeTable().trim());
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys(
      JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).scripts as object,
    );
    const used = [...readme.matchAll(/npm run ([a-z:]+)/g)]
      .map((m) => m[1])
      .filter((s) => !['ci', 'run', 'start', 'test'].includes(s));
    for (const script of used) expect(scripts).toContain(script);
  });
});
