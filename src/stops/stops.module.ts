import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { SessionModule } from '../session/session.module.js';
import { RequestsController } from './requests.controller.js';
import { StopService } from './stop.service.js';
import { StopsController } from './stops.controller.js';

/** Every stop, of every scope, and the HTTP endpoints that ask for one. */
@Module({
  imports: [AuthModule, RequestsModule, SessionModule],
  controllers: [StopsController, RequestsController],
  providers: [StopService],
  exports: [StopService],
})
export class StopsModule {}
