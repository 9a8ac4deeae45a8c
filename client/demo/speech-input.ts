/** The part of the Web Speech API's recognizer the page uses (TypeScript's DOM types do not have it). */
interface Recognizer {
  lang: string;
  interimResults: boolean;
  /** A result list may be empty, and so may a result's alternatives. */
  onresult: ((event: { results: ArrayLike<ArrayLike<{ transcript: string } | undefined> | undefined> }) => void) | null;
  onerror: ((event: { error: string }) => void) | null;
  onend: (() => void) | null;
  start(): void;
  stop(): void;
}

type RecognizerClass = new () => Recognizer;

/**
 * A microphone button, where the browser recognizes speech (Chrome, Edge,
 * Safari): one utterance per press, handed over as text.
 */
export function offerSpeechInput(button: HTMLButtonElement, onText: (text: string) => void, onError: (message: string) => void): void {
  const scope = window as unknown as { SpeechRecognition?: RecognizerClass; webkitSpeechRecognition?: RecognizerClass };
  const Recognition = scope.SpeechRecognition ?? scope.webkitSpeechRecognition;
  if (!Recognition) return;
  button.hidden = false;
  button.addEventListener('click', () => {
    const recognizer = new Recognition();
    recognizer.lang = navigator.language;
    recognizer.interimResults = false;
    recognizer.onresult = (event) => {
      const text = event.results[0]?.[0]?.transcript.trim();
      if (text) onText(text);
    };
    recognizer.onerror = (event) => onError(`Speech recognition: ${event.error}`);
    recognizer.onend = () => button.classList.remove('listening');
    button.classList.add('listening');
    recognizer.start();
  });
}
