import { StagecraftError } from '../../src/errors.js';

/** The StagecraftError `work` throws; fails the test when it throws nothing or something else. */
export function thrown(work: () => unknown): StagecraftError {
  try {
    work();
  } catch (error) {
    if (error instanceof StagecraftError) return error;
    throw error;
  }
  throw new Error('expected a StagecraftError');
}
