import { lastValueFrom, Subject, toArray } from 'rxjs';
import {
  type AudioCapture,
  type AudioSource,
  type CaptureFormat,
  type ClientPayloads,
  GatewayClient,
  type GatewayClientOptions,
  type InterruptAckPayload,
  type PlaybackPausePayload,
  type PlaybackResumePayload,
  type RegisterAckPayload,
  type ReplyFrame,
  type SpeechStartedPayload,
  type SpeechStoppedPayload,
  type SpokenReply,
  type TranscriptPayload,
  VoiceInputUnavailableError,
} from '../src/index.js';
import { fromBase64 } from '../src/base64.js';
import { RecordingSink } from './support/recording-sink.js';
import { registerAck, ScriptedGateway } from './support/scripted-gateway.js';

/** A microphone the test speaks into. */
class FakeMicrophone implements AudioSource {
  readonly opened: CaptureFormat[] = [];
  stopped = 0;
  refusal?: Error;
  private chunks?: Subject<Uint8Array<ArrayBuffer>>;

  async open(format: CaptureFormat): Promise<AudioCapture> {
    if (this.refusal) throw this.refusal;
    this.opened.push(format);
    const chunks = new Subject<Uint8Array<ArrayBuffer>>();
    this.chunks = chunks;
    return {
      chunks$: chunks.asObservable(),
      stop: () => {
        this.stopped += 1;
        chunks.complete();
      },
    };
  }

  speak(pcm: Uint8Array<ArrayBuffer>): void {
    this.chunks?.next(pcm);
  }
}

/** `samples` 16-bit samples, each its own index: every chunk tells where it was cut from. */
const pcm = (samples: number, from = 0) => new Uint8Array(new Int16Array(samples).map((_, i) => from + i).buffer);
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

type AudioRequest = Extract<ClientPayloads['REQUEST'], { data_type: 'AUDIO' }>;

