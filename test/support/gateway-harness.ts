import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module.js';
import { APP_OPTIONS, configureApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { ShutdownService } from '../../src/lifecycle/shutdown.service.js';
import { own } from './test-resources.js';

export interface RunningGateway {
  app: INestApplication;
  /** http://127.0.0.1:port */
  httpUrl: string;
  /** ws://127.0.0.1:port/ws/agent */
  wsUrl: string;
  close(): Promise<void>;
}

/**
 * The whole application, built by the Nest testing module from an
 * environment (as production reads it), configured exactly as main.ts
 * configures it, listening on port 0.
 */
export async function startGateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const config = loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SHUTDOWN_DEADLINE_MS: '0', ...env });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  const app = configureApp(moduleRef.createNestApplication(APP_OPTIONS), config);
  // Clients of the tests (Node's fetch) keep spare keep-alive connections open, which close() would wait for.
  const close = async (): Promise<void> => {
    await app.get(ShutdownService).drain('TEST');
    const closing = app.close();
    (app.getHttpServer() as Server).closeAllConnections();
    await closing;
  };
  const release = own(close);
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return {
    app,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${config.ws.path}`,
    close: async () => {
      release();
      await close();
    },
  };
}
