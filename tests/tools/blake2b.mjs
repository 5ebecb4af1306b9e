#!/usr/bin/env node
// blake2b.mjs - BLAKE2b-256 in plain JavaScript, written from RFC 7693.
//
// Node's crypto has only 'blake2b512', and BLAKE2b-256 is NOT a truncated
// BLAKE2b-512: the digest length is part of the parameter block, so every
// output byte differs. The audit verifier needs the real BLAKE2b-256
// (docs/PROTOCOL.md, "Audit chain"; attachment digests), hence this file.
// Unkeyed, no salt or personalisation: what libsodium's crypto_generichash
// computes with a 32-byte output and no key.
//
// 64-bit words are kept as (low, high) pairs of 32-bit halves in a
// Uint32Array: word i is v[2i] (low) and v[2i + 1] (high).
//
// usage (self-test against another implementation):
//   node blake2b.mjs FILE   FILE holds one input per line in hex ("" for the
//                           empty input); prints one digest per line in hex.

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// RFC 7693 section 2.6: the SHA-512 initial values, as (low, high) halves.
const IV = new Uint32Array([
  0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a,
  0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
]);

// RFC 7693 section 2.7: the message word schedule of the ten rounds.
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

const BLOCK = 128;
const ROUNDS = 12;

// v[a] += lo:hi (mod 2^64)
function add(v, a, lo, hi) {
  const l = v[2 * a] + lo;
  v[2 * a + 1] = v[2 * a + 1] + hi + (l > 0xffffffff ? 1 : 0);
  v[2 * a] = l;
}

// v[d] = (v[d] ^ v[a]) rotated right by n, n in {16, 24, 32, 63}.
function xorRotr(v, d, a, n) {
  const lo = v[2 * d] ^ v[2 * a];
  const hi = v[2 * d + 1] ^ v[2 * a + 1];
  if (n === 32) {
    v[2 * d] = hi;
    v[2 * d + 1] = lo;
  } else if (n === 63) { // = rotate left by 1
    v[2 * d] = (lo << 1) | (hi >>> 31);
    v[2 * d + 1] = (hi << 1) | (lo >>> 31);
  } else {
    v[2 * d] = (lo >>> n) | (hi << (32 - n));
    v[2 * d + 1] = (hi >>> n) | (lo << (32 - n));
  }
}

// RFC 7693 section 3.1: the mixing function G on words a, b, c, d with
// message words x and y (indices into m).
function mix(v, m, a, b, c, d, x, y) {
  add(v, a, v[2 * b], v[2 * b + 1]);
  add(v, a, m[2 * x], m[2 * x + 1]);
  xorRotr(v, d, a, 32);
  add(v, c, v[2 * d], v[2 * d + 1]);
  xorRotr(v, b, c, 24);
  add(v, a, v[2 * b], v[2 * b + 1]);
  add(v, a, m[2 * y], m[2 * y + 1]);
  xorRotr(v, d, a, 16);
  add(v, c, v[2 * d], v[2 * d + 1]);
  xorRotr(v, b, c, 63);
}

// RFC 7693 section 3.2: the compression function F. `t` is the byte count
// so far (including this block), `last` the final-block flag.
function compress(h, block, t, last) {
  const v = new Uint32Array(32);
  const m = new Uint32Array(32);
  v.set(h, 0);
  v.set(IV, 16);
  v[24] ^= t % 0x100000000; // word 12 ^= low 64 bits of t (t < 2^53)
  v[25] ^= Math.floor(t / 0x100000000);
  if (last) {
    v[28] = ~v[28]; // word 14 inverted
    v[29] = ~v[29];
  }
  for (let i = 0; i < 32; i++) m[i] = block.readUInt32LE(4 * i); // little-endian words
  for (let r = 0; r < ROUNDS; r++) {
    const s = SIGMA[r % 10];
    mix(v, m, 0, 4, 8, 12, s[0], s[1]);
    mix(v, m, 1, 5, 9, 13, s[2], s[3]);
    mix(v, m, 2, 6, 10, 14, s[4], s[5]);
    mix(v, m, 3, 7, 11, 15, s[6], s[7]);
    mix(v, m, 0, 5, 10, 15, s[8], s[9]);
    mix(v, m, 1, 6, 11, 12, s[10], s[11]);
    mix(v, m, 2, 7, 8, 13, s[12], s[13]);
    mix(v, m, 3, 4, 9, 14, s[14], s[15]);
  }
  for (let i = 0; i < 16; i++) h[i] ^= v[i] ^ v[i + 16];
}

// BLAKE2b of `data` (Buffer or Uint8Array) with an `outlen`-byte digest,
// 1 to 64, no key (RFC 7693 section 3.3).
export function blake2b(data, outlen) {
  if (!(outlen >= 1 && outlen <= 64)) throw new RangeError('BLAKE2b output length is 1 to 64');
  const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const h = new Uint32Array(IV);
  h[0] ^= 0x01010000 ^ outlen; // parameter block: depth 1, fanout 1, key length 0
  const block = Buffer.alloc(BLOCK);
  let done = 0;
  // Every block but the last is compressed as it comes; the last one (which
  // may be partial, or empty for an empty input) gets the final flag.
  while (input.length - done > BLOCK) {
    input.copy(block, 0, done, done + BLOCK);
    done += BLOCK;
    compress(h, block, done, false);
  }
  block.fill(0);
  input.copy(block, 0, done);
  compress(h, block, input.length, true);
  const out = Buffer.alloc(64);
  for (let i = 0; i < 16; i++) out.writeUInt32LE(h[i], 4 * i);
  return out.subarray(0, outlen);
}

// BLAKE2b-256: libsodium's crypto_generichash with a 32-byte output.
export function blake2b256(data) {
  return blake2b(data, 32);
}

function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node blake2b.mjs FILE_OF_HEX_LINES\n');
    process.exit(2);
  }
  const lines = readFileSync(argv[0], 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) process.stdout.write(`${blake2b256(Buffer.from(line, 'hex')).toString('hex')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
