package org.unetmm.nic.shm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One direction of a pair's region: a single-producer single-consumer ring of variable-length
 * frame records, and beside it a ring of fixed 16-byte completion slots going the same way. As
 * Agrona's {@code OneToOneRingBuffer}, positions only grow; a record never wraps: one that would
 * cross the end is preceded by a padding record to it. The producer publishes by a release store
 * of its tail after writing the records of a round; the consumer reads records up to the tail it
 * acquired and publishes its head when done with a batch of them.
 *
 * <pre>
 *  record (8-byte aligned)
 *    0  int  length        bytes of the record, header included, before alignment
 *    4  int  kind          1 padding, 2 inline, 3 rendezvous, 4 segment
 *    8  int  type          FrameHeader fields from here
 *   12  int  flags
 *   16  int  sourceTag
 *   20  int  destinationTag
 *   24  long sourceConnection
 *   32  long destinationConnection
 *   40  long messageId
 *   48  int  fragmentOffset
 *   52  int  messageLength
 *   56  int  fragmentLength
 *   60  int  checksum
 *   64  long ack
 *   72  inline:     payload [fragmentLength]
 *   72  rendezvous: long seq, int pid, int pieces, then pieces x (long address, long length)
 *   72  segment:    long seq, int segment number, int 0, long offset in the segment ({@link ShmSegment})
 *
 *  completion slot: 0 long seq (of the rendezvous or segment frame), 8 int status (0 read, else the errno), 12 int 0
 * </pre>
 *
 * <p><b>Hostile writers.</b> The other process of the pair, or any process of the same user, may
 * write anything here. Each side keeps its own index private and only stores it into the region:
 * what it reads back is never trusted. A consumer checks the tail it reads (not behind its head,
 * at most a ring ahead), each record's length against what was published and the end of the
 * ring, and reads every field once into its own memory before checking it; {@link ShmFrame} checks
 * the fields. A producer that reads an impossible head treats the ring as full.
 */
final class FrameRing {
    static final int LENGTH_OFFSET = 0;
    static final int KIND_OFFSET = 4;
    static final int ALIGNMENT = 8;
    static final int KIND_PADDING = 1;
    static final int KIND_INLINE = 2;
    static final int KIND_RENDEZVOUS = 3;
    static final int KIND_SEGMENT = 4;
    /** {@link #next()}: nothing to read. */
    static final int EMPTY = -1;
    /** {@link #next()}: the ring's indices or the record at the head are impossible; see {@link #corruption()}. */
    static final int CORRUPT = -2;
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final ByteBuffer memory;
    private final int tailAt;
    private final int headAt;
    private final int base;
    private final int capacity;
    private final int mask;
    private final int completionTailAt;
    private final int completionHeadAt;
    private final int completionBase;
    private final int slots;
    // producer side
    private long tail;
    /** The consumer's head as this producer last read it: at or behind the real one, so room it shows is there. */
    private long knownHead;
    /** The tail as last stored into the region: records appended beyond it are not yet visible. */
    private long publishedOut;
    private long completionTail;
    // consumer side
    private long head;
    private long publishedHead;
    private long publishedTail;
    private long completionHead;
    private ShmDropReason corruption;
    private long lastBadTail = -1;

    FrameRing(ByteBuffer memory, int tailAt, int headAt, int base, int capacity,
              int completionTailAt, int completionHeadAt, int completionBase, int slots) {
        this.memory = memory;
        this.tailAt = tailAt;
        this.headAt = headAt;
        this.base = base;
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.completionTailAt = completionTailAt;
        this.completionHeadAt = completionHeadAt;
        this.completionBase = completionBase;
        this.slots = slots;
    }

