export interface SegmenterOptions {
  /** Shorter sentences are held and joined to the next ("Mr." "OK."), so no tiny synthesis calls. */
  minChars: number;
  /** A run of text without a sentence end is cut at a clause break (or a space) before this length. */
  maxChars: number;
  /** The first segment may end at a clause break (a comma) once it is this long, so speech starts early. */
  firstMinChars: number;
}

const SENTENCES = new Intl.Segmenter(undefined, { granularity: 'sentence' });
/** Breaks UAX #29 does not make a sentence end but a speaker pauses at: the Chinese semicolon and ellipses. */
const EXTRA_BREAKS = /[；;…]+/g;
/**
 * Text ending like this ends a sentence even with nothing after it yet:
 * Chinese terminal punctuation, or an English one already followed by a space
 * (a decimal point never is). Saves waiting for the next token.
 */
const COMPLETE_AT_END = /(?:[。！？；…][”’」』）)]*\s*|[.!?][”’"')\]]*\s+)$/;
const CLAUSE_BREAKS = /[，,、：:；;]/g;
/** Intl.Segmenter has no abbreviation list (ICU's `ss` suppressions are not exposed): the common titles. */
const ABBREVIATION_END = /(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|vs|e\.g|i\.e)\.\s*$/i;

/**
 * Cuts streamed text into segments worth synthesizing, as it arrives, with
 * `Intl.Segmenter` (sentence granularity) for English and Chinese alike. A
 * sentence is only complete once text follows it (it may be "Mr." or "3."),
 * except after Chinese terminal punctuation or an English one and a space.
 */
export class SentenceSegmenter {
  private buffer = '';
  private emitted = 0;

  constructor(private readonly options: SegmenterOptions) {}

  /** Adds streamed text; returns the segments it completed. */
  push(text: string): string[] {
    this.buffer += text;
    return this.drain(false);
  }

  /** The text is over: returns what is left. */
  end(): string[] {
    return this.drain(true);
  }

  private drain(final: boolean): string[] {
    const segments: string[] = [];
    for (let cut = this.nextCut(final); cut !== undefined; cut = this.nextCut(final)) {
      const segment = this.buffer.slice(0, cut).trim();
      this.buffer = this.buffer.slice(cut);
      if (segment) {
        segments.push(segment);
        this.emitted += 1;
      }
    }
    if (final) {
      const rest = this.buffer.trim();
      this.buffer = '';
      if (rest) segments.push(rest);
    }
    return segments;
  }

  /** Where the next segment ends in the buffer, or undefined to wait for more text. */
  private nextCut(final: boolean): number | undefined {
    const text = this.buffer;
    if (text.trim() === '') return undefined;
    const { minChars, maxChars, firstMinChars } = this.options;
    const longEnough = (end: number, min: number) => text.slice(0, end).trim().length >= min;

    const sentenceEnd = sentenceEnds(text, final).find((end) => longEnough(end, minChars));
    if (sentenceEnd !== undefined && sentenceEnd <= maxChars) return sentenceEnd;

    if (this.emitted === 0) {
      const clause = clauseEnds(text).find((end) => longEnough(end, firstMinChars));
      if (clause !== undefined && clause <= maxChars) return clause;
    }
    return text.length > maxChars ? cutBefore(text, maxChars) : undefined;
  }
}

/** End offsets of the complete sentences in `text` (the last one only when the text is over or ends like a Chinese sentence). */
function sentenceEnds(text: string, final: boolean): number[] {
  const ends = new Set<number>();
  for (const { index, segment } of SENTENCES.segment(text)) ends.add(index + segment.length);
  for (const match of text.matchAll(EXTRA_BREAKS)) ends.add(match.index + match[0].length);
  const lastIsComplete = final || COMPLETE_AT_END.test(text);
  return [...ends]
    .filter((end) => (lastIsComplete || end < text.length) && !ABBREVIATION_END.test(text.slice(0, end)))
    .sort((a, b) => a - b);
}

function clauseEnds(text: string): number[] {
  return [...text.matchAll(CLAUSE_BREAKS)].map((match) => match.index + match[0].length);
}

/** The last clause break or space before `max`, or `max` itself (never inside a surrogate pair). */
function cutBefore(text: string, max: number): number {
  const head = text.slice(0, max);
  const clause = clauseEnds(head).at(-1);
  if (clause !== undefined && clause > max / 2) return clause;
  const space = head.lastIndexOf(' ');
  if (space > max / 2) return space + 1;
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
