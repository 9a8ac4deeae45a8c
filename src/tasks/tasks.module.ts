import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { GatewayModule } from '../gateway/gateway.module.js';
import { HttpLimitsModule } from '../http/http-limits.module.js';
import { RequestRegistryModule } from '../request-registry/request-registry.module.js';
import { StopsController } from './stops.controller.js';
import { TaskService } from './task.service.js';
import { TasksController } from './tasks.controller.js';

@Module({
  imports: [AuthModule, AgentModule, GatewayModule, HttpLimitsModule, RequestRegistryModule],
  controllers: [TasksController, StopsController],
  providers: [TaskService],
})
export class TasksModule {}
