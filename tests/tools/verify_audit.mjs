#!/usr/bin/env node
// verify_audit.mjs - independent verifier of a `fluxbus audit export` file.
//
// Written from docs/PROTOCOL.md alone (sections 2.4, 4, 6, 14 and 17), not
// from the C sources, to prove the document is enough to check an audit
// trail in another language. Node.js 18+, no npm packages (node:crypto does
// Ed25519 and SHA-256; BLAKE2b-256 is in blake2b.mjs beside this file).
//
// usage: node verify_audit.mjs AUDIT.jsonl [BROKER.key.pub]
//        node verify_audit.mjs --envelope-hex FILE PUBLIC_KEY_HEX
//
// For every line: check that its seq follows the previous one, recompute its
// audit chain link from the previous link and compare, decode the Envelope
// by hand, check its key_id against the exported sender key and the key id
// derived from that key, rebuild the PAE, verify the Ed25519 signature and
// the attachments against their signed digests (a purged line must be a
// skeleton). With the broker's public key file, also verify each receipt
// envelope and check that it answers this message, and verify the messages
// the broker sent itself (sender: the broker's actor, no sender_key) with
// the broker's key. Without it, such a message (no sender_key, signed by the
// key and actor that sign its receipt) cannot be verified: it is counted and
// said on stderr, like the receipts that are not checked.
// Prints "verified N messages, chain head HEX" and exits 0, or prints the
// first failing line ("line L: broken at seq S: why") and exits 1. Exit 2:
// bad usage or unreadable input.
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { blake2b256 } from './blake2b.mjs';

// ---- PROTOCOL.md 4.2: pre-authentication encoding ------------------------

const PAE_CONTEXT = 'application/vnd.fluxbus.signed-body+protobuf;v=1';

function pae(body) {
  const ctx = Buffer.from(PAE_CONTEXT, 'ascii');
  const head = Buffer.from(`DSSEv1 ${ctx.length} ${PAE_CONTEXT} ${body.length} `, 'ascii');
  return Buffer.concat([head, body]);
}

// ---- PROTOCOL.md 2.4: key ids ----------------------------------------------

function keyIdOf(publicKey) {
  return createHash('sha256').update(publicKey).digest().subarray(0, 8).toString('hex');
}

function ed25519Key(raw) {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

// ---- PROTOCOL.md 4.5: a minimal protobuf reader ----------------------------

class Malformed extends Error {}

// Reads a varint at buf[pos]; returns [BigInt value, next position].
function readVarint(buf, pos) {
  let value = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (pos >= buf.length) throw new Malformed('truncated varint');
    const b = buf[pos++];
    value |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [value, pos];
  }
  throw new Malformed('varint longer than 10 bytes');
}

// Decodes one message level: Map field number -> array of values (BigInt for
// varints, Buffer for length-delimited). Unknown fields are skipped by wire type.
function decodeFields(buf) {
  const fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new Malformed('field number 0');
    let value;
    if (wire === 0) {
      [value, pos] = readVarint(buf, pos);
    } else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      if (len > BigInt(buf.length - pos)) throw new Malformed('length past the end');
      value = buf.subarray(pos, pos + Number(len));
      pos += Number(len);
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new Malformed('truncated fixed field');
      value = buf.subarray(pos, pos + n);
      pos += n;
    } else {
      throw new Malformed(`unsupported wire type ${wire}`);
    }
    if (!fields.has(field)) fields.set(field, []);
    fields.get(field).push({ wire, value });
  }
  return fields;
}

// The last occurrence of a scalar / bytes field (protobuf "last one wins").
function bytesField(fields, n) {
  const all = fields.get(n);
  if (!all) return Buffer.alloc(0);
  const last = all[all.length - 1];
  if (last.wire !== 2) throw new Malformed(`field ${n} is not length-delimited`);
  return last.value;
}

function stringField(fields, n) {
  return bytesField(fields, n).toString('utf8');
}

function varintField(fields, n) {
  const all = fields.get(n);
  if (!all) return 0n;
  const last = all[all.length - 1];
  if (last.wire !== 0) throw new Malformed(`field ${n} is not a varint`);
  return last.value;
}

// Every occurrence of a repeated bytes field, in order.
function repeatedBytes(fields, n) {
  return (fields.get(n) || []).map(({ wire, value }) => {
    if (wire !== 2) throw new Malformed(`field ${n} is not length-delimited`);
    return value;
  });
}

