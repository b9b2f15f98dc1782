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
        memory.putInt(at + FrameRing.LENGTH_OFFSET, length);
        memory.putInt(at + FrameRing.KIND_OFFSET, FrameRing.KIND_INLINE);
        for (int i = 8; i < length; i++) {
            memory.put(at + i, mark);
        }
        producer.publish(length);
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
        consumer.consume(length);
    }

    @Test
    void theProducerNeverOverwritesAnUnreadRecordAndSeesTheRoomTheConsumerFrees() {
        int length = 200; // 200 aligned: 20 fit in 4096, with 96 bytes left at the end
        byte mark = 0;
        int queued = 0;
        while (offer(length, mark)) {
            mark++;
            queued++;
        }
        assertThat(queued).as("records that fit a full ring").isEqualTo(CAPACITY / length);
        byte next = 0;
        for (int round = 0; round < 500; round++) { // take one, offer one: the ring wraps (padding) many times
            take(length, next++);
            assertThat(offer(length, mark)).as("room freed by the consumer is seen (round " + round + ")").isTrue();
            mark++;
            assertThat(offer(length, (byte) 99)).as("a full ring refuses (round " + round + ")").isFalse();
        }
        for (int i = 0; i < queued; i++) {
            take(length, next++);
        }
        assertThat(consumer.next()).isEqualTo(FrameRing.EMPTY);
    }

    @Test
    void aHeadTheConsumerCouldNotHaveWrittenKeepsTheRingFull() {
        int length = 1024;
        for (int i = 0; i < 4; i++) {
            assertThat(offer(length, (byte) i)).isTrue();
        }
        LONGS.setRelease(memory, HEAD_AT, 1L << 40); // ahead of everything published
        assertThat(offer(length, (byte) 9)).as("an impossible head: the ring stays full").isFalse();
        LONGS.setRelease(memory, HEAD_AT, -8L);
        assertThat(offer(length, (byte) 9)).as("an impossible head: the ring stays full").isFalse();
        LONGS.setRelease(memory, HEAD_AT, 0L);
        take(length, (byte) 0);
        assertThat(offer(length, (byte) 4)).as("a sound head again").isTrue();
    }

    @Test
    void recordsAppendedInARoundBecomeVisibleTogetherAndTheirRoomReturnsWithTheBatch() {
        int length = 1024; // four fill the ring
        for (int i = 0; i < 3; i++) {
            int at = producer.claim(length);
            assertThat(at).isGreaterThanOrEqualTo(0);
            memory.putInt(at + FrameRing.LENGTH_OFFSET, length);
            memory.putInt(at + FrameRing.KIND_OFFSET, FrameRing.KIND_INLINE);
            memory.put(at + 8, (byte) i);
            producer.append(length);
            assertThat(consumer.next()).as("appended, not yet published: the consumer sees nothing").isEqualTo(FrameRing.EMPTY);
        }
        assertThat(producer.publishAppended()).as("there was something to publish").isTrue();
        assertThat(producer.publishAppended()).as("nothing new since").isFalse();
        for (int i = 0; i < 3; i++) {
            int at = consumer.next();
            assertThat(at).as("record " + i + " published with the batch").isGreaterThanOrEqualTo(0);
            assertThat(memory.get(at + 8)).isEqualTo((byte) i);
            consumer.consumeQuietly(length);
        }
        assertThat(consumer.next()).isEqualTo(FrameRing.EMPTY);
        assertThat(offer(length, (byte) 3)).as("the fourth fits").isTrue();
        assertThat(offer(length, (byte) 4)).as("room consumed but not given back yet: still full").isFalse();
        consumer.publishHead();
        assertThat(offer(length, (byte) 4)).as("the batch's room, given back at once").isTrue();
    }
}
