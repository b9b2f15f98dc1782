package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * One direction of a pair's region, producer and consumer over the same memory (as two processes
 * share it): the producer, which reads the consumer's head only when the head it knows leaves too
 * little room, never overwrites a record the consumer has not taken, and does see the room the
 * consumer freed; a head the consumer never could have written keeps the ring full.
 */
class FrameRingTest {
    private static final int CAPACITY = 4096;
    private static final int TAIL_AT = 0;
    private static final int HEAD_AT = 128;
    private static final int BASE = 256;
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final ByteBuffer memory = ByteBuffer.allocateDirect(BASE + CAPACITY + 1024).order(ByteOrder.LITTLE_ENDIAN);
    private final FrameRing producer = ring();
    private final FrameRing consumer = ring();

    private FrameRing ring() {
        return new FrameRing(memory, TAIL_AT, HEAD_AT, BASE, CAPACITY, BASE + CAPACITY, BASE + CAPACITY + 128,
                BASE + CAPACITY + 256, 16);
    }

    /** Publishes a record of {@code length} bytes whose payload bytes are all {@code mark}; false when refused. */
    private boolean offer(int length, byte mark) {
        int at = producer.claim(length);
        if (at < 0) {
            return false;
        }
        memory.putInt(at + FrameRing.KIND_OFFSET, FrameRing.KIND_INLINE);
        for (int i = 8; i < length; i++) {
            memory.put(at + i, mark);
        }
        producer.append(length);
        return true;
    }

    /** Takes the next record, checks it is intact and carries {@code mark}. */
    private void take(int length, byte mark) {
        int at = consumer.next();
        assertThat(at).as("a record is there").isGreaterThanOrEqualTo(0);
        assertThat(memory.getInt(at + FrameRing.LENGTH_OFFSET)).isEqualTo(length);
        for (int i = 8; i < length; i++) {
            assertThat(memory.get(at + i)).as("byte " + i + " of record " + mark + " is untouched").isEqualTo(mark);
        }
        consumer.consume();
    }

    @Test
    void theProducerNeverOverwritesAnUnreadRecordAndSeesTheRoomTheConsumerFrees() {
        int length = 200; // 200 aligned: 20 fit in 4096 beside the word cleared after them, with 88 bytes left at the end
        byte mark = 0;
        int queued = 0;
        while (offer(length, mark)) {
            mark++;
            queued++;
        }
        assertThat(queued).as("records that fit a full ring").isEqualTo((CAPACITY - FrameRing.ALIGNMENT) / length);
        byte next = 0;
        int outstanding = queued;
        for (int round = 0; round < 500; round++) { // take one, offer what fits: the ring wraps (padding) many times
            take(length, next++);
            outstanding--;
            while (offer(length, mark)) {
                mark++;
                outstanding++;
            }
            // a record that pads to the end needs the room of two taken: one less in flight for a round, never two
            assertThat(outstanding).as("room freed by the consumer is seen (round " + round + ")").isGreaterThanOrEqualTo(queued - 1);
        }
        for (int i = 0; i < outstanding; i++) {
            take(length, next++);
        }
        assertThat(consumer.next()).isEqualTo(FrameRing.EMPTY);
    }

    @Test
    void aHeadTheConsumerCouldNotHaveWrittenKeepsTheRingFull() {
        int length = 1000;
        for (int i = 0; i < 4; i++) {
            assertThat(offer(length, (byte) i)).isTrue();
        }
        LONGS.setRelease(memory, HEAD_AT, 1L << 40); // ahead of everything published
        assertThat(offer(length, (byte) 9)).as("an impossible head: the ring stays full").isFalse();
        LONGS.setRelease(memory, HEAD_AT, -8L);
        assertThat(offer(length, (byte) 9)).as("an impossible head: the ring stays full").isFalse();
        LONGS.setRelease(memory, HEAD_AT, 0L);
        take(length, (byte) 0);
        assertThat(offer(length / 2, (byte) 4)).as("a sound head again").isTrue();
    }

    @Test
    void aRecordIsTakenOnlyOnceItsLengthWordIsStoredAndItsRoomComesBackWithTheHead() {
        int length = 1016; // four fill the ring, beside the word cleared after them
        for (int i = 0; i < 3; i++) {
            int at = producer.claim(length);
            assertThat(at).isGreaterThanOrEqualTo(0);
            memory.putInt(at + FrameRing.KIND_OFFSET, FrameRing.KIND_INLINE);
            for (int b = 8; b < length; b++) {
                memory.put(at + b, (byte) (i + 1));
            }
            if (i == 0) {
                assertThat(consumer.next()).as("written, length word not stored: the consumer sees nothing")
                        .isEqualTo(FrameRing.EMPTY);
            }
            producer.append(length);
        }
        for (int i = 0; i < 3; i++) {
            int at = consumer.next();
            assertThat(at).as("record " + i + ", published by its length word alone").isGreaterThanOrEqualTo(0);
            assertThat(consumer.length()).isEqualTo(length);
            assertThat(consumer.kind()).isEqualTo(FrameRing.KIND_INLINE);
            assertThat(memory.get(at + 8)).isEqualTo((byte) (i + 1));
            consumer.consumeQuietly();
        }
        assertThat(consumer.next()).isEqualTo(FrameRing.EMPTY);
        assertThat(offer(length, (byte) 3)).as("the fourth fits").isTrue();
        assertThat(offer(length, (byte) 4)).as("room consumed but not given back yet: still full").isFalse();
        consumer.publishHead();
        for (int b = 8; b < length; b++) {
            assertThat(memory.get(BASE + b)).as("byte %d of the first record: the consumer only reads", b).isEqualTo((byte) 1);
        }
        assertThat(offer(length, (byte) 4)).as("the batch's room, given back at once").isTrue();
        take(length, (byte) 3);
        take(length, (byte) 4);
    }

