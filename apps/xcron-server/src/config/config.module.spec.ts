import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config.loader';
import { ConfigModule } from './config.module';
import type { XcronOptions } from './config.schema';
import { XCRON_CONFIG } from './config.token';

@Injectable()
class NeedsConfig {
  constructor(@Inject(XCRON_CONFIG) readonly options: XcronOptions) {}
}

@Module({ providers: [NeedsConfig], exports: [NeedsConfig] })
class FeatureModule {}

describe('ConfigModule', () => {
  it('gives any module the loaded options under XCRON_CONFIG, without importing ConfigModule there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xcron-config-module-'));
    try {
      const file = join(dir, 'xcron.toml');
      writeFileSync(file, 'http_port = 8123\n');
      const options = loadConfig(file, { logger: { warn: () => undefined }, cwd: dir });
      const moduleRef = await Test.createTestingModule({
        imports: [ConfigModule.forRoot(options), FeatureModule],
      }).compile();
      expect(moduleRef.get(XCRON_CONFIG)).toBe(options);
      expect(moduleRef.get(NeedsConfig).options.httpPort).toBe(8123);
      await moduleRef.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
