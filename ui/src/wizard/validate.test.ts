import { describe, expect, it } from 'vitest';

import { EXCHANGE_FORMS } from '../api/exchanges';
import type { Exchange, Shape } from '../api/types';
import {
  checkBaseUrl,
  checkCredentials,
  checkEnvironment,
  checkExchange,
  checkLabel,
  checkRotationDays,
  emptyDraft,
  maskHint,
  matchesShape,
  parseRotationDays,
  toAddKeyInput,
  toInspectInput,
  validateDraft,
  validateStep,
  type Draft,
  type FieldError,
} from './validate';
import rustCases from './fixtures/validation-cases.json';

const OKX_KEY = '37c541a1-1234-4abc-9def-10fe7a038418';
const OKX_SECRET = '22582BD0CFF14C41EDBF1AB98506286D';
const BINANCE_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const BINANCE_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const BYBIT_KEY = 'XXXXXXXXXXXXXXXXXX';
const BYBIT_SECRET = 'Y'.repeat(36);

const fields = (errors: { field: string }[]) => errors.map((e) => e.field);

function validDraft(over: Partial<Draft> = {}): Draft {
  return {
    ...emptyDraft(),
    exchange: 'okx',
    apiKey: OKX_KEY,
    apiSecret: OKX_SECRET,
    passphrase: 'Passphrase1!',
    label: 'okx-bot-main',
    ...over,
  };
}

describe('exchange', () => {
  it('must be chosen', () => {
    expect(checkExchange(null)?.field).toBe('exchange');
    expect(checkExchange('no-such-exchange' as Exchange)?.field).toBe('exchange');
    for (const ex of ['okx', 'bybit', 'binance'] as const) expect(checkExchange(ex)).toBeNull();
  });
});

describe('label', () => {
  it('is 1 to 64 characters after trimming', () => {
    expect(checkLabel('  bot main  ')).toBeNull();
    expect(checkLabel('')?.message).toContain('Give the key a label');
    expect(checkLabel('   ')?.field).toBe('label');
    expect(checkLabel('x'.repeat(64))).toBeNull();
    expect(checkLabel(' ' + 'x'.repeat(64) + ' ')).toBeNull();
    expect(checkLabel('x'.repeat(65))?.message).toContain('65 characters');
  });
  it('counts characters, not UTF-16 units or bytes', () => {
    expect(checkLabel('é'.repeat(64))).toBeNull();
    expect(checkLabel('🔑'.repeat(64))).toBeNull();
    expect(checkLabel('🔑'.repeat(65))?.field).toBe('label');
  });
  it('refuses control characters inside', () => {
    expect(checkLabel('a\tb')?.message).toContain('control characters');
    expect(checkLabel('a\u0007b')?.field).toBe('label');
  });
  it('must not repeat a label in use, ignoring ASCII case', () => {
    expect(checkLabel('Bot', ['bot'])?.message).toContain('Another key already has this label');
    expect(checkLabel(' bot ', ['BOT'])?.field).toBe('label');
    expect(checkLabel('bot-2', ['bot'])).toBeNull();
  });
});

describe('rotation period', () => {
  it('is a whole number of days from 1 to 3650', () => {
    expect(parseRotationDays('90')).toBe(90);
    expect(parseRotationDays(' 1 ')).toBe(1);
    expect(parseRotationDays('3650')).toBe(3650);
    for (const bad of ['0', '3651', '', '-5', '1.5', '1e2', 'ninety', '90 days']) {
      expect(checkRotationDays(bad)?.field, bad).toBe('rotationDays');
    }
    expect(checkRotationDays('0')?.message).toContain('between 1 and 3650');
    expect(checkRotationDays('1.5')?.message).toContain('whole number');
  });
});

