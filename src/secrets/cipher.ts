/**
 * AES-256-GCM, as Node's crypto provides it: a fresh 96-bit IV per value, the 128-bit tag kept
 * beside the ciphertext, and the secret's environment and name as additional authenticated
 * data, so a value copied into another slot does not open there.
 * https://nodejs.org/api/crypto.html#class-cipheriv
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SealedValue } from '../state/index.js';
import type { SecretKey } from './key.js';

function slot(environment: string, name: string): Buffer {
  return Buffer.from(`stagecraft-secret\u0000${environment}\u0000${name}`, 'utf8');
}

export function seal(key: SecretKey, environment: string, name: string, value: string): SealedValue {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  cipher.setAAD(slot(environment, name));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { keyId: key.id, iv, tag: cipher.getAuthTag(), ciphertext };
}

/** The value, or undefined when the tag does not verify (wrong key, or a damaged value). */
export function unseal(key: SecretKey, environment: string, name: string, sealed: SealedValue): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, sealed.iv);
    decipher.setAAD(slot(environment, name));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
