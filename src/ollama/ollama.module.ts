import { Module } from '@nestjs/common';
import { ModelCallsModule } from '../model-calls/model-calls.module.js';
import { OllamaController } from './ollama.controller.js';
import { OllamaService } from './ollama.service.js';

/** Ollama's API (`/api/chat`, `/api/generate`, `/api/embed`, `/api/tags`…). */
@Module({ imports: [ModelCallsModule], controllers: [OllamaController], providers: [OllamaService] })
export class OllamaModule {}
