import type { TextDeltaPayload } from '@agent-gateway/protocol';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { TestClient } from './support/test-client.js';
import { countTextTokens } from '../src/llm/token-count.js';

const textOf = (payloads: TextDeltaPayload[]) => payloads.map((p) => ('text' in p.content ? p.content.text : '')).join('');

describe('the embedded simulated model (no keys, no network)', () => {
  let gateway: RunningGateway;
  let client: TestClient;

  beforeEach(async () => {
    gateway = await startGateway({
      SIMULATED_TOKENS_PER_SECOND: '1000',
      SIMULATED_FIRST_TOKEN_DELAY_MS: '0',
      SIMULATED_REPLY_TOKENS: '40',
    });
    client = await TestClient.connect(gateway.wsUrl);
  });

  afterEach(async () => {
    client.close();
    await gateway.close();
  });

  it('says it is simulated, that the gateway is open and speaks with espeak-ng, and streams a whole natural reply', async () => {
    const ack = await client.register({ auth: null });
    expect(ack).toMatchObject({
      auth_mode: 'open',
      llm: { provider: 'simulated', simulated: true },
      tts: {
        enabled: true,
        provider: 'espeak',
        audio_format: { codec: 'pcm_s16le', sample_rate: 22050, channels: 1 },
        audio_transport: 'json',
      },
    });
    client.request('r1', 'Tell me a story');
    const end = await client.endOf('r1');
    const texts = client.textsOf('r1');
    expect(texts).toHaveLength(40);
    expect(textOf(texts)).toMatch(/^Here is a longer answer/);
    expect(end).toMatchObject({ interrupted: false, finish_reason: 'stop', usage: { completion_tokens: 40, source: 'provider' } });
  });

  it('answers in Chinese when asked in Chinese', async () => {
    await client.register();
    client.request('zh', '给我讲一个很长很长的故事');
    await client.endOf('zh');
    const texts = client.textsOf('zh');
    expect(textOf(texts)).toMatch(/^这是网关内置的模拟模型/);
  });

  it('stops the moment it is interrupted', async () => {
    await gateway.close();
    gateway = await startGateway({ SIMULATED_TOKENS_PER_SECOND: '200', SIMULATED_FIRST_TOKEN_DELAY_MS: '0' });
    client = await TestClient.registered(gateway.wsUrl);
    client.request('r1');
    await client.textFrames('r1', 3);
    client.interrupt('r1');
    const end = await client.endOf('r1');
    const count = client.textsOf('r1').length;
    expect(end).toMatchObject({
      interrupted: true,
      usage: { completion_tokens: countTextTokens(client.textOf('r1')), source: 'estimated' },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.responsesOf('r1')).toHaveLength(count + 1);
  });
});