// Envelope { bytes body = 1; bytes signature = 2; string key_id = 3;
//            repeated bytes attachments = 4; }
function decodeEnvelope(buf) {
  const f = decodeFields(buf);
  const env = { body: bytesField(f, 1), signature: bytesField(f, 2), keyId: stringField(f, 3),
                attachments: repeatedBytes(f, 4) };
  if (env.signature.length !== 64) throw new Malformed('signature is not 64 bytes');
  if (env.body.length === 0) throw new Malformed('empty body');
  return env;
}

// SignedBody: the fields this verifier needs.
function decodeBody(buf) {
  const f = decodeFields(buf);
  return {
    version: varintField(f, 1),
    messageId: bytesField(f, 2),
    sender: stringField(f, 3),
    keyId: stringField(f, 4),
    type: varintField(f, 9),
    inReplyTo: bytesField(f, 11),
    payload: bytesField(f, 12),
    attachmentDigests: repeatedBytes(f, 13),
  };
}

// Receipt { bytes message_id = 1; string sender = 2; uint64 store_seq = 3;
//           int64 accepted_at_ms = 4; bool duplicate = 5; bytes envelope_sha256 = 6; ... }
function decodeReceipt(buf) {
  const f = decodeFields(buf);
  return {
    messageId: bytesField(f, 1),
    sender: stringField(f, 2),
    storeSeq: varintField(f, 3),
    acceptedAtMs: BigInt.asIntN(64, varintField(f, 4)),
    duplicate: varintField(f, 5) !== 0n,
    envelopeSha256: bytesField(f, 6),
  };
}

const MESSAGE_TYPE_RECEIPT = 100n;

// ---- PROTOCOL.md 4.4: verifying an envelope ---------------------------------

class Refused extends Error {}

function check(cond, why) {
  if (!cond) throw new Refused(why);
}

const HEX64 = /^[0-9a-f]{64}$/;

// Verifies envelope bytes with a raw 32-byte public key; returns the parsed
// envelope and body.
function verifyEnvelope(bytes, publicKey, expectKeyId, what) {
  const env = decodeEnvelope(bytes);
  check(env.keyId === expectKeyId,
        `${what}: envelope key_id ${env.keyId} is not the expected ${expectKeyId}`);
  check(keyIdOf(publicKey) === env.keyId,
        `${what}: key_id ${env.keyId} is not the key id of the public key (${keyIdOf(publicKey)})`);
  const ok = edVerify(null, pae(env.body), ed25519Key(publicKey), env.signature);
  check(ok, `${what}: Ed25519 signature does not verify`);
  const body = decodeBody(env.body);
  check(body.version === 1n, `${what}: SignedBody.version is ${body.version}, not 1`);
  check(body.messageId.length === 16, `${what}: message_id is not 16 bytes`);
  check(body.sender.length > 0, `${what}: empty sender`);
  check(body.keyId === env.keyId, `${what}: SignedBody.key_id differs from Envelope.key_id`);
  return { env, body };
}

// ---- PROTOCOL.md 17: the audit chain -----------------------------------------

const CHAIN_DOMAIN = Buffer.from('fluxbus-audit-v1', 'ascii');
const GENESIS = Buffer.alloc(32); // the link message 1 follows

// link(seq) = BLAKE2b-256(domain || link(seq-1) || seq as 8 bytes big-endian ||
//             BLAKE2b-256(body) || BLAKE2b-256(signature) || BLAKE2b-256(receipt))
function chainLink(prev, seq, body, signature, receipt) {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  return blake2b256(Buffer.concat([CHAIN_DOMAIN, prev, seqBytes, blake2b256(body),
                                   blake2b256(signature), blake2b256(receipt)]));
}

// PROTOCOL.md 4.6 / 17.3: attachments[i] must hash to attachment_digests[i]; a
// purged line carries none, and only a message that had some can be purged.
function checkAttachments(env, body, purged) {
  if (purged) {
    check(env.attachments.length === 0, 'line is marked purged but its envelope has attachments');
    check(body.attachmentDigests.length > 0,
          'line is marked purged but its body lists no attachment digest');
    return;
  }
  check(env.attachments.length === body.attachmentDigests.length,
        `${env.attachments.length} attachments for ${body.attachmentDigests.length} signed digests`);
  env.attachments.forEach((a, i) => {
    check(blake2b256(a).equals(body.attachmentDigests[i]),
          `attachment ${i} does not match its signed BLAKE2b-256 digest`);
  });
}

// ---- inputs ------------------------------------------------------------------

// A key file (PROTOCOL.md 2.3): "name = value" lines, '#' comments.
function readKeyFile(path) {
  const out = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`${path}: line without '=': ${line}`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  if (!out.actor || !HEX64.test(out.sign_public || ''))
    throw new Error(`${path}: needs "actor" and "sign_public" (64 hex digits)`);
  const publicKey = Buffer.from(out.sign_public, 'hex');
  return { actor: out.actor, publicKey, keyId: keyIdOf(publicKey) };
}

