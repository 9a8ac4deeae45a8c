import type { Identity } from '../auth/api-key.service.js';
import type { SessionRecord } from './directory-records.js';
import type { SessionPrefs } from '../session/session.js';

/** What another instance needs to take the session over: whose it is and what it registered with. */
export function sessionRecord(identity: Identity, prefs: SessionPrefs, createdAt: number): SessionRecord {
  return {
    user_id: identity.userId,
    admin: identity.admin,
    platform: prefs.platform,
    require_tts: prefs.requireTts,
    audio_transport: prefs.audioTransport,
    durable: prefs.durable,
    client_tools: [...prefs.clientTools.values()],
    ...(prefs.audioInput && { audio_input: prefs.audioInput }),
    created_at: createdAt,
  };
}

export function restoredSession(record: SessionRecord): { identity: Identity; prefs: SessionPrefs } {
  return {
    identity: { userId: record.user_id, admin: record.admin },
    prefs: {
      platform: record.platform,
      requireTts: record.require_tts,
      audioTransport: record.audio_transport,
      durable: record.durable,
      clientTools: new Map(record.client_tools.map((tool) => [tool.function.name, tool])),
      ...(record.audio_input && { audioInput: record.audio_input }),
    },
  };
}
