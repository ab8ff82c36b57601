import { pino } from 'pino';
import type { Logger } from 'pino';

/** Logs go to stderr as JSON lines; commands keep stdout for their own output. */
export function cliLogger(env: NodeJS.ProcessEnv, fallbackLevel = 'warn'): Logger {
  return pino({ level: env.STAGECOACH_LOG_LEVEL ?? fallbackLevel, base: undefined }, pino.destination(2));
}
