package org.unetmm.nic.shm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.unetmm.pinning.NativeMemory;

/**
 * One direction of a pair's region: a single-producer single-consumer ring of variable-length
 * frame records, and beside it a ring of fixed 16-byte completion slots going the same way. As
 * Agrona's {@code OneToOneRingBuffer}, positions only grow; a record never wraps: one that would
 * cross the end is preceded by a padding record to it. A record is published by its own length
 * word: the producer writes every other byte of it, then stores the length with release; the
 * consumer reads the length at its head with acquire (0: nothing yet), and takes a record only if
 * its kind word carries its own position (a length word that shows before the rest of the record,
 * as a writer that ignores the order makes, is not taken for one). Before it publishes a record
 * the producer clears the word where the next one will start (it claims those 8 bytes of room
 * too), so whatever an earlier lap left there (the middle of an older, longer record, say) reads
 * 0 until the next record is published; the consumer only reads the ring, and the lines it read
 * go back to the producer without a write of the consumer's own to take back first (zeroing what
 * it took cost the consumer a memset a batch and the producer a line it had to win back). The
 * consumer's wait thus ends on the record's first cache line, which it reads anyway: no separate
 * tail line crosses between the cores for each record (Aeron's subscribers wait the same way). The
 * consumer publishes its head when done with a batch of records; the producer stores its tail once
 * per round, read only to skip past a record that cannot be read.
 *
 * <pre>
 *  record (8-byte aligned)
 *    0  int  length        bytes of the record, header included, before alignment
 *    4  int  kind          bits 0-7: 1 padding, 2 inline, 3 rendezvous, 4 segment;
 *                          bits 8-31: the record's position in the ring / 8, its low 24 bits
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
 * what it reads back is never trusted. A consumer checks each record's length against the end of
 * the ring (the record's bytes are all it reads), skips a record it cannot delimit to the tail the
 * producer stored (when that is ahead of it and within a ring), zeroing what it skips, and reads
 * every field once into its own memory before checking it; {@link ShmFrame} checks the fields. A
 * producer that reads an impossible head treats the ring as full. What a writer that follows the
 * protocol to the letter and lies can still do is stop its own ring: a record with its true
 * position and a length longer than what it wrote moves the consumer's head past that writer's
 * tail, and nothing it writes behind it is taken again. That writer is the pair's only producer, so
 * it silences no one but itself; the consumer's memory, its posted buffers and its other pairs
 * are untouched.
 */
