import { pino, type Logger } from 'pino';

/** JSON lines on stdout; the level comes from LOG_LEVEL. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'doctown-embed' } });
}