describe('voice input, against a scripted gateway', () => {
  let gateway: ScriptedGateway;
  let sink: RecordingSink;
  let microphone: FakeMicrophone;
  let client: GatewayClient;

  const connect = async (options: Partial<GatewayClientOptions> = {}, ack: RegisterAckPayload = registerAck()) => {
    gateway = new ScriptedGateway(ack);
    sink = new RecordingSink();
    microphone = new FakeMicrophone();
    client = new GatewayClient({
      url: 'ws://gateway.test/ws/agent',
      webSocket: gateway.webSocket,
      player: sink,
      microphone,
      audioInput: {},
      reconnect: false,
      ...options,
    });
    await client.connect();
  };
  const collect = <T>(source: { subscribe(next: (value: T) => void): unknown }) => {
    const values: T[] = [];
    source.subscribe((value) => values.push(value));
    return values;
  };
  const audioFrame = (requestId: string, seq: number) =>
    gateway.send('RESPONSE', {
      request_id: requestId,
      voice_stream_seq: seq,
      content: {
        audio: base64(pcm(2400)),
        audio_format: { codec: 'pcm_s16le', sample_rate: 24_000, channels: 1 },
        duration_ms: 100,
        segment_index: 0,
      },
    });
  const textFrame = (requestId: string, index: number, text: string) =>
    gateway.send('RESPONSE', { request_id: requestId, text_stream_seq: index, content: { text } });
  const endFrame = (requestId: string, interrupted: boolean, extra: { interrupt_reason?: string; heard_text?: string } = {}) =>
    gateway.send('RESPONSE', {
      request_id: requestId,
      text_stream_seq: -1,
      voice_stream_seq: -1,
      content: {},
      interrupted,
      ...extra,
      usage: { prompt_tokens: null, completion_tokens: 1, total_tokens: null, source: 'estimated' },
      timing: { first_token_ms: 1, total_ms: 2 },
      voice_frames: 0,
    });
  const audioRequests = () => gateway.payloads('REQUEST').filter((r): r is AudioRequest => r.data_type === 'AUDIO');

  afterEach(() => client.close());

  describe('REGISTER', () => {
    it('asks for hands-free voice at 16 kHz by default', async () => {
      await connect();
      expect(gateway.payloads('REGISTER')[0].audio_input).toEqual({
        audio_format: { codec: 'pcm_s16le', sample_rate: 16_000, channels: 1 },
        turn_detection: 'server_vad',
      });
    });

    it('asks for the rate, the turn detection and the language given', async () => {
      await connect({ audioInput: { sampleRate: 24_000, turnDetection: 'manual', language: 'en' } });
      expect(gateway.payloads('REGISTER')[0].audio_input).toEqual({
        audio_format: { codec: 'pcm_s16le', sample_rate: 24_000, channels: 1 },
        turn_detection: 'manual',
        language: 'en',
      });
    });

    it('asks for none without audioInput', async () => {
      await connect({ audioInput: undefined });
      expect(gateway.payloads('REGISTER')[0]).not.toHaveProperty('audio_input');
    });
  });

  describe('hands-free', () => {
    it('streams the microphone as AUDIO messages when the session’s audio is JSON, in the format REGISTER_ACK names', async () => {
      await connect({}, registerAck({ tts: { enabled: true, audio_transport: 'json' } }));
      const listening = collect(client.listening$);
      await client.startMicrophone();
      expect(client.listening).toBe(true);
      expect(microphone.opened).toEqual([{ codec: 'pcm_s16le', sample_rate: 16_000, channels: 1 }]);
      microphone.speak(pcm(320));
      microphone.speak(pcm(320, 320));
      const sent = gateway.payloads('AUDIO').map((p) => fromBase64(p.content.audio));
      expect(sent).toEqual([pcm(320), pcm(320, 320)]);

      client.stopMicrophone();
      expect(microphone.stopped).toBe(1);
      expect(client.listening).toBe(false);
      expect(listening).toEqual([false, true, false]);
      microphone.speak(pcm(320));
      expect(gateway.payloads('AUDIO')).toHaveLength(2);
    });

    it('streams binary frames of kind 0x02, with no request id, when the session’s audio is binary', async () => {
      await connect({}, registerAck({ tts: { enabled: true, audio_transport: 'binary' } }));
      await client.startMicrophone();
      microphone.speak(pcm(320));
      expect(gateway.binaryFrames()).toEqual([{ streamSeq: 0, audio: pcm(320) }]);
      expect(gateway.payloads('AUDIO')).toEqual([]);
    });

    it('starts once however often it is asked, and opens the device again after a stop', async () => {
      await connect();
      await Promise.all([client.startMicrophone(), client.startMicrophone()]);
      await client.startMicrophone();
      expect(microphone.opened).toHaveLength(1);
      client.stopMicrophone();
      await client.startMicrophone();
      expect(microphone.opened).toHaveLength(2);
    });

    it('closes a device that opens after stopMicrophone() was called', async () => {
      await connect();
      const starting = client.startMicrophone();
      client.stopMicrophone();
      await starting;
      expect(microphone.stopped).toBe(1);
      expect(client.listening).toBe(false);
    });

    it('refuses when the session takes no hands-free voice, and says why', async () => {
      await connect({}, registerAck({ audio_input: { enabled: false, reason: 'no speech recognizer configured' } }));
      await expect(client.startMicrophone()).rejects.toEqual(new VoiceInputUnavailableError('no speech recognizer configured'));
      client.close();
      await connect({}, registerAck({ audio_input: { enabled: true, turn_detection: 'manual' } }));
      await expect(client.startMicrophone()).rejects.toBeInstanceOf(VoiceInputUnavailableError);
      client.close();
      await connect({}, registerAck({ audio_input: undefined }));
      await expect(client.startMicrophone()).rejects.toMatchObject({ reason: 'the gateway does not take voice input' });
      expect(microphone.opened).toEqual([]);
    });

    it('passes on the device’s refusal, and is not listening', async () => {
      await connect();
      microphone.refusal = new Error('NotAllowedError');
      await expect(client.startMicrophone()).rejects.toThrow('NotAllowedError');
      expect(client.listening).toBe(false);
    });

    it('closes the microphone when the client closes', async () => {
      await connect();
      await client.startMicrophone();
      client.close();
      expect(microphone.stopped).toBe(1);
    });
  });

  describe('what the gateway hears', () => {
    it('tells speech starting and stopping, and the transcripts', async () => {
      await connect();
      const started = collect<SpeechStartedPayload>(client.speechStarted$);
      const stopped = collect<SpeechStoppedPayload>(client.speechStopped$);
      const transcripts = collect<TranscriptPayload>(client.transcripts$);
      gateway.send('SPEECH_STARTED', { speech_id: 'sp1', audio_start_ms: 1200 });
      gateway.send('TRANSCRIPT', { speech_id: 'sp1', text: 'what is', final: false });
      gateway.send('SPEECH_STOPPED', { speech_id: 'sp1', audio_end_ms: 2900 });
      expect(started).toEqual([{ speech_id: 'sp1', audio_start_ms: 1200 }]);
      expect(stopped).toEqual([{ speech_id: 'sp1', audio_end_ms: 2900 }]);
      expect(transcripts).toEqual([{ speech_id: 'sp1', text: 'what is', final: false }]);
    });

    it('opens the reply of a request the gateway started from the user’s speech, announced by its final transcript', async () => {
      await connect();
      const spoken = collect<SpokenReply>(client.spokenReplies$);
      const adopted = collect(client.adopted$);
      // A backchannel starts nothing: no request id.
      gateway.send('TRANSCRIPT', { speech_id: 'sp0', text: 'uh-huh', final: true });
      gateway.send('TRANSCRIPT', { speech_id: 'sp1', request_id: 'voice_1', text: 'what is the weather like today', final: true });
      expect(spoken).toHaveLength(1);
      const [{ reply, transcript }] = spoken;
      expect(transcript.text).toBe('what is the weather like today');
      expect(reply).toMatchObject({ requestId: 'voice_1', origin: 'speech', adopted: false });
      const frames = lastValueFrom(reply.pipe(toArray()));
      textFrame('voice_1', 0, 'Sunny. ');
      textFrame('voice_1', 1, 'Warm.');
      endFrame('voice_1', false);
      expect(await reply.text()).toBe('Sunny. Warm.');
      expect((await frames).map((f) => f.kind)).toEqual(['text', 'text', 'end']);
      expect(adopted).toEqual([]);
    });
  });

  describe('speaking over a reply', () => {
    it('pauses its audio at once on PLAYBACK_PAUSE, reports where each request paused, and plays on after PLAYBACK_RESUME', async () => {
      await connect();
      const paused = collect<PlaybackPausePayload>(client.playbackPaused$);
      const resumed = collect<PlaybackResumePayload>(client.playbackResumed$);
      const reply = client.request('tell me a story');
      for (let seq = 0; seq < 4; seq++) audioFrame(reply.requestId, seq);
      sink.hear(reply.requestId, 2, 130);
      const reportsBefore = gateway.payloads('PLAYBACK').length;

      gateway.send('PLAYBACK_PAUSE', { request_ids: [reply.requestId, 'not_playing'], speech_id: 'sp1' });
      expect(sink.pauses).toEqual([`pause:${reply.requestId}`, 'pause:not_playing']);
      expect(gateway.payloads('PLAYBACK').slice(reportsBefore)).toEqual([
        { request_id: reply.requestId, voice_stream_seq: 2, played_ms: 130 },
        // Nothing of it was played: nothing heard.
        { request_id: 'not_playing', voice_stream_seq: 0, played_ms: 0 },
      ]);
      expect(paused).toEqual([{ request_ids: [reply.requestId, 'not_playing'], speech_id: 'sp1' }]);

      gateway.send('PLAYBACK_RESUME', { request_ids: [reply.requestId], speech_id: 'sp1', reason: 'backchannel' });
      expect(sink.pauses.at(-1)).toBe(`resume:${reply.requestId}`);
      expect(resumed).toEqual([{ request_ids: [reply.requestId], speech_id: 'sp1', reason: 'backchannel' }]);
      // The frames the gateway held come now, and go to the player behind the others.
      audioFrame(reply.requestId, 4);
      expect(sink.chunksOf(reply.requestId).map((c) => c.voiceStreamSeq)).toEqual([0, 1, 2, 3, 4]);
      expect(reply.interrupted).toBe(false);
      expect(gateway.payloads('INTERRUPT')).toEqual([]);
    });

    it('stops the reply when the gateway says the speech interrupted it (USER_SPEECH), and follows the reply it starts', async () => {
      await connect();
      const byGateway = collect<InterruptAckPayload>(client.gatewayInterrupts$);
      const spoken = collect<SpokenReply>(client.spokenReplies$);
      const reply = client.request('tell me a story');
      const frames: ReplyFrame[] = [];
      reply.subscribe((frame) => frames.push(frame));
      textFrame(reply.requestId, 0, 'Once upon ');
      audioFrame(reply.requestId, 0);
      gateway.send('PLAYBACK_PAUSE', { request_ids: [reply.requestId], speech_id: 'sp1' });

      const ack: InterruptAckPayload = {
        interrupt_request_id: reply.requestId,
        scope: 'request',
        interrupted_request_ids: [reply.requestId],
        status: 'SUCCESS',
        reason: 'USER_SPEECH',
      };
      gateway.send('INTERRUPT_ACK', ack, false);
      expect(reply.interrupted).toBe(true);
      expect(sink.stopped).toEqual([reply.requestId]);
      expect(byGateway).toEqual([ack]);
      // Already on its way when the gateway stopped it: dropped, as after interrupt().
      textFrame(reply.requestId, 1, 'a time');
      endFrame(reply.requestId, true, { interrupt_reason: 'USER_SPEECH', heard_text: 'Once' });
      expect(await reply.ended()).toMatchObject({ interrupted: true, interrupt_reason: 'USER_SPEECH', heard_text: 'Once' });
      expect(frames.map((f) => f.kind)).toEqual(['text', 'audio', 'end']);
      // The client sent no INTERRUPT of its own.
      expect(gateway.payloads('INTERRUPT')).toEqual([]);

      gateway.send('TRANSCRIPT', { speech_id: 'sp1', request_id: 'voice_2', text: 'stop, tell me the time', final: true });
      textFrame('voice_2', 0, 'It is noon.');
      endFrame('voice_2', false);
      expect(spoken.map((s) => s.reply.requestId)).toEqual(['voice_2']);
      expect(await spoken[0].reply.text()).toBe('It is noon.');
    });

    it('drops the audio of a paused reply that ends interrupted, the ACK that says so unseen (a RESUME replays no ACKs)', async () => {
      await connect();
      const reply = client.request('tell me a story');
      audioFrame(reply.requestId, 0);
      gateway.send('PLAYBACK_PAUSE', { request_ids: [reply.requestId], speech_id: 'sp1' });
      endFrame(reply.requestId, true, { interrupt_reason: 'USER_SPEECH' });
      expect(sink.stopped).toEqual([reply.requestId]);

      // Ended while paused, not interrupted: its audio still waits for PLAYBACK_RESUME.
      const other = client.request('and another');
      audioFrame(other.requestId, 0);
      gateway.send('PLAYBACK_PAUSE', { request_ids: [other.requestId], speech_id: 'sp2' });
      endFrame(other.requestId, false);
      expect(sink.stopped).toEqual([reply.requestId]);
    });
  });

  describe('push-to-talk', () => {
    it('sends START, CONTINUE… and END, numbered 0, 1, 2…, and the reply is the request’s', async () => {
      await connect({}, registerAck({ tts: { enabled: true, audio_transport: 'json' } }));
      const spoken = collect<SpokenReply>(client.spokenReplies$);
      const utterance = client.beginUtterance({ requestId: 'ptt_1', speak: true });
      utterance.push(pcm(320));
      utterance.push(new Uint8Array(0));
      utterance.push(pcm(320, 320));
      const reply = utterance.end();
      expect(reply).toBe(utterance.reply);
      expect(audioRequests()).toEqual([
        { request_id: 'ptt_1', data_type: 'AUDIO', stream_flag: 'START', stream_seq: 0, content: { audio: '' }, require_tts: true },
        { request_id: 'ptt_1', data_type: 'AUDIO', stream_flag: 'CONTINUE', stream_seq: 1, content: { audio: base64(pcm(320)) } },
        { request_id: 'ptt_1', data_type: 'AUDIO', stream_flag: 'CONTINUE', stream_seq: 2, content: { audio: base64(pcm(320, 320)) } },
        { request_id: 'ptt_1', data_type: 'AUDIO', stream_flag: 'END', stream_seq: 3, content: { audio: '' } },
      ]);

      gateway.send('TRANSCRIPT', { request_id: 'ptt_1', text: 'hello', final: true });
      textFrame('ptt_1', 0, 'Hi!');
      endFrame('ptt_1', false);
      expect(await reply.text()).toBe('Hi!');
      expect(reply.origin).toBe('client');
      // The client's own request: not a spoken reply of the gateway's.
      expect(spoken).toEqual([]);
      expect(() => utterance.push(pcm(2))).toThrow('is over');
      expect(() => utterance.end()).toThrow('is over');
    });

    it('sends the CONTINUE chunks as binary frames named by the request when the session’s audio is binary', async () => {
      await connect({}, registerAck({ tts: { enabled: true, audio_transport: 'binary' } }));
      const utterance = client.beginUtterance({ requestId: 'ptt_2' });
      utterance.push(pcm(320));
      utterance.push(pcm(320, 320));
      utterance.end();
      expect(audioRequests().map((r) => [r.stream_flag, r.stream_seq])).toEqual([
        ['START', 0],
        ['END', 3],
      ]);
      expect(gateway.binaryFrames()).toEqual([
        { requestId: 'ptt_2', streamSeq: 1, audio: pcm(320) },
        { requestId: 'ptt_2', streamSeq: 2, audio: pcm(320, 320) },
      ]);
      // In order on the wire: START, the chunks, END.
      expect(
        gateway.written.slice(-4).map((w) => (w.kind === 'binary' ? 'binary' : (w.envelope.payload as AudioRequest).stream_flag)),
      ).toEqual(['START', 'binary', 'binary', 'END']);
    });

    it('cuts a long push into chunks that fit the gateway’s frames, and refuses half a sample', async () => {
      await connect(
        {},
        registerAck({ tts: { enabled: true, audio_transport: 'json' }, limits: { ...registerAck().limits, max_payload_bytes: 4096 } }),
      );
      const utterance = client.beginUtterance();
      const long = pcm(10_000);
      utterance.push(long);
      const chunks = audioRequests().filter((r) => r.stream_flag === 'CONTINUE');
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.map((c) => c.stream_seq)).toEqual(chunks.map((_, i) => i + 1));
      for (const chunk of chunks) expect(JSON.stringify(chunk).length).toBeLessThan(4096);
      const joined = chunks.flatMap((c) => [...fromBase64(c.content.audio ?? '')]);
      expect(new Uint8Array(joined)).toEqual(long);
      expect(() => utterance.push(new Uint8Array(3))).toThrow(RangeError);
    });

    it('barges in: the replies still running are interrupted (USER_NEW_INPUT) before the START', async () => {
      await connect();
      const running = client.request('tell me a story');
      client.beginUtterance({ requestId: 'ptt_3' });
      expect(running.interrupted).toBe(true);
      const order = gateway.written.flatMap((w) => (w.kind === 'envelope' ? [w.envelope.msg_type] : []));
      expect(order.slice(-2)).toEqual(['INTERRUPT', 'REQUEST']);
      expect(gateway.payloads('INTERRUPT')).toEqual([{ interrupt_request_id: running.requestId, reason: 'USER_NEW_INPUT' }]);

      const other = client.request('and another');
      client.beginUtterance({ bargeIn: false });
      expect(other.interrupted).toBe(false);
    });

    it('tells the format to capture in: REGISTER_ACK’s, else what REGISTER asked for', async () => {
      await connect({ audioInput: { sampleRate: 24_000 } }, registerAck({ audio_input: { enabled: true, turn_detection: 'manual' } }));
      expect(client.audioInputFormat).toEqual({ codec: 'pcm_s16le', sample_rate: 24_000, channels: 1 });
      client.close();
      await connect({ audioInput: { sampleRate: 24_000 } });
      expect(client.audioInputFormat).toEqual({ codec: 'pcm_s16le', sample_rate: 16_000, channels: 1 });
    });

    it('announces a format of its own on START', async () => {
      await connect();
      client.beginUtterance({ requestId: 'ptt_4', format: { codec: 'pcm_s16le', sample_rate: 48_000, channels: 1 } });
      expect(audioRequests()[0].content).toEqual({ audio: '', audio_format: { codec: 'pcm_s16le', sample_rate: 48_000, channels: 1 } });
    });

    it('cancel() stops the request with an INTERRUPT', async () => {
      await connect();
      const utterance = client.beginUtterance({ requestId: 'ptt_5' });
      utterance.push(pcm(320));
      const outcome = utterance.cancel();
      expect(utterance.reply.interrupted).toBe(true);
      expect(gateway.payloads('INTERRUPT')).toEqual([{ interrupt_request_id: 'ptt_5', reason: 'USER_CANCEL' }]);
      gateway.send(
        'INTERRUPT_ACK',
        { interrupt_request_id: 'ptt_5', scope: 'request', interrupted_request_ids: ['ptt_5'], status: 'SUCCESS', reason: 'USER_CANCEL' },
        false,
      );
      expect((await outcome).ack.status).toBe('SUCCESS');
      expect(() => utterance.push(pcm(2))).toThrow('is over');
      expect(audioRequests().map((r) => r.stream_flag)).toEqual(['START', 'CONTINUE']);
    });
  });
});
