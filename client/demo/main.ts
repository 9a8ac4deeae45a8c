import { AudioPlayer, GatewayClient, Microphone, type RegisterAckPayload, type Reply } from '../src/index.js';
import { byId } from './dom.js';
import { HistoryPanel } from './history-panel.js';
import { InterruptLog } from './interrupt-log.js';
import { ResumeStore } from './resume-store.js';
import { offerSpeechInput } from './speech-input.js';
import { Transcript } from './transcript.js';
import { VoicePanel } from './voice-panel.js';

/**
 * The demo page: a conversation with the gateway through the SDK. Replies
 * are durable, so a reload resumes the session (from sessionStorage) and the
 * reply that was running comes back from its first frame. In hands-free
 * mode the microphone streams to the gateway: it answers what is said, stops
 * a reply the user talks over, and lets it go on after an "uh-huh".
 */
const composer = byId('composer', HTMLFormElement);
const message = byId('message', HTMLInputElement);
const stop = byId('stop', HTMLButtonElement);
const speak = byId('speak', HTMLInputElement);
const status = byId('status', HTMLSpanElement);
const errorLine = byId('error', HTMLParagraphElement);

const store = new ResumeStore(sessionStorage);
const saved = store.load();
const transcript = new Transcript(byId('transcript', HTMLOListElement));
const interrupts = new InterruptLog(byId('interrupts', HTMLTableElement).tBodies[0]);
const history = new HistoryPanel(byId('history', HTMLOListElement));
const handsFree = byId('hands-free', HTMLButtonElement);
const voicePanel = new VoicePanel({
  toggle: handsFree,
  status: byId('voice-status', HTMLSpanElement),
  paused: byId('paused', HTMLSpanElement),
  live: byId('live-transcript', HTMLParagraphElement),
  log: byId('voice-log', HTMLOListElement),
});
const player = new AudioPlayer();
const running = new Set<Reply>();

const client = new GatewayClient({
  url: gatewayUrl(),
  apiKey: new URLSearchParams(location.search).get('key') ?? undefined,
  platform: 'web-demo',
  durable: true,
  // The session's default, which the replies to what is said hands-free follow (typed ones follow the checkbox).
  speak: true,
  player,
  // Hands-free at 16 kHz, the rate the gateway recognizes at; captured in the player's context, one for the page.
  audioInput: { sampleRate: 16_000, turnDetection: 'server_vad' },
  microphone: new Microphone({ context: player.context }),
});

client.status$.subscribe((value) => {
  status.dataset.status = value;
  status.textContent = value;
});
client.sessions$.subscribe((ack) => {
  store.savePoint({ registerAck: ack, lastSeq: 0 });
  describeEngine(ack);
});
client.adopted$.subscribe((reply) => follow(reply, saved?.prompts[reply.requestId]));
client.interrupts$.subscribe((report) => interrupts.add(report));
player.played$.subscribe((report) => transcript.heard(report));

client.listening$.subscribe((on) => voicePanel.microphone(on));
client.speechStarted$.subscribe(({ audio_start_ms: ms }) => voicePanel.speechStarted(ms));
client.speechStopped$.subscribe(({ audio_end_ms: ms }) => voicePanel.speechStopped(ms));
client.transcripts$.subscribe((said) => voicePanel.transcript(said));
client.spokenReplies$.subscribe(({ reply, transcript: said }) => {
  store.remember(reply.requestId, said.text);
  follow(reply, said.text);
});
client.playbackPaused$.subscribe((pause) => {
  voicePanel.paused(pause);
  for (const id of pause.request_ids) transcript.paused(id, true);
});
client.playbackResumed$.subscribe((resume) => {
  voicePanel.resumed(resume);
  for (const id of resume.request_ids) transcript.paused(id, false);
});
client.gatewayInterrupts$.subscribe((ack) => {
  voicePanel.interrupted(ack);
  interrupts.addByGateway(ack);
  updateStop();
});

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  send(message.value.trim());
});
stop.addEventListener('click', () => {
  // Each outcome, good or bad, is shown by the interrupt log.
  client.interruptAll('USER_STOP').catch(() => undefined);
  updateStop();
});
byId('new-session', HTMLButtonElement).addEventListener('click', () => {
  store.clear();
  location.reload();
});
offerSpeechInput(byId('mic', HTMLButtonElement), send, showError);
handsFree.addEventListener('click', () => void toggleHandsFree());

void start();

async function start(): Promise<void> {
  try {
    describeEngine(await client.connect(saved?.point));
    if (running.size === 0) saveResumePoint();
    await refreshHistory();
  } catch (error) {
    showError(`Could not connect: ${(error as Error).message}`);
  }
}

/** Hands-free on or off. The click is the gesture browsers want before they play audio and open the microphone. */
async function toggleHandsFree(): Promise<void> {
  if (client.listening) {
    client.stopMicrophone();
    return;
  }
  void player.unlock();
  try {
    await client.startMicrophone();
  } catch (error) {
    showError(`Microphone: ${(error as Error).message}`);
  }
}

/** A new turn: whatever is still running is interrupted first (barge-in). */
function send(text: string): void {
  if (!text) return;
  // Browsers let audio start only in a user gesture: this is one.
  void player.unlock();
  const reply = client.ask(text, { speak: speak.checked && !speak.disabled });
  store.remember(reply.requestId, text);
  follow(reply, text);
  message.value = '';
}

function follow(reply: Reply, prompt: string | undefined): void {
  running.add(reply);
  transcript.follow(reply, prompt);
  updateStop();
  const over = () => {
    running.delete(reply);
    voicePanel.over([reply.requestId]);
    store.forget(reply.requestId);
    if (running.size === 0) saveResumePoint();
    updateStop();
    refreshHistory().catch((error: unknown) => showError(`History: ${(error as Error).message}`));
  };
  reply.subscribe({ complete: over, error: over });
}

/**
 * Where a reload resumes from: the last frame seen while nothing was running,
 * so that a reply running at the reload is replayed from its first frame.
 */
function saveResumePoint(): void {
  const point = client.resumePoint();
  if (point) store.savePoint(point);
}

async function refreshHistory(): Promise<void> {
  const messages = await client.history();
  history.show(messages);
  transcript.showPast(messages);
}

function updateStop(): void {
  stop.disabled = ![...running].some((reply) => !reply.interrupted);
}

function describeEngine(ack: RegisterAckPayload): void {
  const model = ack.llm.simulated ? 'simulated model' : ack.llm.model;
  const voice = ack.tts.enabled ? `voice: ${ack.tts.provider}` : `no speech (${ack.tts.reason ?? 'off'})`;
  byId('engine', HTMLSpanElement).textContent = `${model} · ${voice}`;
  speak.disabled = !ack.tts.enabled;
  speak.checked &&= ack.tts.enabled;
  voicePanel.session(ack.audio_input);
}

function showError(text: string): void {
  errorLine.textContent = text;
  errorLine.hidden = false;
}

function gatewayUrl(): string {
  const path = document.querySelector<HTMLMetaElement>('meta[name="agent-gateway-ws-path"]');
  if (!path) throw new Error('index.html has no agent-gateway-ws-path meta');
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path.content}`;
}
