import { describe, expect, it } from 'vitest';
import { createRedactor, redactError } from './redact.js';

describe('createRedactor', () => {
  it('masks a value as set, as JSON escapes it, and a multi-line value line by line', () => {
    const pem =
      '-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END KEY-----';
    const redact = createRedactor(['p"ss\\word', 'tok-123456', pem]);
    expect(redact('token tok-123456 and tok-123456')).toBe('token **** and ****');
    expect(redact(JSON.stringify({ password: 'p"ss\\word' }))).toBe('{"password":"****"}');
    expect(redact('MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu')).toBe('****');
    expect(redact('nothing to see')).toBe('nothing to see');
  });

  it('masks a longer secret whole when a shorter one is inside it, and is the identity without secrets', () => {
    expect(createRedactor(['abcd', 'xxabcdxx'])('=xxabcdxx=')).toBe('=****=');
    const none = createRedactor(['']);
    expect(none('a')).toBe('a');
    const error = { errorType: 'Error', errorMessage: 'm' };
    expect(redactError(error, none)).toBe(error);
  });

  it('masks every text of a function error', () => {
    const redact = createRedactor(['s3cr3t-value']);
    expect(
      redactError(
        {
          errorType: 'Error',
          errorMessage: 'bad s3cr3t-value',
          trace: ['Error: bad s3cr3t-value', '  at x'],
          stackTrace: ['s3cr3t-value'],
        },
        redact,
      ),
    ).toEqual({
      errorType: 'Error',
      errorMessage: 'bad ****',
      trace: ['Error: bad ****', '  at x'],
      stackTrace: ['****'],
    });
  });
});