    /**
     * Records whose payload looks like a published record at every word, tagged for the position
     * it will have one lap later; then laps of records of other lengths, whose starts fall inside
     * those payloads. The consumer takes exactly what was published and reads nothing at its head
     * after each: what an earlier lap left where the next record starts never reads as one.
     */
    @Test
    void whatAnEarlierLapLeftWhereTheNextRecordStartsIsNeverTakenForOne() {
        int decoy = 1024; // three a lap (the fourth does not fit beside the cleared word)
        for (int lap = 0; lap < 3; lap++) {
            for (int r = 0; r < 3; r++) {
                int at = producer.claim(decoy);
                assertThat(at).isGreaterThanOrEqualTo(0);
                long position = (long) lap * CAPACITY + (at - BASE);
                memory.putInt(at + FrameRing.KIND_OFFSET, FrameRing.KIND_INLINE);
                for (int w = 8; w < decoy; w += 8) { // a record of 16 bytes, tagged for the next lap's head here
                    memory.putInt(at + w + FrameRing.LENGTH_OFFSET, 16);
                    memory.putInt(at + w + FrameRing.KIND_OFFSET,
                            FrameRing.KIND_INLINE | FrameRing.tag(position + w + CAPACITY));
                }
                producer.append(decoy);
                assertThat(consumer.next()).isGreaterThanOrEqualTo(0);
                assertThat(consumer.length()).isEqualTo(decoy);
                consumer.consume();
                assertThat(consumer.next()).as("nothing after decoy %d of lap %d", r, lap).isEqualTo(FrameRing.EMPTY);
            }
            // fill what is left of the lap up to its end, padding included, with records of other lengths
            for (int length : new int[] {136, 200, 72, 48}) {
                assertThat(offer(length, (byte) length)).isTrue();
                take(length, (byte) length);
                assertThat(consumer.next()).as("nothing after a %d B record in lap %d", length, lap).isEqualTo(FrameRing.EMPTY);
            }
        }
        for (int i = 0; i < 200; i++) { // and many laps of odd lengths over the decoys' remains
            int length = 24 + 8 * (i % 37);
            assertThat(offer(length, (byte) i)).isTrue();
            take(length, (byte) i);
            assertThat(consumer.next()).as("nothing after record %d", i).isEqualTo(FrameRing.EMPTY);
        }
    }

    @Test
    void aLengthWordWrittenBeforeItsRecordIsNotTakenAndTheConsumerSkipsToTheStoredTail() {
        assertThat(offer(136, (byte) 6)).isTrue();
        take(136, (byte) 6); // the lie below stands past position 0, whose position tag is 0, as fresh memory's
        int at = producer.claim(200);
        memory.putInt(at + FrameRing.LENGTH_OFFSET, 64); // plausible, but stored first, with no position in its kind word
        memory.putInt(at + FrameRing.KIND_OFFSET, FrameRing.KIND_INLINE);
        for (int poll = 0; poll < 3 * FrameRing.GAP_CHECK_POLLS; poll++) {
            assertThat(consumer.next()).as("not a record: nothing to take yet, the producer stored no tail past it").isEqualTo(FrameRing.EMPTY);
        }
        producer.appendAsWritten(200);
        producer.storeTail();
        int corrupt = 0;
        for (int poll = 0; poll < 2 * FrameRing.GAP_CHECK_POLLS; poll++) {
            int next = consumer.next();
            assertThat(next).as("never taken as a record").isLessThan(0);
            corrupt += next == FrameRing.CORRUPT ? 1 : 0;
        }
        assertThat(corrupt).as("counted once").isEqualTo(1);
        assertThat(consumer.corruption()).as("no record where the stored tail says one was").isEqualTo(ShmDropReason.BAD_RING);
        assertThat(memory.getInt(at + FrameRing.LENGTH_OFFSET)).as("skipped and zeroed").isZero();
        assertThat(offer(136, (byte) 7)).isTrue();
        take(136, (byte) 7);
        assertThat(consumer.next()).isEqualTo(FrameRing.EMPTY);
    }

    @Test
    void aLengthNearIntegerMaxIsRefusedAndSkippedNotTakenForARecord() {
        assertThat(offer(136, (byte) 5)).isTrue();
        take(136, (byte) 5);
        int at = producer.claim(200);
        memory.putInt(at + FrameRing.KIND_OFFSET, FrameRing.KIND_INLINE | FrameRing.tag(136)); // its true position
        memory.putInt(at + FrameRing.LENGTH_OFFSET, Integer.MAX_VALUE - 2); // aligned up, it would overflow to negative
        producer.appendAsWritten(200);
        producer.storeTail();
        assertThat(consumer.next()).as("refused, counted").isEqualTo(FrameRing.CORRUPT);
        assertThat(consumer.corruption()).isEqualTo(ShmDropReason.BAD_RECORD_LENGTH);
        assertThat(consumer.next()).as("skipped to the stored tail").isEqualTo(FrameRing.EMPTY);
        assertThat(offer(136, (byte) 8)).isTrue();
        take(136, (byte) 8);
    }
}
