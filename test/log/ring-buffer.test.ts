import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { CTRL_SLOTS, CTRL_USED, RingConsumer, RingProducer, createRing } from '../../src/log/ring-buffer.js';

/** Largest test message: this thread is also the consumer, so a full ring would wait forever. */
const MAX = 200;

/** Drains everything published, as the commit thread does, and copies the messages out. */
function drainAll(consumer: RingConsumer): Uint8Array[] {
  const got: Uint8Array[] = [];
  const bytes = consumer.drain((at, length) => got.push(consumer.data.slice(at, at + length)));
  consumer.release(bytes);
  return got;
}

test('messages built in place arrive whole and in order over many laps of a small ring', () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 400 }), fc.nat(5), (messages, drainEvery) => {
      const ring = createRing(1024);
      const producer = new RingProducer(ring);
      const consumer = new RingConsumer(ring);
      const sent: number[][] = [];
      const received: Uint8Array[] = [];
      let byte = 0;
      messages.forEach((pieces, i) => {
        // A message needs at most twice its size of room (its bytes, and what a move to the
        // ring's start skips): drain before the ring gets fuller than that allows.
        if (Atomics.load(producer.ctrl, CTRL_USED) > 1024 - 2 * (4 + MAX)) received.push(...drainAll(consumer));
        // A message is reserved piece by piece, as the run writer reserves records; a piece
        // that would cross the ring's end moves the whole message to its start.
        const content: number[] = [];
        for (const size of pieces) {
          if (content.length + size > MAX) break;
          const at = producer.reserve(size);
          assert.ok(at >= 0);
          for (let k = 0; k < size; k++) content.push(byte++ & 0xff);
          // Write the whole message so far where it now is (it may have moved).
          producer.data.set(content, producer.openAt);
        }
        producer.end();
        producer.publish();
        sent.push(content);
        if (i % (drainEvery + 1) === 0) received.push(...drainAll(consumer));
      });
      received.push(...drainAll(consumer));
      assert.deepEqual(
        received.map((m) => [...m]),
        sent,
      );
      assert.equal(Atomics.load(producer.ctrl, CTRL_USED), 0);
    }),
    { numRuns: 60 },
  );
});

test('end keeps only the bytes asked for, and a discarded message leaves no trace', () => {
  const ring = createRing(256);
  const producer = new RingProducer(ring);
  const consumer = new RingConsumer(ring);
  for (let lap = 0; lap < 20; lap++) {
    producer.data.set([1, 2, 3], producer.reserve(100));
    producer.end(3);
    // Dropped, sometimes after reserving past the ring's end (a move): the skip still counts.
    producer.reserve(90);
    producer.discard();
    producer.data.set([lap], producer.reserve(1));
    producer.end();
    producer.publish();
    assert.deepEqual(
      drainAll(consumer).map((m) => [...m]),
      [[1, 2, 3], [lap]],
    );
  }
  assert.throws(() => {
    producer.reserve(2);
    producer.end(3);
  }, RangeError);
});

test('a producer waiting for room is released as the consumer frees it on another thread', async () => {
  const ring = createRing(256);
  const producer = new RingProducer(ring);
  producer.reserve(100);
  producer.end();
  producer.publish();
  // The next message needs the space the first holds: a thread frees it a little later.
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const ctrl = new Int32Array(workerData.sab, 0, ${CTRL_SLOTS});
     setTimeout(() => { Atomics.sub(ctrl, ${CTRL_USED}, Atomics.load(ctrl, ${CTRL_USED})); Atomics.notify(ctrl, ${CTRL_USED}); }, 50);`,
    { eval: true, workerData: { sab: ring.sab } },
  );
  await new Promise((r) => worker.once('online', r));
  assert.ok(producer.reserve(120) >= 0);
  await worker.terminate();
});
