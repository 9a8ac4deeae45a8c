import { NEVER, Observable, of, Subject, type Subscriber, type Subscription } from 'rxjs';
import { loadConfig } from '../config/config.schema.js';
import { SpeechService } from '../tts/speech.service.js';
import { type SynthesisRequest, type TtsDescriptor, TtsError, TtsProvider } from '../tts/tts-provider.js';
import { type ReplyEvent, withSpeech } from './reply-events.js';

/** One synthesis of the fake engine: the test streams its audio and sees whether it was torn down before its end. */
class Synthesis {
  tornDown = false;
  private finished = false;
  constructor(
    readonly text: string,
    private readonly subscriber: Subscriber<Buffer>,
  ) {}
  audio(bytes: number): void {
    this.subscriber.next(Buffer.alloc(bytes));
  }
  end(): void {
    this.finished = true;
    this.subscriber.complete();
  }
  fail(error: Error): void {
    this.finished = true;
    this.subscriber.error(error);
  }
  get aborted(): boolean {
    return this.tornDown && !this.finished;
  }
}

class ScriptedTts extends TtsProvider {
  // 8 kHz mono PCM: 16 bytes a millisecond, so a 200 ms frame is 3200 bytes.
  readonly descriptor: TtsDescriptor = { provider: 'scripted', voice: 'v', format: { codec: 'pcm_s16le', sample_rate: 8000, channels: 1 } };
  readonly syntheses: Synthesis[] = [];
  synthesize(request: SynthesisRequest): Observable<Buffer> {
    return new Observable<Buffer>((subscriber) => {
      const synthesis = new Synthesis(request.text, subscriber);
      this.syntheses.push(synthesis);
      return () => (synthesis.tornDown = true);
    });
  }
}

const config = loadConfig({ TTS_CHUNK_MS: '200', TTS_LOOKAHEAD: '1' });
const text = (t: string): ReplyEvent => ({ source: 'llm', event: { type: 'text', text: t } });
const labelOf = (event: ReplyEvent): string => {
  switch (event.source) {
    case 'llm':
      return event.event.type === 'text' || event.event.type === 'reasoning' ? `${event.event.type}:${event.event.text}` : event.event.type;
    case 'speech':
      return event.event.type === 'chunk'
        ? `audio:${event.event.chunk.segment}:${event.event.chunk.durationMs}`
        : `end:${event.event.segment}`;
    case 'speech-failed':
      return `speech-failed:${event.error.code}`;
    case 'tool':
      return 'tool';
  }
};

describe('withSpeech', () => {
  let tts: ScriptedTts;
  let reply: Subject<ReplyEvent>;
  let replySubscriptions: number;
  let replyTornDown: boolean;
  let speechTornDown: boolean;
  let labels: string[];
  let outcome: 'running' | 'completed' | Error;
  let subscription: Subscription;

  beforeEach(() => {
    tts = new ScriptedTts();
    reply = new Subject<ReplyEvent>();
    replySubscriptions = 0;
    replyTornDown = false;
    speechTornDown = false;
    labels = [];
    outcome = 'running';
    // The reply as the model rounds give it: cold, torn down on unsubscribe.
    const reply$ = new Observable<ReplyEvent>((subscriber) => {
      replySubscriptions += 1;
      const inner = reply.subscribe(subscriber);
      return () => {
        replyTornDown = true;
        inner.unsubscribe();
      };
    });
    const speech = new SpeechService(tts, undefined, config.tts);
    subscription = withSpeech(reply$, {
      speech,
      flow: { paused$: of(false) },
      stop$: NEVER,
      onTornDown: () => (speechTornDown = true),
    }).subscribe({
      next: (event) => labels.push(labelOf(event)),
      complete: () => (outcome = 'completed'),
      error: (error: Error) => (outcome = error),
    });
  });

  it('passes the reply on and speaks its text, each sentence after the text that made it, in frames of equal length', () => {
    reply.next({ source: 'llm', event: { type: 'reasoning', text: 'The user greets me.' } });
    reply.next(text('Hello there. '));
    expect(tts.syntheses.map((s) => s.text)).toEqual(['Hello there.']);
    tts.syntheses[0].audio(4000);
    reply.next(text('Bye'));
    reply.next({ source: 'llm', event: { type: 'finish', reason: 'stop' } });
    tts.syntheses[0].end();
    reply.complete();
    // The rest of the text is a sentence once the reply is over.
    expect(tts.syntheses.map((s) => s.text)).toEqual(['Hello there.', 'Bye']);
    expect(outcome).toBe('running');
    tts.syntheses[1].audio(1600);
    tts.syntheses[1].end();

    expect(outcome).toBe('completed');
    expect(labels).toEqual([
      'reasoning:The user greets me.',
      'text:Hello there. ',
      'audio:0:200',
      'text:Bye',
      'finish',
      'audio:0:50',
      'end:0',
      'audio:1:100',
      'end:1',
    ]);
    // One subscription to the reply for the frames and the speech both: one model call, not two.
    expect(replySubscriptions).toBe(1);
    expect(speechTornDown).toBe(true);
  });

  it('turns a speech failure into an event: the audio stops, the text goes on to its end', () => {
    reply.next(text('Hello there. '));
    tts.syntheses[0].fail(new TtsError('engine crashed'));
    expect(speechTornDown).toBe(true);
    reply.next(text('And more. '));
    reply.complete();

    expect(labels).toEqual(['text:Hello there. ', 'speech-failed:TTS_ERROR', 'text:And more. ']);
    expect(tts.syntheses).toHaveLength(1);
    expect(outcome).toBe('completed');
  });

  it('fails the reply with an error that is not the speech engine’s', () => {
    reply.next(text('Hello there. '));
    const bug = new Error('a bug');
    tts.syntheses[0].fail(bug);
    expect(outcome).toBe(bug);
    expect(replyTornDown).toBe(true);
  });

  it('on unsubscribe, tears the running synthesis and the reply down, then runs onTornDown', () => {
    reply.next(text('Hello there. '));
    tts.syntheses[0].audio(3200);
    expect(labels).toEqual(['text:Hello there. ', 'audio:0:200']);

    subscription.unsubscribe();
    expect(tts.syntheses[0].aborted).toBe(true);
    expect(replyTornDown).toBe(true);
    expect(speechTornDown).toBe(true);
    reply.next(text('Too late. '));
    expect(tts.syntheses).toHaveLength(1);
    expect(labels).toHaveLength(2);
  });
});