// Strict standard base64 with padding (PROTOCOL.md 13 / 14).
function fromBase64(s, what) {
  check(typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0,
        `${what} is not standard padded base64`);
  const buf = Buffer.from(s, 'base64');
  check(buf.toString('base64') === s, `${what} is not canonical base64`);
  return buf;
}

// ---- one audit line (PROTOCOL.md 14) ----------------------------------------

// Checks one message line; `chain` holds the previous seq and link and is
// moved on to this line's. Returns nothing, throws Refused or Malformed.
function verifyLine(rec, broker, chain) {
  check(rec && typeof rec === 'object' && !Array.isArray(rec), 'line is not a JSON object');

  // The chain first: is this the next message, and is its link the one
  // recomputed from the previous link and its body, signature and receipt?
  check(rec.seq === chain.seq + 1,
        `follows seq ${chain.seq}: message ${chain.seq + 1} is missing or out of order`);
  check(typeof rec.chain_link_hex === 'string' && HEX64.test(rec.chain_link_hex),
        'chain_link_hex is not 64 hex digits');
  check(typeof rec.purged === 'boolean', 'purged is not true or false');
  check(typeof rec.receipt_b64 === 'string' && rec.receipt_b64.length > 0, 'no receipt_b64');
  const envelope = fromBase64(rec.envelope_b64, 'envelope_b64');
  const receiptBytes = fromBase64(rec.receipt_b64, 'receipt_b64');
  const env = decodeEnvelope(envelope);
  const link = chainLink(chain.link, rec.seq, env.body, env.signature, receiptBytes);
  check(link.toString('hex') === rec.chain_link_hex,
        `chain link ${rec.chain_link_hex} is not the recomputed ${link.toString('hex')}: ` +
        'its body, signature or receipt changed, or its link did');

  const body = verifyMessage(rec, env, envelope, receiptBytes, broker, chain);
  checkAttachments(env, body, rec.purged);

  if (broker) {
    const r = verifyEnvelope(receiptBytes, broker.publicKey, broker.keyId, 'receipt');
    check(r.body.sender === broker.actor,
          `receipt sender ${r.body.sender} is not the broker ${broker.actor}`);
    check(r.body.type === MESSAGE_TYPE_RECEIPT, `receipt body type is ${r.body.type}, not 100`);
    check(r.body.inReplyTo.equals(body.messageId),
          `receipt in_reply_to ${r.body.inReplyTo.toString('hex')} is not the message_id ` +
          body.messageId.toString('hex'));
    const receipt = decodeReceipt(r.body.payload);
    check(receipt.messageId.equals(body.messageId), 'Receipt.message_id is not the message_id');
    check(receipt.sender === body.sender, 'Receipt.sender is not the message sender');
    check(String(receipt.storeSeq) === String(rec.seq),
          `Receipt.store_seq ${receipt.storeSeq} is not the line's seq ${rec.seq}`);
    // A purged envelope is the skeleton of the one the receipt hashed: that
    // SHA-256 can no longer be recomputed (PROTOCOL.md 17.3).
    const sha = createHash('sha256').update(envelope).digest();
    check(rec.purged || receipt.envelopeSha256.equals(sha),
          'Receipt.envelope_sha256 is not SHA-256 of the envelope');
    check(!receipt.duplicate, 'stored receipt is marked duplicate');
  }
  chain.seq = rec.seq;
  chain.link = link;
}

// The message's signature (PROTOCOL.md 14.1 steps 4-6): with the key the
// registry holds for its sender, or, for a message the broker sent itself,
// with our own copy of the broker's key. Returns the parsed body.
function verifyMessage(rec, env, envelope, receiptBytes, broker, chain) {
  const key = rec.sender_key;
  let publicKey, keyId, actor;
  if (broker && rec.sender === broker.actor) {
    // Only the broker's key speaks for the broker, whatever sender_key says.
    ({ publicKey, keyId, actor } = broker);
  } else if (key === null && !broker) {
    return unverifiableBrokerMessage(rec, env, receiptBytes, chain);
  } else {
    check(key && typeof key === 'object', 'no sender_key (the signing key is not in the registry)');
    check(typeof key.public_key_hex === 'string' && HEX64.test(key.public_key_hex),
          'sender_key.public_key_hex is not 64 hex digits');
    publicKey = Buffer.from(key.public_key_hex, 'hex');
    check(keyIdOf(publicKey) === key.key_id,
          `sender_key.key_id ${key.key_id} is not the key id of public_key_hex (${keyIdOf(publicKey)})`);
    keyId = key.key_id;
    actor = key.actor;
  }
  const { body } = verifyEnvelope(envelope, publicKey, keyId, 'message');
  check(body.sender === rec.sender, `body sender ${body.sender} is not the line's sender ${rec.sender}`);
  check(body.sender === actor, `body sender ${body.sender} is not the key's actor ${actor}`);
  return body;
}

