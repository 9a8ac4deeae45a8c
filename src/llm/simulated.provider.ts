import { concat, defer, from, map, type Observable, of, take, timer } from 'rxjs';
import { languageOf } from '../common/language-of.js';
import type { LlmDescriptor, LlmEvent, LlmMessage, LlmRequest } from './llm-events.js';
import { LlmProvider } from './llm-provider.js';
import type { RelayBody, RelayPart, WireFormat } from './relay-part.js';
import { simulatedEmbeddings } from './simulated-embeddings.js';
import { CHINESE_REPLY, ENGLISH_REPLY } from './simulated-corpus.js';
import { countPromptTokens } from './token-count.js';

export interface SimulatedOptions {
  tokensPerSecond: number;
  firstTokenDelayMs: number;
  replyTokens: number;
}

const TIME_QUESTION = /\b(time|clock|date)\b|几点|时间|日期/i;
const TIME_TOOL = 'get_current_time';

/**
 * The embedded default model: streams a long, natural answer at a steady rate
 * with no network at all. It is a timer, so unsubscribing simply stops it.
 * Asked for the time with the get_current_time tool on offer, it calls the
 * tool and then reads its result out, so the tool loop can be tried too.
 */
export class SimulatedProvider extends LlmProvider {
  readonly descriptor: LlmDescriptor = { provider: 'simulated', model: 'simulated', simulated: true };
  override readonly relays: readonly WireFormat[] = ['openai-embeddings'];
  private readonly english: string[];
  private readonly chinese: string[];

  constructor(private readonly options: SimulatedOptions) {
    super();
    this.english = tokenize(ENGLISH_REPLY, 'en');
    this.chinese = tokenize(CHINESE_REPLY, 'zh');
  }

  stream(request: LlmRequest): Observable<LlmEvent> {
    return defer(() => {
      const promptTokens = countPromptTokens(request.messages, request.tools);
      const last = request.messages.at(-1);
      const question = lastUserText(request);
      const wantsTime = last?.role === 'user' && TIME_QUESTION.test(question) && request.tools?.some((t) => t.function.name === TIME_TOOL);
      if (wantsTime) {
        return this.speak([], promptTokens, [
          { type: 'tool_call', index: 0, id: `call_sim_${Date.now()}`, name: TIME_TOOL, arguments: '{}' },
          { type: 'finish', reason: 'tool_calls' },
        ]);
      }
      if (last?.role === 'tool') return this.speak(tokenize(readTime(last.content, question), languageOf(question)), promptTokens);
      const corpus = languageOf(question) === 'zh' ? this.chinese : this.english;
      const words = Array.from({ length: this.options.replyTokens }, (_, i) => corpus[i % corpus.length]);
      return this.speak(words, promptTokens);
    });
  }

  /** Embeddings without a model: the same text always gets the same unit vector, so a knowledge base can be tried. */
  override relay(_format: WireFormat, body: RelayBody): Observable<RelayPart> {
    return defer(() => {
      const answer = simulatedEmbeddings(body);
      const usage = answer.usage;
      return of<RelayPart>({
        type: 'response',
        body: answer,
        events: [{ type: 'usage', usage: { prompt_tokens: usage.prompt_tokens, completion_tokens: 0, total_tokens: usage.total_tokens } }],
      });
    });
  }

  /** Streams the words at the configured rate, then the ending events and the usage. */
  private speak(words: string[], promptTokens: number, ending: LlmEvent[] = [{ type: 'finish', reason: 'stop' }]): Observable<LlmEvent> {
    const period = Math.max(1, 1000 / this.options.tokensPerSecond);
    const completion = words.length + ending.filter((e) => e.type === 'tool_call').length;
    const words$ = timer(this.options.firstTokenDelayMs, period).pipe(
      take(words.length),
      map((i): LlmEvent => ({ type: 'text', text: words[i] })),
    );
    const usage: LlmEvent = {
      type: 'usage',
      usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion },
    };
    return concat(words$, from([...ending, usage]));
  }
}

function lastUserText(request: LlmRequest): string {
  const last = request.messages.findLast((m): m is Extract<LlmMessage, { role: 'user' }> => m.role === 'user');
  if (!last) return '';
  return typeof last.content === 'string' ? last.content : last.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The simulated answer to a time question, from get_current_time's result. */
function readTime(result: string, question: string): string {
  let local: string | undefined;
  try {
    const parsed = JSON.parse(result) as { local?: unknown };
    if (typeof parsed.local === 'string') local = parsed.local;
  } catch {
    // Not the tool's usual JSON: answer without it.
  }
  if (languageOf(question) === 'zh') return local ? `现在是 ${local}。` : '抱歉，我没能查到现在的时间。';
  return local ? `It is ${local}.` : 'Sorry, I could not find out the time.';
}

function tokenize(text: string, locale: string): string[] {
  const segmenter = new Intl.Segmenter(locale, { granularity: 'word' });
  const tokens: string[] = [];
  for (const { segment, isWordLike } of segmenter.segment(text)) {
    // Punctuation and spaces ride along with the word before them, as in real model output.
    if (!isWordLike && tokens.length > 0) tokens[tokens.length - 1] += segment;
    else tokens.push(segment);
  }
  return tokens;
}
