import { forwardedHeaders, upstreamRequestId } from './forwarded-headers.js';

describe('forwardedHeaders', () => {
  it('keeps what the allowlist names, prefixes with a trailing *, and never keys or framing', () => {
    const headers = {
      'OpenAI-Organization': 'org-1',
      'x-ratelimit-remaining-tokens': '10',
      'x-ratelimit-reset': '1s',
      authorization: 'Bearer sk-secret',
      'x-api-key': 'sk-secret',
      'content-length': '12',
      'x-other': 'no',
      'set-cookie': ['a=b'],
    };
    const allowlist = ['openai-organization', 'x-ratelimit-*', 'authorization', 'x-api-key', 'content-length', 'set-cookie'];
    expect(forwardedHeaders(headers, allowlist, 'upstream')).toEqual({
      'openai-organization': 'org-1',
      'x-ratelimit-remaining-tokens': '10',
      'x-ratelimit-reset': '1s',
    });
  });

  it('keeps the gateway’s own answer headers its own, whatever the upstream sends', () => {
    const upstream = {
      'x-request-id': 'req_upstream',
      'access-control-allow-origin': 'https://evil.example',
      'set-cookie': 'a=b',
      'retry-after': '1',
      'x-ratelimit-remaining-requests': '3',
    };
    expect(forwardedHeaders(upstream, ['*'], 'downstream')).toEqual({ 'x-ratelimit-remaining-requests': '3' });
    expect(forwardedHeaders({ 'accept-encoding': 'gzip', te: 'trailers', 'x-trace': '1' }, ['*'], 'upstream')).toEqual({ 'x-trace': '1' });
  });

  it('finds the upstream’s request id under OpenAI’s name or Anthropic’s', () => {
    expect(upstreamRequestId({ 'x-request-id': 'req_1' })).toBe('req_1');
    expect(upstreamRequestId({ 'request-id': 'req_2' })).toBe('req_2');
    expect(upstreamRequestId({})).toBeUndefined();
  });
});
