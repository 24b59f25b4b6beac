import { describe, expect, it } from 'vitest';
import { chooseNodeBinary, nodeMajorOf } from './node-binary.js';

const host = { execPath: '/usr/bin/node', version: 'v20.19.0' };

describe('chooseNodeBinary', () => {
  it('reads the major version from AWS runtime names', () => {
    expect(nodeMajorOf('nodejs22.x')).toBe(22);
    expect(nodeMajorOf('provided.al2023')).toBeUndefined();
  });

  it("uses the host's Node silently when the major versions match", () => {
    expect(chooseNodeBinary('nodejs20.x', {}, host)).toEqual({ path: '/usr/bin/node' });
  });

  it("uses the host's Node with a warning when they differ", () => {
    expect(chooseNodeBinary('nodejs22.x', {}, host)).toEqual({
      path: '/usr/bin/node',
      warning:
        "nodejs22.x runs on the host's Node v20.19.0 here; set STAGECRAFT_NODE_22 to a Node 22 binary for a faithful match",
    });
  });

  it('prefers STAGECRAFT_NODE_<major>, and refuses one that does not exist', () => {
    expect(chooseNodeBinary('nodejs22.x', { STAGECRAFT_NODE_22: process.execPath }, host)).toEqual({
      path: process.execPath,
    });
    expect(() => chooseNodeBinary('nodejs22.x', { STAGECRAFT_NODE_22: '/nowhere/node' }, host)).toThrow(
      /STAGECRAFT_NODE_22/,
    );
  });

  it('refuses runtimes that are not Node', () => {
    expect(() => chooseNodeBinary('python3.12', {}, host)).toThrow(
      expect.objectContaining({ code: 'ARGUMENT_INVALID' }),
    );
  });
});
