import type { ResumePoint } from '../src/index.js';

interface Saved {
  point: ResumePoint;
  /** What the user asked, for replies still running: a reloaded page shows it above the resumed reply. */
  prompts: Record<string, string>;
}

/**
 * What the page keeps across a reload, in sessionStorage (per tab, like the
 * session): where to resume from, and the prompts of the replies running.
 */
export class ResumeStore {
  constructor(
    private readonly storage: Storage,
    private readonly key = 'agent-gateway-demo',
  ) {}

  load(): Saved | undefined {
    const text = this.storage.getItem(this.key);
    return text === null ? undefined : (JSON.parse(text) as Saved);
  }

  savePoint(point: ResumePoint): void {
    this.save({ prompts: this.load()?.prompts ?? {}, point });
  }

  remember(requestId: string, prompt: string): void {
    const saved = this.load();
    if (saved) this.save({ ...saved, prompts: { ...saved.prompts, [requestId]: prompt } });
  }

  forget(requestId: string): void {
    const saved = this.load();
    if (!saved) return;
    const prompts = Object.fromEntries(Object.entries(saved.prompts).filter(([id]) => id !== requestId));
    this.save({ ...saved, prompts });
  }

  clear(): void {
    this.storage.removeItem(this.key);
  }

  private save(saved: Saved): void {
    this.storage.setItem(this.key, JSON.stringify(saved));
  }
}