describe('custom base URL', () => {
  it('accepts https anywhere', () => {
    expect(checkBaseUrl('https://eu.okx.com')).toBeNull();
    expect(checkBaseUrl(' https://eu.okx.com/ ')).toBeNull();
    expect(checkBaseUrl('https://api-testnet.bybit.com:443/base')).toBeNull();
  });
  it('accepts plain http only on loopback', () => {
    expect(checkBaseUrl('http://127.0.0.1:8080')).toBeNull();
    expect(checkBaseUrl('http://[::1]:8080')).toBeNull();
    expect(checkBaseUrl('http://localhost:8080')).toBeNull();
    expect(checkBaseUrl('http://LOCALHOST')).toBeNull();
    expect(checkBaseUrl('http://eu.okx.com')?.message).toContain('https');
    expect(checkBaseUrl('http://127.0.0.1.evil.com')?.field).toBe('baseUrl');
    expect(checkBaseUrl('http://localhost.evil.com')?.field).toBe('baseUrl');
    expect(checkBaseUrl('http://10.0.0.1')?.field).toBe('baseUrl');
  });
  it('refuses other schemes, fragments of URLs and credentials', () => {
    expect(checkBaseUrl('')?.message).toContain('full base URL');
    expect(checkBaseUrl('okx.com')?.message).toContain('full base URL');
    expect(checkBaseUrl('ftp://x')?.message).toContain('https://');
    expect(checkBaseUrl('ws://127.0.0.1')?.field).toBe('baseUrl');
    expect(checkBaseUrl('https://user:pw@okx.com')?.message).toContain('user name');
    expect(checkBaseUrl('https://okx.com/?a=b')?.field).toBe('baseUrl');
  });
  it('only matters for the custom environment', () => {
    expect(checkEnvironment('live', 'nonsense')).toBeNull();
    expect(checkEnvironment('demo', '')).toBeNull();
    expect(checkEnvironment('custom', '')?.field).toBe('baseUrl');
  });
});

