import { type DynamicModule, Module } from '@nestjs/common';
import { ClusterModule } from './cluster/cluster.module.js';
import { RedisModule } from './redis/redis.module.js';
import { ConfigModule } from './config/config.module.js';
import { type AppConfig, loadConfig } from './config/config.schema.js';
import { CompletionsModule } from './completions/completions.module.js';
import { MessagesModule } from './messages/messages.module.js';
import { OllamaModule } from './ollama/ollama.module.js';
import { ResponsesModule } from './responses/responses.module.js';
import { DemoModule } from './demo/demo.module.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { LifecycleModule } from './lifecycle/lifecycle.module.js';
import { TasksModule } from './tasks/tasks.module.js';
import { UsageModule } from './usage/usage.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig = loadConfig()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(),
        MetricsModule,
        RedisModule,
        ClusterModule,
        GatewayModule,
        UsageModule,
        CompletionsModule,
        ResponsesModule,
        MessagesModule,
        OllamaModule,
        TasksModule,
        LifecycleModule,
        DemoModule,
      ],
    };
  }
}
