package org.unetmm.spi;

/**
 * The header of one fragment as it crosses a wire: the fields of DESIGN §3's wire frame that the
 * NIC reads. Mutable and reused, so moving a fragment allocates nothing; a transport that
 * serialises frames (udp, shm) writes and checks these fields in its own byte layout.
 */
public final class FrameHeader {
    public static final int TYPE_DATA = 1;
    public static final int TYPE_ACK = 2;
    public static final int TYPE_NACK = 3;
    public static final int TYPE_CLOSE = 4;

    public int type;
    public int sourceTag;
    public int destinationTag;
    public long messageId;
    public int fragmentOffset;
    public int messageLength;
    public int fragmentLength;
    public int flags;

    /** Whether the numbers are consistent: a fragment lies inside its message. */
    public boolean isWellFormed() {
        return type >= TYPE_DATA && type <= TYPE_CLOSE && messageLength >= 0 && fragmentOffset >= 0
                && fragmentLength >= 0 && fragmentOffset <= messageLength
                && fragmentLength <= messageLength - fragmentOffset;
    }

    public FrameHeader copyFrom(FrameHeader other) {
        type = other.type;
        sourceTag = other.sourceTag;
        destinationTag = other.destinationTag;
        messageId = other.messageId;
        fragmentOffset = other.fragmentOffset;
        messageLength = other.messageLength;
        fragmentLength = other.fragmentLength;
        flags = other.flags;
        return this;
    }

    @Override
    public String toString() {
        return "FrameHeader[type=" + type + " src=" + sourceTag + " dst=" + destinationTag + " msg=" + messageId
                + " off=" + fragmentOffset + " len=" + fragmentLength + "/" + messageLength + "]";
    }
}
