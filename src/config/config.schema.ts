import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { checkKeyNames, parseHeaderList, parseKeys } from './api-keys.js';
import { ConfigError } from './config-error.js';
import { type Env, envSchema, splitList } from './env.schema.js';
import { parseModelMap } from './model-map.js';

/**
 * Every setting the gateway reads, validated once at start into a typed tree.
 * The environment is the only source, so containers and the testing module
 * configure the gateway the same way.
 */
export type AppConfig = ReturnType<typeof toConfig>;

function toConfig(env: Env) {
  const apiKeys = parseKeys(env.GATEWAY_API_KEYS);
  const adminKeys = parseKeys(env.GATEWAY_ADMIN_KEYS);
  checkKeyNames([...apiKeys, ...adminKeys]);
  return {
    env: env.NODE_ENV,
    production: env.NODE_ENV === 'production',
    http: { host: env.HOST, port: env.PORT },
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY },
    // Operator keys are gateway keys too: with only those configured, the gateway is not open.
    auth: { apiKeys, adminKeys, openMode: apiKeys.length === 0 && adminKeys.length === 0 },
    ws: {
      path: env.WS_PATH,
      maxPayloadBytes: env.WS_MAX_PAYLOAD_BYTES,
      pingIntervalMs: env.WS_PING_INTERVAL_MS,
      pongTimeoutMs: env.WS_PONG_TIMEOUT_MS,
      registerTimeoutMs: env.WS_REGISTER_TIMEOUT_MS,
      sendHighWaterBytes: env.WS_SEND_HIGH_WATER_BYTES,
      sendHardLimitBytes: env.WS_SEND_HARD_LIMIT_BYTES,
      /** A socket the gateway closes: how long its last frames and the close handshake may take before it is cut. */
      closeTimeoutMs: env.WS_CLOSE_TIMEOUT_MS,
      /** A connection's messages waiting to be handled, in bytes: past this, its socket is not read until they are. */
      maxQueuedBytes: env.WS_MAX_QUEUED_BYTES,
    },
    /** How much JSON a client may send, over WebSocket or HTTP, checked before any schema runs. */
    json: { maxDepth: env.JSON_MAX_DEPTH, maxNodes: env.JSON_MAX_NODES },
    sessions: { resumeGraceMs: env.RESUME_GRACE_MS, taskTtlMs: env.TASK_TTL_MS },
    eventLog: { maxFrames: env.EVENT_LOG_MAX_FRAMES, maxBytes: env.EVENT_LOG_MAX_BYTES, maxAgeMs: env.EVENT_LOG_MAX_AGE_MS },
    shutdown: { deadlineMs: env.SHUTDOWN_DEADLINE_MS },
    limits: {
      maxSessions: env.MAX_SESSIONS,
      /** Sessions of one API key at once, with or without sockets (REST tasks' included): no key takes every slot. */
      maxSessionsPerKey: env.MAX_SESSIONS_PER_KEY,
      /** Open WebSockets, registered or not. */
      maxConnections: env.MAX_CONNECTIONS,
      maxConcurrentRequestsPerSession: env.MAX_CONCURRENT_REQUESTS_PER_SESSION,
      maxRequestTextChars: env.MAX_REQUEST_TEXT_CHARS,
      rateLimitPerSecond: env.RATE_LIMIT_MESSAGES_PER_SECOND,
      rateLimitBurst: env.RATE_LIMIT_BURST,
      /** INTERRUPTs have a bucket of their own: a client that floods other messages can still stop its requests. */
      interruptRateLimitPerSecond: env.RATE_LIMIT_INTERRUPTS_PER_SECOND,
      interruptRateLimitBurst: env.RATE_LIMIT_INTERRUPT_BURST,
      /** Microphone chunks (AUDIO, binary input frames, push-to-talk's REQUEST AUDIO) have a bucket of their own: 50 a second is a normal 20 ms stream. */
      audioRateLimitPerSecond: env.RATE_LIMIT_AUDIO_PER_SECOND,
      audioRateLimitBurst: env.RATE_LIMIT_AUDIO_BURST,
    },
    llm: {
      baseUrl: env.LLM_BASE_URL?.replace(/\/+$/, ''),
      apiKey: env.LLM_API_KEY,
      model: env.LLM_MODEL,
      systemPrompt: env.LLM_SYSTEM_PROMPT,
      connectTimeoutMs: env.LLM_CONNECT_TIMEOUT_MS,
      firstTokenTimeoutMs: env.LLM_FIRST_TOKEN_TIMEOUT_MS,
      idleTimeoutMs: env.LLM_IDLE_TIMEOUT_MS,
      requestTimeoutMs: env.LLM_REQUEST_TIMEOUT_MS,
      /** What LLM_BASE_URL speaks: OpenAI's chat completions, or Anthropic's Messages. */
      provider: env.LLM_PROVIDER,
      /** Model names clients ask for on the HTTP APIs → an upstream and its name. */
      modelMap: parseModelMap(env.LLM_MODEL_MAP),
      /** When set, the only names clients may ask for; others are MODEL_NOT_FOUND. */
      allowedModels: splitList(env.LLM_ALLOWED_MODELS),
      anthropic: { baseUrl: env.ANTHROPIC_BASE_URL?.replace(/\/+$/, ''), apiKey: env.ANTHROPIC_API_KEY },
    },
    httpApi: {
      maxBodyBytes: env.HTTP_MAX_BODY_BYTES,
      /** Model calls in flight and tasks running, together, per API key. */
      maxConcurrentPerKey: env.HTTP_MAX_CONCURRENT_PER_KEY,
      /** Origins allowed to call from a browser (`*`: any); empty: no CORS headers at all. */
      corsOrigins: splitList(env.HTTP_CORS_ORIGINS),
      forwardRequestHeaders: parseHeaderList(env.HTTP_FORWARD_REQUEST_HEADERS),
      forwardResponseHeaders: parseHeaderList(env.HTTP_FORWARD_RESPONSE_HEADERS),
      /** Usage records kept in memory for GET /v1/usage/records (the totals are kept whatever this says). */
      usageRecordsKept: env.USAGE_RECORDS_KEPT,
    },
    tts: {
      provider: env.TTS_PROVIDER,
      baseUrl: env.TTS_BASE_URL,
      apiKey: env.TTS_API_KEY,
      model: env.TTS_MODEL,
      voice: env.TTS_VOICE,
      format: env.TTS_FORMAT,
      sampleRate: env.TTS_SAMPLE_RATE,
      timeoutMs: env.TTS_TIMEOUT_MS,
      lookahead: env.TTS_LOOKAHEAD,
      chunkMs: env.TTS_CHUNK_MS,
      segment: {
        minChars: env.TTS_SEGMENT_MIN_CHARS,
        maxChars: env.TTS_SEGMENT_MAX_CHARS,
        firstMinChars: env.TTS_FIRST_SEGMENT_MIN_CHARS,
      },
      espeakBinary: env.ESPEAK_BINARY,
    },
    asr: {
      provider: env.ASR_PROVIDER,
      baseUrl: env.ASR_BASE_URL,
      apiKey: env.ASR_API_KEY,
      model: env.ASR_MODEL,
      /** The default for sessions whose REGISTER names none. */
      language: env.ASR_LANGUAGE,
      /** The longest the recognizer may take once the utterance is over (and between two of its messages while it streams). */
      timeoutMs: env.ASR_TIMEOUT_MS,
      pocketsphinx: { binary: env.POCKETSPHINX_BINARY, modelDir: env.POCKETSPHINX_MODEL_DIR },
    },
    voice: {
      vad: {
        /** WebRTC VAD aggressiveness, 0 (least) to 3 (most: fewest false detections). */
        mode: env.VAD_MODE,
        /** Voiced audio it takes to call it speech. */
        startMs: env.VAD_START_MS,
        /** Silence it takes to call the speech over. */
        silenceMs: env.VAD_SILENCE_MS,
        /** Audio before the onset that goes to the recognizer with the speech. */
        prefixPaddingMs: env.VAD_PREFIX_PADDING_MS,
      },
      /** Speech shorter than this never interrupts a reply. */
      minInterruptionMs: env.VAD_MIN_INTERRUPTION_MS,
      /** A reply paused by speech that was no interruption resumes at most this long after the speech ended. */
      falseInterruptionTimeoutMs: env.VAD_FALSE_INTERRUPTION_TIMEOUT_MS,
      /** The longest utterance (push-to-talk or hands-free) recognized; longer is AUDIO_TOO_LONG. */
      maxUtteranceMs: env.VAD_MAX_UTTERANCE_MS,
      /** Extra backchannel words, `lang:word|word; lang:…` (added to the built-in lists). */
      backchannels: env.VOICE_BACKCHANNELS,
    },
    history: {
      maxTurns: env.HISTORY_MAX_TURNS,
      maxTokens: env.HISTORY_MAX_TOKENS,
      /** How long, and for how many ended sessions at most, histories are kept after their session has ended. */
      retention: { ttlMs: env.HISTORY_TTL_MS, maxSessions: env.HISTORY_MAX_STORED_SESSIONS },
    },
    tools: {
      /** Server tools offered to the model (those that are also configured). */
      server: splitList(env.TOOLS_SERVER),
      maxRounds: env.TOOLS_MAX_ROUNDS,
      serverTimeoutMs: env.TOOLS_SERVER_TIMEOUT_MS,
      clientTimeoutMs: env.TOOLS_CLIENT_TIMEOUT_MS,
      http: {
        allowedHosts: splitList(env.TOOLS_HTTP_ALLOWED_HOSTS).map((h) => h.toLowerCase()),
        maxBytes: env.TOOLS_HTTP_MAX_BYTES,
        timeoutMs: env.TOOLS_HTTP_TIMEOUT_MS,
        allowedPorts: env.TOOLS_HTTP_ALLOWED_PORTS,
        /** Internal ranges (loopback, private, link-local…) that http_get may reach anyway. */
        allowedNetworks: env.TOOLS_HTTP_ALLOWED_NETWORKS,
      },
    },
    cluster: {
      /** Unset: one process, everything in memory. */
      redisUrl: env.REDIS_URL,
      keyPrefix: env.REDIS_KEY_PREFIX,
      /** Names this process in Redis: the owner of its sessions and requests. */
      instanceId: env.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      /** An instance whose heartbeat is older than this is dead: its requests are marked failed. */
      instanceTtlMs: env.CLUSTER_INSTANCE_TTL_MS,
      /** How long an instance waits for another to confirm a command (an interrupt, a handover). */
      commandTimeoutMs: env.CLUSTER_COMMAND_TIMEOUT_MS,
    },
    simulated: {
      tokensPerSecond: env.SIMULATED_TOKENS_PER_SECOND,
      firstTokenDelayMs: env.SIMULATED_FIRST_TOKEN_DELAY_MS,
      replyTokens: env.SIMULATED_REPLY_TOKENS,
    },
  };
}

export { ConfigError } from './config-error.js';

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = toConfig(parsed.data);
  if (config.production && config.auth.openMode) {
    throw new ConfigError(
      'GATEWAY_API_KEYS and GATEWAY_ADMIN_KEYS are empty and NODE_ENV=production: refusing to start without authentication',
    );
  }
  if ((config.tts.provider === 'openai' || config.tts.provider === 'dashscope') && !config.tts.apiKey && !config.tts.baseUrl) {
    throw new ConfigError(`TTS_PROVIDER=${config.tts.provider} needs TTS_API_KEY (or a TTS_BASE_URL of a server that needs none)`);
  }
  if ((config.asr.provider === 'openai' || config.asr.provider === 'dashscope') && !config.asr.apiKey && !config.asr.baseUrl) {
    throw new ConfigError(`ASR_PROVIDER=${config.asr.provider} needs ASR_API_KEY (or an ASR_BASE_URL of a server that needs none)`);
  }
  if (config.ws.sendHardLimitBytes <= config.ws.sendHighWaterBytes) {
    throw new ConfigError('WS_SEND_HARD_LIMIT_BYTES must be larger than WS_SEND_HIGH_WATER_BYTES');
  }
  return config;
}
