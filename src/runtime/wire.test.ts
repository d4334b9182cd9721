import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame, encodeFrames, FrameReader } from './wire.ts';

test('a frame is u32le length then NUL-terminated fields', () => {
  assert.deepEqual(encodeFrame(['mount', '/proc', 'proc']), Buffer.from('\x11\0\0\0mount\0/proc\0proc\0', 'binary'));
  assert.deepEqual(encodeFrame(['env']), Buffer.from('\x04\0\0\0env\0', 'binary'));
});

test('fields with NUL are refused', () => {
  assert.throws(() => encodeFrame(['exec', 'a\0b']), /contains NUL/);
});

test('the reader reassembles frames split at any byte, with empty fields kept', () => {
  const frames = [['pid', '42'], ['error', 'mount', '19', 'mount x on /y: No such device'], ['continue', 'k=v', ''], ['ready']];
  const bytes = encodeFrames(frames);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const r = new FrameReader();
    const got = [...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))];
    assert.deepEqual(got, frames);
    assert.equal(r.pending, 0);
  }
});

test('an oversized length is refused', () => {
  const r = new FrameReader();
  assert.throws(() => r.push(Buffer.from([0xff, 0xff, 0xff, 0x7f])), /exceeds the limit/);
});
