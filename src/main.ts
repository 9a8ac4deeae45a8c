import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { APP_OPTIONS, configureApp } from './bootstrap.js';
import { type AppConfig, ConfigError, loadConfig } from './config/config.schema.js';
import { ShutdownService } from './lifecycle/shutdown.service.js';

function configOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  const app = configureApp(await NestFactory.create(AppModule.forRoot(config), APP_OPTIONS), config);
  await app.listen(config.http.port, config.http.host);
  const logger = app.get(Logger);
  // The bound port, which differs from PORT when that is 0.
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  logger.log(`Gateway listening on ${config.http.host}:${port}, WebSocket at ${config.ws.path}`);
  // A graceful stop (see ShutdownService), then exit 0; a second signal does not wait.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      process.once(signal, () => process.exit(1));
      const server = app.getHttpServer() as Server;
      app
        .get(ShutdownService)
        .drain(signal)
        .then(() => {
          // Drained: whatever HTTP connection is left (idle, half-sent, a long poll) is closed, not waited for.
          server.close();
          server.closeAllConnections();
          return app.close();
        })
        .then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error(error);
            process.exit(1);
          },
        );
    });
  }
}

void main();
