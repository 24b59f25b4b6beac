import { describe, expect, it } from 'vitest';
import { isStagecraftError } from '../errors.js';
import { choosePythonBinary, pythonVersionOf } from './python-binary.js';

const host = (version: string) => () => ({ version, executable: `/opt/python/${version}/bin/python3` });

describe('choosePythonBinary', () => {
  it('reads the minor version from the runtime name', () => {
    expect(pythonVersionOf('python3.12')).toBe('3.12');
    expect(pythonVersionOf('nodejs22.x')).toBeUndefined();
  });

  it('uses the host python3 itself (past launcher shims), silently when the minor version matches', () => {
    expect(choosePythonBinary('python3.12', {}, host('3.12.4'))).toEqual({ path: '/opt/python/3.12.4/bin/python3' });
  });

  it('warns when the host minor version differs, naming the variable that fixes it', () => {
    const chosen = choosePythonBinary('python3.13', {}, host('3.11.7'));
    expect(chosen.path).toBe('/opt/python/3.11.7/bin/python3');
    expect(chosen.warning).toBe(
      "python3.13 runs on the host's Python 3.11.7 here; set STAGECRAFT_PYTHON_3_13 to a Python 3.13 interpreter for a faithful match",
    );
  });

  it('takes STAGECRAFT_PYTHON_3_<minor> when it names an existing file, and refuses one that does not exist', () => {
    expect(choosePythonBinary('python3.12', { STAGECRAFT_PYTHON_3_12: process.execPath }, host('3.11.7'))).toEqual({
      path: process.execPath,
    });
    const refused = (() => {
      try {
        return choosePythonBinary('python3.12', { STAGECRAFT_PYTHON_3_12: '/nowhere/python3.12' }, host('3.11.7'));
      } catch (error) {
        return error;
      }
    })();
    expect(isStagecraftError(refused) && refused.message).toBe(
      'STAGECRAFT_PYTHON_3_12 points to /nowhere/python3.12, which does not exist.',
    );
  });

  it('says how to get an interpreter when the host has no python3', () => {
    expect(() => choosePythonBinary('python3.12', {}, () => undefined)).toThrow(
      /python3\.12 needs a Python interpreter, and python3 cannot be run here/,
    );
  });
});
