import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { HttpLimitsModule } from '../http/http-limits.module.js';
import { SessionModule } from '../session/session.module.js';
import { StopsModule } from '../stops/stops.module.js';
import { TaskEvents } from './task-events.js';
import { TaskRecords } from './task-records.js';
import { TaskService } from './task.service.js';
import { TasksController } from './tasks.controller.js';

@Module({
  imports: [AuthModule, AgentModule, HttpLimitsModule, SessionModule, StopsModule],
  controllers: [TasksController],
  providers: [TaskService, TaskRecords, TaskEvents],
})
export class TasksModule {}