// Without the broker's key: a line with no sender_key whose envelope is
// signed (by key id) by the actor and key that sign its receipt is a message
// the broker sent itself. Neither can be verified; the body is still read
// and checked.
function unverifiableBrokerMessage(rec, env, receiptBytes, chain) {
  const r = decodeEnvelope(receiptBytes);
  const rbody = decodeBody(r.body);
  check(env.keyId === r.keyId && rec.sender === rbody.sender,
        'no sender_key (the signing key is not in the registry)');
  const body = decodeBody(env.body);
  check(body.version === 1n, `message: SignedBody.version is ${body.version}, not 1`);
  check(body.messageId.length === 16, 'message: message_id is not 16 bytes');
  check(body.keyId === env.keyId, 'message: SignedBody.key_id differs from Envelope.key_id');
  check(body.sender === rec.sender, `body sender ${body.sender} is not the line's sender ${rec.sender}`);
  chain.unchecked++;
  return body;
}

// The optional header line (PROTOCOL.md 14): not a trust anchor, but when we
// have our own copy of the broker key it must name the same key.
function verifyHeader(rec, broker) {
  check(rec.fluxbus_audit === 1, `unknown audit format ${JSON.stringify(rec.fluxbus_audit)}`);
  if (!broker) return;
  const k = rec.broker_key || {};
  check(k.public_key_hex === broker.publicKey.toString('hex') && k.key_id === broker.keyId &&
        k.actor === broker.actor,
        `header broker_key (${k.actor}, ${k.key_id}) is not the given broker key (${broker.actor}, ${broker.keyId})`);
}

// ---- main --------------------------------------------------------------------

function usage() {
  process.stderr.write('usage: node verify_audit.mjs AUDIT.jsonl [BROKER.key.pub]\n' +
                       '       node verify_audit.mjs --envelope-hex FILE PUBLIC_KEY_HEX\n');
  process.exit(2);
}

function fail(where, why) {
  process.stdout.write(`${where}: ${why}\n`);
  process.exit(1);
}

function main(argv) {
  if (argv[0] === '--envelope-hex') {
    // One envelope in hex (tests/data/example_envelope.hex) and its public key.
    if (argv.length !== 3 || !HEX64.test(argv[2])) usage();
    const hex = readFileSync(argv[1], 'utf8').trim();
    const publicKey = Buffer.from(argv[2], 'hex');
    try {
      const { body } = verifyEnvelope(Buffer.from(hex, 'hex'), publicKey, keyIdOf(publicKey), 'envelope');
      process.stdout.write(`verified envelope sender=${body.sender} message_id=${body.messageId.toString('hex')}\n`);
      process.exit(0);
    } catch (e) {
      if (e instanceof Refused || e instanceof Malformed) fail(argv[1], e.message);
      throw e;
    }
  }
  if (argv.length < 1 || argv.length > 2) usage();
  let text, broker = null;
  try {
    text = readFileSync(argv[0], 'utf8');
    if (argv[1]) broker = readKeyFile(argv[1]);
  } catch (e) {
    process.stderr.write(`verify_audit: ${e.message}\n`);
    process.exit(2);
  }
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let n = 0;
  const chain = { seq: 0, link: GENESIS, unchecked: 0 };
  for (let i = 0; i < lines.length; i++) {
    let where = `line ${i + 1}`;
    let rec;
    try {
      rec = JSON.parse(lines[i]);
    } catch (e) {
      fail(where, `not JSON: ${e.message}`);
    }
    try {
      if (rec && typeof rec === 'object' && 'fluxbus_audit' in rec) {
        verifyHeader(rec, broker);
        continue; // a header line, not a message
      }
      if (rec && Number.isSafeInteger(rec.seq)) where += `: broken at seq ${rec.seq}`;
      verifyLine(rec, broker, chain);
    } catch (e) {
      if (e instanceof Refused || e instanceof Malformed) fail(where, e.message);
      throw e;
    }
    n++;
  }
  process.stdout.write(`verified ${n} messages, chain head ${chain.link.toString('hex')}\n`);
  if (chain.unchecked)
    process.stderr.write(`verify_audit: ${chain.unchecked} messages sent by the broker itself not ` +
                         'verified: give the broker key file to verify them\n');
  process.exit(0);
}

main(process.argv.slice(2));
