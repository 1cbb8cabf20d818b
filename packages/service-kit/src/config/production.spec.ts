import { describe, expect, it } from '@jest/globals';
import { devDefaultProblems, httpsOriginProblems, isProductionEnv } from './production.js';

describe(isProductionEnv.name, () => {
  it('reads NODE_ENV as the common schema does: unset or empty is production', () => {
    expect([{}, { NODE_ENV: '' }, { NODE_ENV: 'production' }].map(isProductionEnv)).toEqual([
      true,
      true,
      true,
    ]);
    expect([{ NODE_ENV: 'development' }, { NODE_ENV: 'test' }].map(isProductionEnv)).toEqual([false, false]);
  });
});

describe(httpsOriginProblems.name, () => {
  const origins = ['API_BASE_URL', 'PUBLIC_BASE_URL'];

  it('in production, requires each origin, naming it', () => {
    expect(httpsOriginProblems({ NODE_ENV: 'production', API_BASE_URL: ' ' }, origins)).toEqual([
      { variable: 'API_BASE_URL', reason: expect.stringMatching(/^required when NODE_ENV is production/) },
      { variable: 'PUBLIC_BASE_URL', reason: expect.stringMatching(/^required when NODE_ENV is production/) },
    ]);
  });

  it('in production, refuses plain HTTP, showing the value without its credentials', () => {
    const problems = httpsOriginProblems(
      { API_BASE_URL: 'http://user:hunter2@127.0.0.1:4010', PUBLIC_BASE_URL: 'https://bridge.example.com' },
      origins,
    );
    expect(problems).toEqual([
      {
        variable: 'API_BASE_URL',
        reason: 'must be an https:// URL when NODE_ENV is production',
        received: expect.not.stringContaining('hunter2'),
      },
    ]);
  });

  it('leaves a value that is no http(s) URL to its field, and asks nothing outside production', () => {
    expect(httpsOriginProblems({ API_BASE_URL: 'ftp://x', PUBLIC_BASE_URL: 'not a url' }, origins)).toEqual(
      [],
    );
    expect(
      httpsOriginProblems({ NODE_ENV: 'development', API_BASE_URL: 'http://127.0.0.1' }, origins),
    ).toEqual([]);
  });
});

describe(devDefaultProblems.name, () => {
  const secrets = [
    ['A_SECRET', (value: string) => value === 'dev-a'],
    ['B_SECRET', (value: string) => value === 'dev-b'],
  ] as const;

  it('names each secret unset or holding its development default in production, never its value', () => {
    const problems = devDefaultProblems({ A_SECRET: ' ', B_SECRET: ' dev-b ' }, secrets);
    expect(problems).toEqual([
      { variable: 'A_SECRET', reason: expect.stringMatching(/required when NODE_ENV is production/) },
      { variable: 'B_SECRET', reason: expect.stringMatching(/must not hold the development default/) },
    ]);
    expect(JSON.stringify(problems)).not.toContain('dev-b');
    expect(devDefaultProblems({ A_SECRET: 'real-a', B_SECRET: 'real-b' }, secrets)).toEqual([]);
  });

  it('asks nothing outside production', () => {
    expect(devDefaultProblems({ NODE_ENV: 'development' }, secrets)).toEqual([]);
  });
});
