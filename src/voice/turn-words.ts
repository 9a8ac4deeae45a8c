import { distance } from 'fastest-levenshtein';

/**
 * What a transcript says about the speech it came from: nothing but
 * backchannel ("uh-huh", "嗯", "对"), the agent's own words heard back
 * (echo), or words of the user's own.
 */

/** Listener words that mean "go on", not "stop". Extended per language by VOICE_BACKCHANNELS. */
const BUILT_IN_BACKCHANNELS: Record<string, string[]> = {
  en: [
    'uh huh',
    'uh-huh',
    'uhhuh',
    'mm hmm',
    'mm-hmm',
    'mhm',
    'mm',
    'mmm',
    'hmm',
    'hm',
    'um',
    'uh',
    'yeah',
    'yep',
    'yup',
    'yes',
    'ya',
    'ok',
    'okay',
    'right',
    'sure',
    'aha',
    'ah',
    'oh',
    'i see',
    'got it',
    'cool',
    'nice',
    'wow',
    'go on',
    'true',
    'exactly',
  ],
  zh: ['嗯', '嗯嗯', '嗯哼', '对', '对对', '对对对', '好', '好的', '是', '是的', '哦', '噢', '啊', '没错', '行', '明白', '懂了'],
};

const WORDS = new Intl.Segmenter(undefined, { granularity: 'word' });

/** The words of a text, lower case, without punctuation. */
export function wordsOf(text: string): string[] {
  return [...WORDS.segment(text.toLowerCase())].filter((s) => s.isWordLike).map((s) => s.segment);
}

export class TurnWords {
  private readonly backchannels = new Map<string, Set<string>>();

  /** `extra`: `en:word|word; zh:…` */
  constructor(extra = '') {
    for (const [language, phrases] of Object.entries(BUILT_IN_BACKCHANNELS)) this.add(language, phrases);
    for (const part of extra.split(';')) {
      const [language, list] = part.split(':');
      if (language && list) this.add(language.trim(), list.split('|'));
    }
  }

  /** Every word is a backchannel word of the language (or of English, which listeners mix in everywhere). */
  isBackchannel(text: string, language: string): boolean {
    const words = wordsOf(text);
    if (words.length === 0) return false;
    const known = this.backchannels.get(baseLanguage(language));
    const english = this.backchannels.get('en');
    return words.every((word) => known?.has(word) === true || english?.has(word) === true);
  }

  private add(language: string, phrases: string[]): void {
    const set = this.backchannels.get(language) ?? new Set<string>();
    for (const phrase of phrases) {
      set.add(phrase.trim().toLowerCase());
      for (const word of wordsOf(phrase)) set.add(word);
    }
    this.backchannels.set(language, set);
  }
}

/**
 * The transcript is mostly the agent's own recent words: its audio came
 * back through the user's microphone. Recognizers garble what they hear, so
 * a word matches a spoken word within one edit (two for long words).
 */
export function isEcho(transcript: string, agentText: string): boolean {
  const heard = wordsOf(transcript);
  if (heard.length === 0 || !agentText) return false;
  const spoken = new Set(wordsOf(agentText));
  const close = (word: string) => spoken.has(word) || [...spoken].some((s) => near(word, s));
  const matching = heard.filter(close).length;
  return matching / heard.length >= 0.6;
}

function near(a: string, b: string): boolean {
  const allowed = Math.min(a.length, b.length) >= 6 ? 2 : Math.min(a.length, b.length) >= 4 ? 1 : 0;
  if (allowed === 0 || Math.abs(a.length - b.length) > allowed) return false;
  return distance(a, b) <= allowed;
}

function baseLanguage(language: string): string {
  return language.toLowerCase().split('-')[0];
}