describe('credentials', () => {
  it('are required', () => {
    expect(fields(checkCredentials('okx', '', '', ''))).toEqual(['apiKey', 'apiSecret', 'passphrase']);
    expect(checkCredentials('binance', '', '', '')[0]?.message).toBe('Paste the API key from Binance.');
    expect(fields(checkCredentials('bybit', '   ', ' \n', ''))).toEqual(['apiKey', 'apiSecret']);
  });
  it('are trimmed but refuse inner whitespace', () => {
    expect(checkCredentials('okx', `  ${OKX_KEY}\n`, `\t${OKX_SECRET} `, ' pass ')).toEqual([]);
    const e = checkCredentials('bybit', 'XXXX XXXXXXXXXXXXXX', 'YYYYYYYYYY\nYYYYYYYYYYYYYYYY', '');
    expect(fields(e)).toEqual(['apiKey', 'apiSecret']);
    expect(e[0]?.message).toContain('spaces or line breaks');
  });
  it('must differ from each other', () => {
    const e = checkCredentials('bybit', 'SAMESAMESAMESAMESAMESAME', 'SAMESAMESAMESAMESAMESAME', '');
    expect(e).toEqual([{ field: 'apiSecret', message: expect.stringContaining('same as the API key') }]);
  });

  it('OKX: UUID key, 32-hex secret, passphrase required and at most 64 characters', () => {
    expect(checkCredentials('okx', OKX_KEY, OKX_SECRET, 'Passphrase1!')).toEqual([]);
    expect(checkCredentials('okx', OKX_KEY.toUpperCase(), OKX_SECRET.toLowerCase(), 'p')).toEqual([]);
    expect(fields(checkCredentials('okx', 'abc', OKX_SECRET, 'p'))).toEqual(['apiKey']);
    expect(fields(checkCredentials('okx', OKX_KEY.replace(/-/g, ''), OKX_SECRET, 'p'))).toEqual(['apiKey']);
    expect(fields(checkCredentials('okx', OKX_KEY.replace('3', 'g'), OKX_SECRET, 'p'))).toEqual(['apiKey']);
    expect(fields(checkCredentials('okx', OKX_KEY, OKX_SECRET.slice(1), 'p'))).toEqual(['apiSecret']);
    expect(fields(checkCredentials('okx', OKX_KEY, OKX_SECRET.slice(1) + 'G', 'p'))).toEqual(['apiSecret']);
    expect(checkCredentials('okx', OKX_KEY, OKX_SECRET, '')[0]?.message).toContain('need the passphrase');
    expect(checkCredentials('okx', OKX_KEY, OKX_SECRET, '   ')[0]?.field).toBe('passphrase');
    expect(checkCredentials('okx', OKX_KEY, OKX_SECRET, 'p'.repeat(64))).toEqual([]);
    expect(checkCredentials('okx', OKX_KEY, OKX_SECRET, 'p'.repeat(65))[0]?.message).toContain('64 characters at most');
  });

  it('Binance: key and secret are 64 letters and digits, no passphrase', () => {
    expect(checkCredentials('binance', BINANCE_KEY, BINANCE_SECRET, '')).toEqual([]);
    expect(fields(checkCredentials('binance', BINANCE_KEY.slice(1), BINANCE_SECRET, ''))).toEqual(['apiKey']);
    expect(fields(checkCredentials('binance', BINANCE_KEY.slice(1) + '_', BINANCE_SECRET, ''))).toEqual(['apiKey']);
    expect(fields(checkCredentials('binance', BINANCE_KEY, BINANCE_SECRET + 'a', ''))).toEqual(['apiSecret']);
    expect(fields(checkCredentials('binance', BINANCE_KEY, BINANCE_SECRET.slice(1) + 'é', ''))).toEqual(['apiSecret']);
    const e = checkCredentials('binance', BINANCE_KEY, BINANCE_SECRET, 'x');
    expect(e).toEqual([{ field: 'passphrase', message: 'Binance keys have no passphrase: leave this field empty.' }]);
  });

  it('Bybit: key 10–64 and secret 20–128 letters and digits, no passphrase', () => {
    expect(checkCredentials('bybit', BYBIT_KEY, BYBIT_SECRET, '')).toEqual([]);
    expect(checkCredentials('bybit', 'K'.repeat(10), 'S'.repeat(20), '')).toEqual([]);
    expect(checkCredentials('bybit', 'K'.repeat(64), 'S'.repeat(128), '')).toEqual([]);
    expect(fields(checkCredentials('bybit', 'K'.repeat(9), BYBIT_SECRET, ''))).toEqual(['apiKey']);
    expect(fields(checkCredentials('bybit', 'K'.repeat(65), BYBIT_SECRET, ''))).toEqual(['apiKey']);
    expect(fields(checkCredentials('bybit', 'short', BYBIT_SECRET, ''))).toEqual(['apiKey']);
    expect(fields(checkCredentials('bybit', 'KKKKKKKKKK-K', BYBIT_SECRET, ''))).toEqual(['apiKey']);
    expect(fields(checkCredentials('bybit', BYBIT_KEY, 'S'.repeat(19), ''))).toEqual(['apiSecret']);
    expect(fields(checkCredentials('bybit', BYBIT_KEY, 'S'.repeat(129), ''))).toEqual(['apiSecret']);
    expect(fields(checkCredentials('bybit', BYBIT_KEY, BYBIT_SECRET, 'p'))).toEqual(['passphrase']);
  });

  it('a key from another exchange is caught', () => {
    expect(fields(checkCredentials('okx', BINANCE_KEY, BINANCE_SECRET, 'p'))).toEqual(['apiKey', 'apiSecret']);
    expect(fields(checkCredentials('binance', OKX_KEY, OKX_SECRET, ''))).toEqual(['apiKey', 'apiSecret']);
  });

  it('no message ever contains the secret, the key or the passphrase', () => {
    const secret = 'MY-VERY-SECRET-VALUE with space';
    const secrets = ['MY-VERY-SECRET', 'Zq9SECRETSECRETSECRETSECRET', 'deadbeefdeadbeefdeadbeefdeadbee'];
    const passes = ['PASS-PHRASE-XYZ', 'P'.repeat(70)];
    const messages: string[] = [];
    for (const ex of ['okx', 'bybit', 'binance'] as const) {
      for (const key of [OKX_KEY, 'KEY-IS-WRONG with space', 'KEYKEYKEYKEYKEY']) {
        for (const s of [secret, ...secrets, key]) {
          for (const p of passes) messages.push(...checkCredentials(ex, key, s, p).map((e) => e.message));
        }
      }
      // A secret pasted into the other fields by mistake.
      const d = validDraft({ exchange: ex, label: ' ', rotationDays: secret, environment: 'custom', baseUrl: secret });
      messages.push(...validateDraft(d).map((e) => e.message));
    }
    expect(messages.length).toBeGreaterThan(50);
    for (const m of messages) {
      for (const v of [
        secret,
        'MY-VERY-SECRET',
        ...secrets,
        'KEY-IS-WRONG',
        'KEYKEYKEYKEYKEY',
        'PASS-PHRASE',
        'PPPPP',
        OKX_KEY,
      ]) {
        expect(m).not.toContain(v);
      }
    }
  });
});

