import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * Every environment variable the gateway reads, with its default and its
 * bounds: the one list of settings (README's configuration table follows it).
 * config.schema.ts turns the parsed environment into the typed tree.
 */
const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();

export const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(8000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool(false),

  GATEWAY_API_KEYS: z.string().default(''),

  WS_PATH: z.string().startsWith('/').default('/ws/agent'),
  WS_MAX_PAYLOAD_BYTES: int(64 * 1024, 256),
  WS_PING_INTERVAL_MS: int(20_000, 100),
  WS_PONG_TIMEOUT_MS: int(10_000, 50),
  WS_REGISTER_TIMEOUT_MS: int(10_000, 50),
  WS_SEND_HIGH_WATER_BYTES: int(64 * 1024, 1024),
  WS_SEND_HARD_LIMIT_BYTES: int(8 * 1024 * 1024, 4096),
  WS_CLOSE_TIMEOUT_MS: int(10_000, 100),
  WS_MAX_QUEUED_BYTES: int(1024 * 1024, 1024),
  JSON_MAX_DEPTH: int(64, 4),
  JSON_MAX_NODES: int(100_000, 100),
  MAX_SESSIONS: int(10_000, 1),
  MAX_SESSIONS_PER_KEY: int(1_000, 1),
  MAX_CONNECTIONS: int(20_000, 1),
  RESUME_GRACE_MS: int(120_000, 100),
  EVENT_LOG_MAX_FRAMES: int(2000, 10),
  EVENT_LOG_MAX_BYTES: int(1024 * 1024, 1024),
  EVENT_LOG_MAX_AGE_MS: int(300_000, 1000),
  TASK_TTL_MS: int(3_600_000, 1000),
  SHUTDOWN_DEADLINE_MS: int(20_000, 0),
  MAX_CONCURRENT_REQUESTS_PER_SESSION: int(4, 1),
  MAX_REQUEST_TEXT_CHARS: int(32_000, 1),
  RATE_LIMIT_MESSAGES_PER_SECOND: int(20, 1),
  RATE_LIMIT_BURST: int(40, 1),
  RATE_LIMIT_INTERRUPTS_PER_SECOND: int(20, 1),
  RATE_LIMIT_INTERRUPT_BURST: int(40, 1),
  RATE_LIMIT_AUDIO_PER_SECOND: int(100, 1),
  RATE_LIMIT_AUDIO_BURST: int(200, 1),

  LLM_BASE_URL: optionalUrl,
  LLM_API_KEY: z.string().default(''),
  LLM_MODEL: z.string().default('gpt-4o-mini'),
  LLM_SYSTEM_PROMPT: z.string().default(''),
  LLM_CONNECT_TIMEOUT_MS: int(10_000, 1),
  LLM_FIRST_TOKEN_TIMEOUT_MS: int(30_000, 1),
  LLM_IDLE_TIMEOUT_MS: int(60_000, 1),
  LLM_REQUEST_TIMEOUT_MS: int(300_000, 1),
  LLM_MODEL_MAP: z.string().default(''),
  LLM_PROVIDER: z.enum(['openai', 'anthropic']).default('openai'),
  LLM_ALLOWED_MODELS: z.string().default(''),
  ANTHROPIC_BASE_URL: optionalUrl,
  ANTHROPIC_API_KEY: z.string().default(''),
  HTTP_MAX_BODY_BYTES: int(10 * 1024 * 1024, 1024),
  HTTP_MAX_CONCURRENT_PER_KEY: int(256, 1),
  HTTP_CORS_ORIGINS: z.string().default('*'),
  HTTP_FORWARD_REQUEST_HEADERS: z
    .string()
    .default('openai-organization,openai-project,openai-beta,anthropic-version,anthropic-beta,x-request-id,user-agent'),
  HTTP_FORWARD_RESPONSE_HEADERS: z
    .string()
    .default('x-ratelimit-*,anthropic-ratelimit-*,openai-processing-ms,openai-version,retry-after-ms'),
  USAGE_RECORDS_KEPT: int(1000, 0),
  GATEWAY_ADMIN_KEYS: z.string().default(''),

  TTS_PROVIDER: z.enum(['auto', 'espeak', 'openai', 'dashscope', 'none']).default('auto'),
  TTS_BASE_URL: optionalUrl,
  TTS_API_KEY: z.string().default(''),
  TTS_MODEL: z.string().optional(),
  TTS_VOICE: z.string().optional(),
  TTS_FORMAT: z.enum(['pcm', 'mp3', 'opus', 'wav']).default('pcm'),
  TTS_SAMPLE_RATE: int(24_000, 8000),
  TTS_TIMEOUT_MS: int(15_000, 1),
  TTS_LOOKAHEAD: int(1, 0),
  TTS_CHUNK_MS: int(200, 20),
  TTS_SEGMENT_MIN_CHARS: int(6, 1),
  TTS_SEGMENT_MAX_CHARS: int(200, 10),
  TTS_FIRST_SEGMENT_MIN_CHARS: int(10, 1),
  ESPEAK_BINARY: z.string().default('espeak-ng'),

  ASR_PROVIDER: z.enum(['auto', 'pocketsphinx', 'openai', 'dashscope', 'none']).default('auto'),
  ASR_BASE_URL: optionalUrl,
  ASR_API_KEY: z.string().default(''),
  ASR_MODEL: z.string().optional(),
  ASR_LANGUAGE: z.string().default('en'),
  ASR_TIMEOUT_MS: int(15_000, 1),
  POCKETSPHINX_BINARY: z.string().default('pocketsphinx_continuous'),
  POCKETSPHINX_MODEL_DIR: z.string().default('/usr/share/pocketsphinx/model/en-us'),
  VAD_MODE: z.coerce.number().int().min(0).max(3).default(3),
  VAD_START_MS: int(60, 20),
  VAD_SILENCE_MS: int(500, 100),
  VAD_PREFIX_PADDING_MS: int(300, 0),
  VAD_MIN_INTERRUPTION_MS: int(500, 0),
  VAD_FALSE_INTERRUPTION_TIMEOUT_MS: int(2000, 100),
  VAD_MAX_UTTERANCE_MS: int(60_000, 1000),
  VOICE_BACKCHANNELS: z.string().default(''),

  HISTORY_MAX_TURNS: int(20, 1),
  HISTORY_MAX_TOKENS: int(8000, 100),
  HISTORY_TTL_MS: int(3_600_000, 1000),
  HISTORY_MAX_STORED_SESSIONS: int(10_000, 0),

  TOOLS_SERVER: z.string().default('get_current_time,http_get'),
  TOOLS_MAX_ROUNDS: int(4, 1),
  TOOLS_SERVER_TIMEOUT_MS: int(15_000, 1),
  TOOLS_CLIENT_TIMEOUT_MS: int(30_000, 1),
  TOOLS_HTTP_ALLOWED_HOSTS: z.string().default(''),
  TOOLS_HTTP_MAX_BYTES: int(64 * 1024, 1),
  TOOLS_HTTP_TIMEOUT_MS: int(5_000, 1),
  TOOLS_HTTP_ALLOWED_PORTS: z
    .string()
    .default('80,443')
    .transform((raw, ctx) => {
      const ports = splitList(raw).map(Number);
      if (ports.some((port) => !Number.isInteger(port) || port < 1 || port > 65_535)) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of ports (1–65535)' });
      }
      return ports;
    }),
  TOOLS_HTTP_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .refine(
      (raw) => splitList(raw).every((cidr) => ipaddr.isValidCIDR(cidr)),
      'must be a comma-separated list of CIDR ranges (10.0.0.0/8, fd00::/8)',
    )
    .transform(splitList),

  REDIS_URL: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(
      z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
        .optional(),
    )
    .optional(),
  REDIS_KEY_PREFIX: z.string().max(64).default('agw:'),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'may contain only letters, digits and _ . : -')
    .optional(),
  CLUSTER_INSTANCE_TTL_MS: int(5_000, 300),
  CLUSTER_COMMAND_TIMEOUT_MS: int(2_000, 50),

  SIMULATED_TOKENS_PER_SECOND: int(40, 1),
  SIMULATED_FIRST_TOKEN_DELAY_MS: int(250, 0),
  SIMULATED_REPLY_TOKENS: int(600, 1),
});

export type Env = z.infer<typeof envSchema>;

/** `a, b,,c` → `['a','b','c']` */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
