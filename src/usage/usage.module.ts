import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { UsageController } from './usage.controller.js';
import { UsageLedger } from './usage-ledger.service.js';

@Module({
  imports: [AuthModule, RequestsModule],
  controllers: [UsageController],
  providers: [UsageLedger],
  exports: [UsageLedger],
})
export class UsageModule {}