describe('steps and the payload', () => {
  it('each step checks only its own fields', () => {
    const d = emptyDraft();
    expect(fields(validateStep('exchange', d))).toEqual(['exchange']);
    expect(fields(validateStep('credentials', d))).toEqual(['exchange']);
    expect(fields(validateStep('credentials', { ...d, exchange: 'bybit' }))).toEqual(['apiKey', 'apiSecret']);
    expect(fields(validateStep('details', { ...d, rotationDays: '0', environment: 'custom' }))).toEqual([
      'label',
      'rotationDays',
      'baseUrl',
    ]);
    expect(validateStep('confirm', d)).toEqual([]);
    expect(validateDraft(validDraft())).toEqual([]);
    expect(fields(validateStep('details', validDraft(), ['OKX-BOT-MAIN']))).toEqual(['label']);
  });

  it('builds exactly the AddKeyInput Rust expects', () => {
    const d = validDraft({
      apiKey: ` ${OKX_KEY} `,
      apiSecret: `${OKX_SECRET}\n`,
      passphrase: ' Pass phrase 1 ',
      label: '  okx-bot-main ',
      rotationDays: ' 30 ',
      environment: 'custom',
      baseUrl: ' http://127.0.0.1:9000 ',
    });
    expect(toAddKeyInput(d, true)).toEqual({
      exchange: 'okx',
      label: 'okx-bot-main',
      environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:9000' },
      apiKey: OKX_KEY,
      apiSecret: OKX_SECRET,
      passphrase: 'Pass phrase 1',
      exchangeCode: null,
      rotationDays: 30,
      verify: true,
      botsAllowed: true,
    });
    expect(toAddKeyInput(d, false).verify).toBe(false);
    expect(toAddKeyInput(d, true, false).botsAllowed).toBe(false);
    const b = toAddKeyInput(
      validDraft({
        exchange: 'binance',
        apiKey: BINANCE_KEY,
        apiSecret: BINANCE_SECRET,
        passphrase: '',
        environment: 'demo',
        baseUrl: 'x',
      }),
      true,
    );
    expect(b.passphrase).toBeNull();
    expect(b.environment).toEqual({ kind: 'demo' });
    expect(b.rotationDays).toBe(90);
  });

  it('builds exactly the InspectInput: credentials and environment, nothing else', () => {
    const d = validDraft({
      apiKey: ` ${OKX_KEY} `,
      apiSecret: `${OKX_SECRET}\n`,
      passphrase: ' Pass phrase 1 ',
      label: '',
      rotationDays: 'not checked here',
      environment: 'custom',
      baseUrl: ' http://127.0.0.1:9000 ',
    });
    expect(toInspectInput(d)).toEqual({
      exchange: 'okx',
      environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:9000' },
      apiKey: OKX_KEY,
      apiSecret: OKX_SECRET,
      passphrase: 'Pass phrase 1',
      exchangeCode: null,
    });
    expect(() => toInspectInput(validDraft({ environment: 'custom', baseUrl: 'ftp://x' }))).toThrow(/baseUrl/);
  });

  it('refuses to build a payload from an invalid draft', () => {
    expect(() => toAddKeyInput(validDraft({ apiSecret: 'nope' }), true)).toThrow(/apiSecret/);
    expect(() => toAddKeyInput(validDraft({ apiSecret: 'nope' }), true)).not.toThrow(/nope/);
    expect(() => toAddKeyInput(emptyDraft(), false)).toThrow();
    expect(() => toInspectInput(validDraft({ apiSecret: 'nope' }))).toThrow(/apiSecret/);
    expect(() => toInspectInput(validDraft({ apiSecret: 'nope' }))).not.toThrow(/nope/);
  });
});

