import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { encodePng } from '../../../src/writers/tensorboard/png.js';
import { InvalidArgumentError } from '../../../src/errors/trainledger-error.js';

test('a greyscale PNG holds its size, colour type 0 and the rows after filter byte 0', () => {
  const png = Buffer.from(encodePng(2, 1, 1, new Uint8Array([7, 250])));
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
  assert.deepEqual([png.toString('latin1', 12, 16), png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]], ['IHDR', 1, 2, 8, 0]);
  const idat = png.indexOf('IDAT');
  assert.deepEqual([...inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)))], [0, 7, 0, 250]);
  assert.equal(png.subarray(-8, -4).toString('latin1'), 'IEND');
});

test('RGBA is colour type 6, and the same pixels give the same bytes', () => {
  const px = new Uint8Array([1, 2, 3, 4]);
  const png = Buffer.from(encodePng(1, 1, 4, px));
  assert.equal(png[25], 6);
  assert.deepEqual(encodePng(1, 1, 4, px), encodePng(1, 1, 4, px));
});

test('pixels that do not fill height×width×channels are refused, naming the sizes', () => {
  assert.throws(() => encodePng(2, 2, 3, new Uint8Array(11)), (e: unknown) => e instanceof InvalidArgumentError && /PNG of 2×2×3 from 11 bytes/.test(e.message));
  assert.throws(() => encodePng(1, 1, 5, new Uint8Array(5)), InvalidArgumentError);
});
