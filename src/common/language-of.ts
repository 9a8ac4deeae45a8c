const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/;

/** `zh` for text with CJK characters, `en` otherwise: enough to choose a voice or a simulated answer. */
export function languageOf(text: string): 'zh' | 'en' {
  return CJK.test(text) ? 'zh' : 'en';
}