describe('masked hint', () => {
  it('matches the Rust hint', () => {
    expect(maskHint('a1b2c3d4e5f6g7h8i9z0')).toBe('a1b2…i9z0');
    expect(maskHint('abcdefghijkl')).toBe('abcd…ijkl');
    expect(maskHint('abcdefghijk')).toBe('…jk');
    expect(maskHint('abcdefgh')).toBe('…gh');
    expect(maskHint('abcd')).toBe('…cd');
    expect(maskHint('abc')).toBe('…');
    expect(maskHint('')).toBe('…');
    expect(maskHint(`  ${OKX_KEY}\n`)).toBe('37c5…8418');
  });
  it('never shows more than 8 characters of the key', () => {
    const h = maskHint(BINANCE_KEY);
    expect(h.replace('…', '').length).toBe(8);
    expect(BINANCE_KEY).not.toContain(h.replace('…', ''));
  });
});

describe('the wizard and Rust judge the same inputs alike', () => {
  /** Rust's verdicts, written by `the_wizard_and_rust_judge_the_same_inputs_alike`
   * (crates/core/tests/bad_input.rs), which fails when they change and this file was not rewritten. */
  type Verdict = { field: string; message: string } | null;
  type Case =
    | { check: 'label' | 'baseUrl'; input: string; rust: Verdict }
    | { check: 'rotationDays'; input: number; rust: Verdict }
    | { check: 'credentials'; exchange: Exchange; input: [string, string, string]; rust: Verdict };
  const cases = rustCases as Case[];

  /** The wizard's errors for one case (it may report several fields at once; Rust stops at the first). */
  const wizard = (c: Case): FieldError[] => {
    switch (c.check) {
      case 'label':
        return [checkLabel(c.input)].filter((e): e is FieldError => e !== null);
      case 'rotationDays':
        return [checkRotationDays(String(c.input))].filter((e): e is FieldError => e !== null);
      case 'baseUrl':
        return [checkBaseUrl(c.input)].filter((e): e is FieldError => e !== null);
      case 'credentials':
        return checkCredentials(c.exchange, ...c.input);
    }
  };

  it('covers every kind of check', () => {
    expect(new Set(cases.map((c) => c.check))).toEqual(new Set(['label', 'rotationDays', 'baseUrl', 'credentials']));
  });

  it.each(cases.map((c) => [`${c.check} ${JSON.stringify(c.input)}`, c] as const))('%s', (_name, c) => {
    const errors = wizard(c);
    if (c.rust === null) {
      expect(errors).toEqual([]);
    } else {
      // Rust's first refusal is among the wizard's, word for word.
      expect(errors).toContainEqual({ field: c.rust.field, message: c.rust.message });
    }
  });
});

describe("the shape rules are the adapters' data", () => {
  it('matches lengths and groups as Rust does', () => {
    const uuid: Shape = { kind: 'groups', sizes: [8, 4, 4, 4, 12], separator: '-', charset: 'hex' };
    expect(matchesShape(uuid, '37c541a1-1234-4abc-9def-10fe7a038418')).toBe(true);
    expect(matchesShape(uuid, '37c541a112344abc9def10fe7a038418')).toBe(false);
    expect(matchesShape(uuid, '37c541a1-1234-4abc-9def-10fe7a03841g')).toBe(false);
    const len: Shape = { kind: 'length', min: 2, max: 3, charset: 'alnum' };
    expect([matchesShape(len, 'ab'), matchesShape(len, 'a1B'), matchesShape(len, 'a'), matchesShape(len, 'abcd')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(matchesShape(len, 'é')).toBe(false);
  });

  it.each(EXCHANGE_FORMS.map((f) => [f.id, f] as const))("%s: a wrong shape gets its adapter's words", (_id, f) => {
    const errors = checkCredentials(f.id, 'x-x', 'y-y', '');
    expect(errors).toContainEqual({ field: 'apiKey', message: f.apiKey.message });
    expect(errors).toContainEqual({ field: 'apiSecret', message: f.apiSecret.message });
    if (f.passphrase) expect(errors).toContainEqual({ field: 'passphrase', message: f.passphrase.missing });
  });
});
