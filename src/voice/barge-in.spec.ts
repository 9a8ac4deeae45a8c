import { BargeIn, type BargeInActions, type HeardSpeech, type SpeakingReply } from './barge-in.js';

/** Records what the decisions did; `classify` reads a verdict straight off the text. */
class Recorder implements BargeInActions {
  replies: SpeakingReply[] = [{ id: 'story', handle: undefined }];
  readonly log: string[] = [];
  speaking = () => this.replies;
  pause = (speechId: string, replies: SpeakingReply[]) => this.log.push(`pause ${speechId} ${replies.map((r) => r.id).join(',')}`);
  resume = (speechId: string, _replies: SpeakingReply[], reason: string) => this.log.push(`resume ${speechId} ${reason}`);
  agentText = () => 'the keeper climbed the stairs';
  agentLoudness = () => [];
  interrupt = () => this.log.push('interrupt');
  startTurn = (speechId: string, text: string) => {
    this.log.push(`turn ${speechId} ${text}`);
    return `voice_${speechId}`;
  };
  classify = (text: string, heard: HeardSpeech) =>
    text === '' ? 'no_words' : text === heard.agentText ? 'echo' : text === 'uh huh' ? 'backchannel' : 'user';
}

describe('BargeIn', () => {
  let actions: Recorder;
  let bargeIn: BargeIn;
  beforeEach(() => {
    actions = new Recorder();
    bargeIn = new BargeIn(actions, { minInterruptionMs: 500, falseInterruptionTimeoutMs: 60 });
  });
  afterEach(() => bargeIn.close());

  it('pauses at the onset, then interrupts for the user’s own words and starts their turn', () => {
    bargeIn.started('s1', 1000);
    bargeIn.stopped('s1', 2200);
    expect(bargeIn.transcript('s1', 'tell me a joke', true, 1200)).toBe('voice_s1');
    expect(actions.log).toEqual(['pause s1 story', 'interrupt', 'turn s1 tell me a joke']);
  });

  it('interrupts on interim words while the user still speaks', () => {
    bargeIn.started('s1', 0);
    bargeIn.transcript('s1', 'stop stop', false, 700);
    expect(actions.log).toEqual(['pause s1 story', 'interrupt']);
    bargeIn.transcript('s1', 'stop stop tell me more', true, 1500);
    expect(actions.log.at(-1)).toBe('turn s1 stop stop tell me more');
    expect(actions.log.filter((entry) => entry === 'interrupt')).toHaveLength(1);
  });

  it.each([
    ['a backchannel', 'uh huh', 900, 'backchannel'],
    ['the agent’s own words', 'the keeper climbed the stairs', 1500, 'echo'],
    ['no words', '', 900, 'no_words'],
  ])('resumes after %s, and starts no turn', (_, text, ms, reason) => {
    bargeIn.started('s1', 0);
    bargeIn.stopped('s1', ms);
    expect(bargeIn.transcript('s1', text, true, ms)).toBeUndefined();
    expect(actions.log).toEqual(['pause s1 story', `resume s1 ${reason}`]);
  });

  it('resumes at once when the speech was too short, whatever it said', () => {
    bargeIn.started('s1', 0);
    bargeIn.stopped('s1', 300);
    expect(actions.log).toEqual(['pause s1 story', 'resume s1 too_short']);
    expect(bargeIn.transcript('s1', 'no', true, 300)).toBeUndefined();
    expect(actions.log).toHaveLength(2);
  });

  it('resumes when no verdict comes in time, and still interrupts if the user’s words come later', async () => {
    bargeIn.started('s1', 0);
    bargeIn.stopped('s1', 1000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(actions.log).toEqual(['pause s1 story']);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(actions.log).toEqual(['pause s1 story', 'resume s1 timeout']);
    bargeIn.transcript('s1', 'what about tomorrow', true, 1000);
    expect(actions.log.slice(2)).toEqual(['interrupt', 'turn s1 what about tomorrow']);
  });

  it('with no reply playing, pauses nothing and takes any words, a backchannel too, as the turn', () => {
    actions.replies = [];
    bargeIn.started('s1', 0);
    bargeIn.stopped('s1', 300);
    expect(bargeIn.transcript('s1', 'uh huh', true, 300)).toBe('voice_s1');
    expect(actions.log).toEqual(['turn s1 uh huh']);
  });
});