    static int align(int length) {
        return (length + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** The largest record this ring takes: half of it, so one always fits once the consumer caught up. */
    int maxRecord() {
        return capacity / 2;
    }

    ByteBuffer memory() {
        return memory;
    }

    // ---- producer ------------------------------------------------------------------------------

    /**
     * Room for a record of {@code length} bytes: returns its index in {@link #memory()} (write it,
     * then {@link #publish}), or -1 when the ring is full (or the head read back is impossible).
     */
    int claim(int length) {
        int aligned = align(length);
        int index = (int) (tail & mask);
        int toEnd = capacity - index;
        long needed = aligned > toEnd ? (long) toEnd + aligned : aligned; // a record that would wrap pads to the end first
        if (tail - knownHead + needed > capacity) {
            // the head last read leaves too little room: read the consumer's line again, only now (Agrona's
            // cached head), so records that fit do not pull that line across on every claim
            long consumed = (long) LONGS.getAcquire(memory, headAt);
            long used = tail - consumed;
            if (used < 0 || used > capacity) {
                return -1; // a head no consumer wrote: stay full rather than overwrite what may be unread
            }
            knownHead = consumed;
            if (used + needed > capacity) {
                return -1;
            }
        }
        if (aligned > toEnd) {
            memory.putInt(base + index + LENGTH_OFFSET, toEnd);
            memory.putInt(base + index + KIND_OFFSET, KIND_PADDING);
            tail += toEnd;
            index = 0;
        }
        return base + index;
    }

    /** Whether the consumer has taken everything published (the head it stored is the tail). */
    boolean drained() {
        return (long) LONGS.getAcquire(memory, headAt) == tail;
    }

    /** Publishes the record last {@linkplain #claim claimed}, of {@code length} bytes, now. */
    void publish(int length) {
        append(length);
        publishAppended();
    }

    /**
     * Adds the record last {@linkplain #claim claimed}, of {@code length} bytes, to what the next
     * {@link #publishAppended()} publishes. The NIC appends what a round transmits and publishes it
     * once when the round polls: one release store of the tail line per round instead of one per
     * record, so a consumer that keeps up does not pull that line across for every record.
     */
    void append(int length) {
        tail += align(length);
    }

    /** Publishes every record appended since the last call; whether there were any. */
    boolean publishAppended() {
        if (tail == publishedOut) {
            return false;
        }
        publishedOut = tail;
        LONGS.setRelease(memory, tailAt, tail);
        return true;
    }

    /** Posts a completion for rendezvous {@code seq}; false when the completion ring is full. */
    boolean complete(long seq, int status) {
        long consumed = (long) LONGS.getAcquire(memory, completionHeadAt);
        long used = completionTail - consumed;
        if (used < 0 || used >= slots) {
            return false;
        }
        int at = completionBase + (int) (completionTail & (slots - 1)) * ShmRegion.COMPLETION_SLOT_LENGTH;
        memory.putLong(at, seq);
        memory.putInt(at + 8, status);
        memory.putInt(at + 12, 0);
        completionTail++;
        LONGS.setRelease(memory, completionTailAt, completionTail);
        return true;
    }

    // ---- consumer ------------------------------------------------------------------------------

    /**
     * The index in {@link #memory()} of the next record (padding skipped), whose length has been
     * checked against what was published; {@link #EMPTY}; or {@link #CORRUPT}, once per bad state,
     * after which everything published so far is skipped.
     */
    int next() {
        while (true) {
            long available = publishedTail - head;
            if (available == 0) {
                publishedTail = (long) LONGS.getAcquire(memory, tailAt);
                available = publishedTail - head;
                if (available == 0) {
                    return EMPTY;
                }
            }
            if (available < 0 || available > capacity || (available & (ALIGNMENT - 1)) != 0) {
                long bad = publishedTail;
                publishedTail = head; // read the tail again next time: a sound one lets the ring go on
                if (bad == lastBadTail) {
                    return EMPTY;
                }
                lastBadTail = bad;
                corruption = ShmDropReason.BAD_RING;
                return CORRUPT;
            }
            int index = (int) (head & mask);
            int length = memory.getInt(base + index + LENGTH_OFFSET);
            int kind = memory.getInt(base + index + KIND_OFFSET);
            if (length < ALIGNMENT || align(length) > available || align(length) > capacity - index) {
                skipPublished();
                corruption = ShmDropReason.BAD_RECORD_LENGTH;
                return CORRUPT;
            }
            if (kind == KIND_PADDING) {
                consume(length);
                continue;
            }
            return base + index;
        }
    }

    /** The reason of the last {@link #CORRUPT}. */
    ShmDropReason corruption() {
        return corruption;
    }

    /** Done with the record at the head, {@code length} bytes as read by {@link #next()}; its room is given back now. */
    void consume(int length) {
        consumeQuietly(length);
        publishHead();
    }

    /**
     * Done with the record at the head, its room given back by the next {@link #publishHead()}
     * (the receiver's, once per batch of records it read).
     */
    void consumeQuietly(int length) {
        head += align(length);
    }

    /** Stores the head into the region, giving the producer back the room of every record consumed. */
    void publishHead() {
        if (head != publishedHead) {
            publishedHead = head;
            LONGS.setRelease(memory, headAt, head);
        }
    }

    /** Drops everything published so far: the records cannot be told apart any more. */
    private void skipPublished() {
        head = publishedTail;
        publishHead();
    }

    /**
     * The next completion, or false: fills {@code into[0]} with its seq and {@code into[1]} with
     * its status. A completion tail that is impossible is treated as no completions.
     */
    boolean nextCompletion(long[] into) {
        long published = (long) LONGS.getAcquire(memory, completionTailAt);
        long available = published - completionHead;
        if (available <= 0 || available > slots) {
            return false;
        }
        int at = completionBase + (int) (completionHead & (slots - 1)) * ShmRegion.COMPLETION_SLOT_LENGTH;
        into[0] = memory.getLong(at);
        into[1] = memory.getInt(at + 8);
        completionHead++;
        LONGS.setRelease(memory, completionHeadAt, completionHead);
        return true;
    }
}
