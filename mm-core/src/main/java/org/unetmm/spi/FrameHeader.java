package org.unetmm.spi;

/**
 * The header of one fragment as it crosses a wire: the fields of DESIGN §3's wire frame that the
 * NIC reads. Mutable and reused, so moving a fragment allocates nothing; a transport that
 * serialises frames (udp, shm) writes and checks these fields in its own byte layout.
 */
public final class FrameHeader {
    /** A fragment of a message. */
    public static final int TYPE_DATA = 1;
    /** A reliable channel's acknowledgement, or a keep-alive probe ({@link #FLAG_PROBE}). */
    public static final int TYPE_ACK = 2;
    /**
     * Receiver not ready: message {@link #messageId} found no posted buffer; send it again later (InfiniBand's RNR
     * NAK).
     */
    public static final int TYPE_NACK = 3;
    /** The sending channel closes: the receiving one closes too (acknowledged on a reliable channel). */
    public static final int TYPE_CLOSE = 4;

    /** Reliable channels: the frame belongs to a reliable channel's protocol (see {@code ReliableChannel}). */
    public static final int FLAG_RELIABLE = 1;
    /** {@link #ack} holds a cumulative acknowledgement: every message with a smaller id was delivered. */
    public static final int FLAG_ACK = 1 << 1;
    /** {@link #checksum} holds the CRC32C of the header fields and the payload. */
    public static final int FLAG_CHECKSUM = 1 << 2;
    /** An ACK asking the peer to acknowledge at once (a keep-alive probe). */
    public static final int FLAG_PROBE = 1 << 3;
    /** An ACK reporting that a frame of a later message than {@link #ack} was dropped (go back to it). */
    public static final int FLAG_OUT_OF_ORDER = 1 << 4;
    /** Every flag this version of the SPI defines; a wire may refuse frames with others. */
    public static final int KNOWN_FLAGS = FLAG_RELIABLE | FLAG_ACK | FLAG_CHECKSUM | FLAG_PROBE | FLAG_OUT_OF_ORDER;

    /** One of the {@code TYPE_*} constants. */
    public int type;
    /** The sending channel's tag on its NIC. */
    public int sourceTag;
    /** The receiving channel's tag on its NIC. */
    public int destinationTag;
    /**
     * The sending channel's connection id: a random non-zero number drawn when it opened (see
     * {@code Channel}), so a reused tag or a restarted peer is never taken for the channel of old.
     */
    public long sourceConnection;
    /** The connection id of the receiving channel as the sender knows it; 0 when it does not (a well-known address). */
    public long destinationConnection;
    /** The message's number within the sending channel (reliable channels: its sequence number). */
    public long messageId;
    /** Where this fragment's payload starts in its message, in bytes. */
    public int fragmentOffset;
    /** The whole message's length in bytes. */
    public int messageLength;
    /** This fragment's payload length in bytes. */
    public int fragmentLength;
    /** The {@code FLAG_*} bits set. */
    public int flags;
    /** Cumulative acknowledgement of the reverse direction, valid with {@link #FLAG_ACK} (reliable channels). */
    public long ack;
    /** CRC32C of header fields and payload, valid with {@link #FLAG_CHECKSUM} (reliable channels). */
    public int checksum;
    /**
     * Who sent the frame, filled by the receiving wire (not carried in the frame): the NIC takes a
     * connected channel's frames only from its {@link Transport.Route#sourceKey() route}.
     */
    public final SourceKey source = new SourceKey();

    /** {@return whether the numbers are consistent: a known type, and a fragment that lies inside its message} */
    public boolean isWellFormed() {
        return type >= TYPE_DATA && type <= TYPE_CLOSE && messageLength >= 0 && fragmentOffset >= 0
                && fragmentLength >= 0 && fragmentOffset <= messageLength
                && fragmentLength <= messageLength - fragmentOffset;
    }

    /**
     * Copies every field of {@code other}, its {@link #source} included, into this header.
     *
     * @param other the header to copy, not null
     * @return this header
     */
    public FrameHeader copyFrom(FrameHeader other) {
        type = other.type;
        sourceTag = other.sourceTag;
        destinationTag = other.destinationTag;
        sourceConnection = other.sourceConnection;
        destinationConnection = other.destinationConnection;
        messageId = other.messageId;
        fragmentOffset = other.fragmentOffset;
        messageLength = other.messageLength;
        fragmentLength = other.fragmentLength;
        flags = other.flags;
        ack = other.ack;
        checksum = other.checksum;
        source.copyFrom(other.source);
        return this;
    }

    @Override
    public String toString() {
        return "FrameHeader[type=" + type + " src=" + sourceTag + "#" + Long.toHexString(sourceConnection) + " dst=" + destinationTag
                + "#" + Long.toHexString(destinationConnection) + " msg=" + messageId
                + " off=" + fragmentOffset + " len=" + fragmentLength + "/" + messageLength
                + (flags == 0 ? "" : " flags=0x" + Integer.toHexString(flags) + " ack=" + ack) + "]";
    }
}
