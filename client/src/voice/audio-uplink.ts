import { type ClientPayloads, encodeInputAudioFrame } from '@agent-gateway/protocol';
import type { CaptureFormat } from '../audio/audio-source.js';
import { toBase64 } from '../base64.js';
import type { SessionLink } from '../connection/session-link.js';

/** The gateway's frame limit when there is no REGISTER_ACK to tell it yet. */
const DEFAULT_MAX_PAYLOAD_BYTES = 65_536;
/** Room for the envelope around the base64, and for the binary frame's header. */
const ENVELOPE_BYTES = 512;

/** Options of one push-to-talk REQUEST. */
export interface UtteranceStart {
  requestId: string;
  speak?: boolean;
  durable?: boolean;
  /** This turn's format, when it is not the session's. */
  format?: CaptureFormat;
}

/**
 * How the user's voice goes on the wire, in the session's audio transport:
 * hands-free, the microphone's stream as AUDIO messages or binary frames of
 * kind 0x02; push-to-talk, one REQUEST (`data_type: "AUDIO"`) as START,
 * CONTINUE… and END, numbered by `stream_seq`, its CONTINUE chunks binary
 * frames when the transport is binary.
 */
export class AudioUplink {
  constructor(
    private readonly link: SessionLink,
    /** The transport REGISTER asked for, until REGISTER_ACK says which the session has. */
    private readonly requestedTransport: 'json' | 'binary',
  ) {}

  /** Hands-free: live audio goes now or never (captured while the connection is down, it would come too late to be a turn). */
  stream(pcm: Uint8Array): void {
    for (const piece of this.pieces(pcm)) {
      if (this.binary) this.link.sendBinaryIfOpen(encodeInputAudioFrame(piece));
      else this.link.sendIfOpen('AUDIO', { content: { audio: toBase64(piece) } });
    }
  }

  /** Push-to-talk: its START (stream_seq 0), queued while disconnected like any REQUEST; `onSent` once it is on a socket. */
  start({ requestId, speak, durable, format }: UtteranceStart, onSent: () => void): void {
    this.link.send(
      'REQUEST',
      {
        ...this.request(requestId, 'START', 0, ''),
        ...(format && { content: { audio: '', audio_format: format } }),
        ...(speak !== undefined && { require_tts: speak }),
        ...(durable !== undefined && { durable }),
      },
      { onSent },
    );
  }

  /** The utterance's audio after START, from `stream_seq` `firstSeq` on; returns the next stream_seq. */
  continue(requestId: string, firstSeq: number, pcm: Uint8Array): number {
    let seq = firstSeq;
    for (const piece of this.pieces(pcm)) {
      if (this.binary) this.link.sendBinary(encodeInputAudioFrame(piece, { requestId, streamSeq: seq }));
      else this.link.send('REQUEST', this.request(requestId, 'CONTINUE', seq, toBase64(piece)));
      seq += 1;
    }
    return seq;
  }

  /** The utterance is over: the gateway recognizes it and replies. */
  end(requestId: string, seq: number): void {
    this.link.send('REQUEST', this.request(requestId, 'END', seq, ''));
  }

  private request(
    requestId: string,
    flag: 'START' | 'CONTINUE' | 'END',
    seq: number,
    audio: string,
  ): Extract<ClientPayloads['REQUEST'], { data_type: 'AUDIO' }> {
    return { request_id: requestId, data_type: 'AUDIO', stream_flag: flag, stream_seq: seq, content: { audio } };
  }

  private get binary(): boolean {
    return (this.link.session?.tts.audio_transport ?? this.requestedTransport) === 'binary';
  }

  /** PCM in pieces that fit in a frame of the gateway's (base64 grows it by a third), each whole samples. */
  private pieces(pcm: Uint8Array): Uint8Array[] {
    if (pcm.length % 2 !== 0) throw new RangeError('PCM must be whole 16-bit samples (an even number of bytes)');
    const limit = (this.link.session?.limits.max_payload_bytes ?? DEFAULT_MAX_PAYLOAD_BYTES) - ENVELOPE_BYTES;
    const raw = this.binary ? limit : Math.floor((limit * 3) / 4);
    const size = Math.max(2, raw - (raw % 2));
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < pcm.length; at += size) pieces.push(pcm.subarray(at, at + size));
    return pieces;
  }
}
