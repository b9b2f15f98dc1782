package org.unetmm.internal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.unetmm.CompletionStatus;
import org.unetmm.SendPath;

/**
 * A send descriptor: one message as a scatter-gather list of (buffer, offset, length), filled in
 * place in a send-queue slot by the application thread and read by the engine. A reliable
 * channel's window and the engine's table of fragments a wire still holds keep copies
 * ({@link #copyFrom}); the buffers are the NIC's until the send's completion.
 */
public final class SendDescriptor {
    public ChannelState channel;
    public SendPath path;
    public long cookie;
    public final ByteBuffer[] buffers;
    public final int[] offsets;
    public final int[] lengths;
    /** Native address of each buffer's index 0 (PINNED path). */
    public final long[] addresses;
    public int count;
    public int length;
    /** FIXED_SEGMENT: where the copy lies in the segment, and the allocator's mark to free up to. */
    public int segmentOffset;
    public int segmentConsumed;
    public long segmentTicket;
    /** CRC32C of the bytes at send(), for the reuse check (NicConfig.reuseCheck). */
    public long checksum;
    /** Bytes handed to the wire so far (unreliable channels). */
    public int sent;
    /** The channel's message id, assigned when the engine first takes the send; {@link #UNNUMBERED} before. */
    public long messageId;
    /** Fragments a wire took and still holds (it reads their pages later); the send completes at 0. */
    public int held;
    /** The send's outcome when it was decided while fragments were still held (null while undecided). */
    public CompletionStatus outcome;
    public String outcomeDetail;
    /** Unreliable send in the queue: its stable copy in {@link HeldFragments} once a wire retained a fragment. */
    public SendDescriptor heldCopy;
    /**
     * The pin its held fragments share while a wire holds any ({@link HeldFragments}); null when
     * none is held. Not copied, and forgotten on clear: the pin belongs to the held fragments.
     */
    public HeldFragments.SendPin pin;
    /** A stable copy whose outcome is decided and that waits only for its held fragments to be released. */
    public boolean counted;

    /** Message id of a send the engine has not taken yet. */
    public static final long UNNUMBERED = -1;

    public SendDescriptor(int maxScatter) {
        buffers = new ByteBuffer[maxScatter];
        offsets = new int[maxScatter];
        lengths = new int[maxScatter];
        addresses = new long[maxScatter];
    }

    /** Makes this descriptor a copy of {@code d} (same buffers, not their bytes). */
    public void copyFrom(SendDescriptor d) {
        channel = d.channel;
        path = d.path;
        cookie = d.cookie;
        for (int i = 0; i < d.count; i++) {
            buffers[i] = d.buffers[i];
            offsets[i] = d.offsets[i];
            lengths[i] = d.lengths[i];
            addresses[i] = d.addresses[i];
        }
        count = d.count;
        length = d.length;
        segmentOffset = d.segmentOffset;
        segmentConsumed = d.segmentConsumed;
        segmentTicket = d.segmentTicket;
        checksum = d.checksum;
        sent = d.sent;
        messageId = d.messageId;
        held = 0;
        outcome = null;
        outcomeDetail = null;
        heldCopy = null;
        pin = null;
        counted = false;
    }

    /** Forgets the buffers (so the descriptor keeps no user memory alive). */
    public void clear() {
        channel = null;
        for (int i = 0; i < count; i++) {
            buffers[i] = null;
        }
        count = 0;
        held = 0;
        outcome = null;
        outcomeDetail = null;
        heldCopy = null;
        pin = null;
        counted = false;
    }

    /** CRC32C of the bytes the descriptor names now (PINNED path; the reuse check compares it with {@link #checksum}). */
    public long contentChecksum() {
        CRC32C crc = new CRC32C();
        for (int i = 0; i < count; i++) {
            ByteBuffer view = buffers[i].duplicate();
            view.limit(offsets[i] + lengths[i]).position(offsets[i]);
            crc.update(view);
        }
        return crc.getValue();
    }

    /** Whether the reuse check finds the PINNED buffers changed since send(). */
    public boolean modifiedSinceSend(boolean reuseCheck) {
        return reuseCheck && path == SendPath.PINNED && contentChecksum() != checksum;
    }
}
