package org.unetmm.nic.udp;

import static org.unetmm.nic.udp.SocketStructs.CMSG_DATA;
import static org.unetmm.nic.udp.SocketStructs.CMSG_LEN;
import static org.unetmm.nic.udp.SocketStructs.CMSG_LEVEL;
import static org.unetmm.nic.udp.SocketStructs.CMSG_TYPE;
import static org.unetmm.nic.udp.SocketStructs.MSG_CONTROLLEN;
import static org.unetmm.nic.udp.SocketStructs.MSG_CTRUNC;
import static org.unetmm.nic.udp.SocketStructs.MSG_FLAGS;

import java.nio.ByteBuffer;

/**
 * A UDP GRO run as the receive side gets it: what its {@code UDP_GRO} cmsg says and whether that can
 * be right.
 *
 * <p>With {@code UDP_GRO} on the socket the kernel may queue a run of datagrams from one
 * sender, equal in size but the last, as one (a GSO send kept whole, or datagrams coalesced by the
 * device's GRO), and says the segment size in a {@code UDP_GRO} cmsg. The run is cut back into its
 * datagrams at every multiple of that size, and each segment is checked exactly as a datagram of its
 * own (a coalesced one included): a frame can never claim bytes of the next segment, and a bad frame
 * drops only the rest of its segment. A segment size of 0, below a wire header, or above the run's
 * length, or control data the kernel had to truncate, drops the whole run
 * ({@link WireDropReason#BAD_SEGMENT_SIZE}). Counts: {@code datagramsReceived} counts segments, so it
 * means the same with GRO on or off.
 *
 */
final class GroRun {
    /** The segment size of a datagram that came without a UDP_GRO cmsg: a plain datagram. */
    static final int NONE = -1;

    private GroRun() {
    }

    /**
     * The segment size a receive into the msghdr at {@code msghdr} (control buffer at {@code control})
     * reported: {@link #NONE} without a UDP_GRO cmsg, 0 (a bad size, dropped) when the kernel had to
     * truncate the control data.
     */
    static int segmentSize(ByteBuffer memory, int msghdr, int control) {
        if ((memory.getInt(msghdr + MSG_FLAGS) & MSG_CTRUNC) != 0) {
            return 0;
        }
        long length = memory.getLong(msghdr + MSG_CONTROLLEN);
        if (length < CMSG_DATA + 4 || memory.getLong(control + CMSG_LEN) < CMSG_DATA + 4
                || memory.getInt(control + CMSG_LEVEL) != SocketStructs.SOL_UDP
                || memory.getInt(control + CMSG_TYPE) != SocketStructs.UDP_GRO) {
            return NONE; // no control data, or not the one the socket asks for
        }
        return memory.getInt(control + CMSG_DATA);
    }

    /**
     * Why a run of {@code length} bytes with segments of {@code segmentSize} cannot be cut (null: it
     * can). Each segment must at least hold a wire header, and the run at least one segment.
     */
    static WireDropReason check(int segmentSize, int length) {
        if (segmentSize < WireFrame.HEADER_LENGTH || segmentSize > length) {
            return WireDropReason.BAD_SEGMENT_SIZE;
        }
        return null;
    }
}
