import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { RequestRegistry } from './request-registry.service.js';
import { RequestsController } from './requests.controller.js';

@Module({
  imports: [AuthModule],
  controllers: [RequestsController],
  providers: [RequestRegistry],
  exports: [RequestRegistry],
})
export class RequestRegistryModule {}