final class FrameRing {
    static final int LENGTH_OFFSET = 0;
    static final int KIND_OFFSET = 4;
    static final int ALIGNMENT = 8;
    static final int KIND_PADDING = 1;
    static final int KIND_INLINE = 2;
    static final int KIND_RENDEZVOUS = 3;
    static final int KIND_SEGMENT = 4;
    /** The kind's bits in the kind word; the rest are the position tag. */
    static final int KIND_MASK = 0xFF;
    /** {@link #next()}: nothing to read. */
    static final int EMPTY = -1;
    /** {@link #next()}: the ring's indices or the record at the head are impossible; see {@link #corruption()}. */
    static final int CORRUPT = -2;
    /** {@link #refuse}: skipped, read the next record. */
    private static final int READ_ON = -3;
    /** Empty polls in a row after which the consumer looks at the stored tail for a gap a lying writer left. */
    static final int GAP_CHECK_POLLS = 1024;
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

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
    /** The tail as last stored into the region. */
    private long storedTail;
    private long completionTail;
    // consumer side
    private long head;
    private long publishedHead;
    /** {@link #next()}'s last record length, checked. */
    private int recordLength;
    private int recordKind;
    private long completionHead;
    private ShmDropReason corruption;
    private long lastBadHead = -1;
    private int emptyPolls;

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
        needed += ALIGNMENT; // and the word after it, cleared before the record is published: never an unread one
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
            clear(0); // where the record after the padding starts
            memory.putInt(base + index + KIND_OFFSET, KIND_PADDING | tag(tail));
            INTS.setRelease(memory, base + index + LENGTH_OFFSET, toEnd);
            tail += toEnd;
            index = 0;
        }
        return base + index;
    }

    /** Whether the consumer has taken everything published (the head it stored is the tail). */
    boolean drained() {
        return (long) LONGS.getAcquire(memory, headAt) == tail;
    }

    /**
     * Publishes the record last {@linkplain #claim claimed}, every byte of it but its length word
     * written: stores {@code length} there with release, which is what the consumer waits on.
     */
    void append(int length) {
        int at = base + (int) (tail & mask);
        clear((int) ((tail + align(length)) & mask));
        memory.putInt(at + KIND_OFFSET, (memory.getInt(at + KIND_OFFSET) & KIND_MASK) | tag(tail));
        INTS.setRelease(memory, at + LENGTH_OFFSET, length);
        tail += align(length);
    }

    /**
     * Clears the first word (length and kind) at ring index {@code index}, where the record after
     * the one being published starts: ordered before that record's release, so a consumer that
     * takes this record then reads 0 there until the next one is published.
     */
    private void clear(int index) {
        memory.putLong(base + index, 0L);
    }

    /** The position tag of a record at ring position {@code position}: bits 8-31 of its kind word. */
    static int tag(long position) {
        return (int) (position >>> 3) << 8;
    }

    /**
     * Moves the tail past the record last claimed, {@code length} bytes, leaving its length word as
     * the writer stored it, impossible or not: what a process that writes the region by hand does
     * (the hostile-writer tests); the NIC itself only {@link #append}s.
     */
    void appendAsWritten(int length) {
        tail += align(length);
    }

    /**
     * Stores the tail (the NIC: once per round): how far this producer has written, which a consumer
     * reads only to skip what it cannot take. Records are published by their length words, not by this.
     */
    void storeTail() {
        if (tail != storedTail) {
            storedTail = tail;
            LONGS.setRelease(memory, tailAt, tail);
        }
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
     * The index in {@link #memory()} of the next published record (padding skipped), whose length
     * ({@link #length()}) has been checked against the end of the ring; {@link #EMPTY}; or
     * {@link #CORRUPT}, once per record that cannot be delimited, which is skipped (with what follows
     * it up to the tail the producer stored) as soon as that tail is past it.
     */
    int next() {
        while (true) {
            int index = (int) (head & mask);
            int at = base + index;
            int length = (int) INTS.getAcquire(memory, at + LENGTH_OFFSET);
            int kindWord = memory.getInt(at + KIND_OFFSET);
            if (length == 0 || (kindWord & ~KIND_MASK) != tag(head)) {
                if (++emptyPolls < GAP_CHECK_POLLS) {
                    return EMPTY;
                }
                emptyPolls = 0;
                if (!gapBeforeStoredTail(at)) {
                    return EMPTY;
                }
                int refused = refuse(ShmDropReason.BAD_RING);
                if (refused != READ_ON) {
                    return refused;
                }
                continue;
            }
            emptyPolls = 0;
            if (length < ALIGNMENT || length > capacity - index) { // negative too; ends within the ring
                int refused = refuse(ShmDropReason.BAD_RECORD_LENGTH);
                if (refused != READ_ON) {
                    return refused;
                }
                continue;
            }
            recordLength = length;
            recordKind = kindWord & KIND_MASK;
            if (recordKind == KIND_PADDING) {
                consume();
                continue;
            }
            return at;
        }
    }

    /**
     * What stands at the head cannot be taken: skips it to the stored tail if that is past it.
     * {@link #CORRUPT} the first time for this head (counted once, {@code reason}), then
     * {@link #EMPTY} until it could be skipped, then {@link #READ_ON}.
     */
    private int refuse(ShmDropReason reason) {
        boolean first = head != lastBadHead;
        lastBadHead = head;
        boolean skipped = skipToStoredTail();
        if (first) {
            corruption = reason;
            return CORRUPT;
        }
        return skipped ? READ_ON : EMPTY;
    }

    /** The checked length of the record {@link #next()} returned last: read once, what the consumer goes by. */
    int length() {
        return recordLength;
    }

    /** The kind of the record {@link #next()} returned last, read once (not yet checked: {@link ShmFrame#decode} does). */
    int kind() {
        return recordKind;
    }

    /** The reason of the last {@link #CORRUPT}. */
    ShmDropReason corruption() {
        return corruption;
    }

    /** Done with the record {@link #next()} returned last; its room is given back now. */
    void consume() {
        consumeQuietly();
        publishHead();
    }

    /**
     * Done with the record {@link #next()} returned last: moves the head past it; its room is given
     * back by the next {@link #publishHead()} (the receiver's, once per batch of records).
     */
    void consumeQuietly() {
        head += align(recordLength);
    }

    /**
     * Stores the head into the region, giving the producer back the room of every record consumed
     * since the last call. The consumer writes nothing into the records themselves (the producer
     * clears where its next record starts), except what it skips past ({@link #skipToStoredTail}).
     */
    void publishHead() {
        if (head != publishedHead) {
            publishedHead = head;
            LONGS.setRelease(memory, headAt, head);
        }
    }

    /**
     * Whether nothing is published at the head although the tail the producer stored is past it:
     * what stands there was written out of order or is no record (only a writer that ignores the
     * protocol leaves that), or a record before it said a length shorter than what was written. The word at the head is read
     * again after the tail: a record published before that tail was stored is seen then.
     */
    private boolean gapBeforeStoredTail(int at) {
        long ahead = (long) LONGS.getAcquire(memory, tailAt) - head;
        return ahead > 0 && ahead <= capacity && (ahead & (ALIGNMENT - 1)) == 0
                && ((int) INTS.getAcquire(memory, at + LENGTH_OFFSET) == 0
                    || (memory.getInt(at + KIND_OFFSET) & ~KIND_MASK) != tag(head));
    }

    /**
     * Skips from the head to the tail the producer stored (the bytes between zeroed), if that tail is
     * ahead of the head by at most a ring; else leaves the head where it is (a later tail may be).
     */
    private boolean skipToStoredTail() {
        long stored = (long) LONGS.getAcquire(memory, tailAt);
        long ahead = stored - head;
        if (ahead <= 0 || ahead > capacity || (ahead & (ALIGNMENT - 1)) != 0) {
            return false;
        }
        // what was skipped is zeroed: no word a writer that ignored the protocol left there is read again
        long bytes = stored - head;
        int from = (int) (head & mask);
        int first = (int) Math.min(bytes, capacity - from);
        zero(from, first);
        zero(0, (int) (bytes - first));
        head = stored;
        publishHead();
        return true;
    }

    /** Zeroes {@code bytes} of the ring from {@code index}. */
    private void zero(int index, int bytes) {
        NativeMemory.zero(memory, base + index, bytes);
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
