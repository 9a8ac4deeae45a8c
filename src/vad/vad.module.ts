import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { FvadEngine } from './fvad.engine.js';
import { VadService } from './vad.service.js';

async function createVadService(config: AppConfig): Promise<VadService> {
  try {
    return new VadService(await FvadEngine.load(config.voice.vad.mode), undefined);
  } catch (error) {
    const reason = `the WebRTC VAD did not load (${(error as Error).message})`;
    new Logger('Vad').error(`${reason}: hands-free input is off`);
    return new VadService(null, reason);
  }
}

@Module({
  providers: [{ provide: VadService, useFactory: createVadService, inject: [APP_CONFIG] }],
  exports: [VadService],
})
export class VadModule {}
