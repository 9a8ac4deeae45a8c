import { Module } from '@nestjs/common';
import { RequestRegistry } from './request-registry.service.js';

@Module({ providers: [RequestRegistry], exports: [RequestRegistry] })
export class RequestsModule {}
