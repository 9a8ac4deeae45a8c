import { loadConfig } from '../config/config.schema.js';
import { ApiKeyService } from './api-key.service.js';

describe('ApiKeyService', () => {
  it('accepts configured keys and gives each a stable identity that is not the key', () => {
    const service = new ApiKeyService(loadConfig({ GATEWAY_API_KEYS: 'alpha-key,beta-key' }));
    const alpha = service.authenticate('alpha-key');
    const beta = service.authenticate('beta-key');
    expect(alpha?.userId).toMatch(/^key_[0-9a-f]{12}$/);
    expect(beta?.userId).not.toEqual(alpha?.userId);
    expect(service.authenticate('alpha-key')).toEqual(alpha);
    expect(JSON.stringify(alpha)).not.toContain('alpha');
  });

  it('refuses wrong, empty, prefix and missing keys', () => {
    const service = new ApiKeyService(loadConfig({ GATEWAY_API_KEYS: 'alpha-key' }));
    expect(service.authenticate('alpha-ke')).toBeUndefined();
    expect(service.authenticate('alpha-key ')).toBeUndefined();
    expect(service.authenticate('')).toBeUndefined();
    expect(service.authenticate(undefined)).toBeUndefined();
  });

  it('names a named key (name:key), never showing the key, and keeps the identity the bare key would have', () => {
    const named = new ApiKeyService(loadConfig({ GATEWAY_API_KEYS: 'alice:sk-alpha,sk-beta', GATEWAY_ADMIN_KEYS: 'ops:sk-ops' }));
    const bare = new ApiKeyService(loadConfig({ GATEWAY_API_KEYS: 'sk-alpha' }));
    expect(named.authenticate('sk-alpha')).toEqual({ userId: bare.authenticate('sk-alpha')?.userId, keyName: 'alice', admin: false });
    expect(named.authenticate('sk-beta')?.keyName).toBeUndefined();
    expect(named.authenticate('sk-ops')).toMatchObject({ keyName: 'ops', admin: true });
    expect(named.authenticate('alice:sk-alpha')).toBeUndefined();
  });

  it('knows operator keys, which are gateway keys too', () => {
    const service = new ApiKeyService(loadConfig({ GATEWAY_API_KEYS: 'user-key', GATEWAY_ADMIN_KEYS: 'ops-key' }));
    expect(service.authenticate('user-key')?.admin).toBe(false);
    expect(service.authenticate('ops-key')?.admin).toBe(true);
  });

  it('accepts only the operator keys when they are the only keys', () => {
    const service = new ApiKeyService(loadConfig({ GATEWAY_ADMIN_KEYS: 'ops-key' }));
    expect(service.openMode).toBe(false);
    expect(service.authenticate('ops-key')?.admin).toBe(true);
    expect(service.authenticate('anything-else')).toBeUndefined();
    expect(service.authenticate(undefined)).toBeUndefined();
  });

  it('accepts anyone in open mode', () => {
    const service = new ApiKeyService(loadConfig({}));
    expect(service.openMode).toBe(true);
    expect(service.authenticate(undefined)).toEqual({ userId: 'anonymous', admin: true });
    expect(service.authenticate('whatever')?.userId).toMatch(/^key_/);
  });
});
