import { PinoLogger } from 'nestjs-pino';

/** A service's logger, for a spec that builds the service by hand: nothing written. */
export function silentLogger(): PinoLogger {
  return new PinoLogger({ pinoHttp: { level: 'silent' } });
}
