import { scrubSecrets } from './scrub-secrets.js';

describe('scrubSecrets', () => {
  it('replaces the given secrets wherever they are', () => {
    expect(scrubSecrets('key=abcd1234 in abcd1234x', ['abcd1234'])).toBe('key=[redacted] in [redacted]x');
  });

  it.each([
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x', 'Authorization: Bearer [redacted]'],
    ['{"authorization": "Basic dXNlcjpwYXNzd29yZA=="}', '{"authorization": "Basic [redacted]"}'],
    ['Incorrect API key provided: sk-proj-Zq8vX2mN4pL6rT0y.', 'Incorrect API key provided: [redacted].'],
    ['sk-ant-api03-AbCdEfGhIjKlMnOp', '[redacted]'],
    ['"x-api-key": "a1b2c3d4e5f6"', '"x-api-key": "[redacted]"'],
    ['api_key=s3cr3tvalue&model=x', 'api_key=[redacted]&model=x'],
  ])('hides credentials echoed as %s', (text, expected) => {
    expect(scrubSecrets(text, [])).toBe(expected);
  });

  it('hides the start of a given secret at the end of a text cut short', () => {
    expect(scrubSecrets('Incorrect API key provided: sk-upstre', ['sk-upstream-test'])).toBe('Incorrect API key provided: [redacted]');
    expect(scrubSecrets('ends in sk-u', ['sk-upstream-test'])).toBe('ends in [redacted]');
  });

  it('leaves ordinary provider messages alone', () => {
    const text = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.";
    expect(scrubSecrets(text, ['sk-upstream-test'])).toBe(text);
  });
});
