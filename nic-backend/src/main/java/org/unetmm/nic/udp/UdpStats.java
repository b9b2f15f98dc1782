package org.unetmm.nic.udp;

import java.util.EnumMap;
import java.util.Map;

/**
 * A snapshot of a {@link UdpTransport}'s counters. Every frame received is accounted exactly once:
 * {@code framesReceived == framesPlaced + framesCopied + framesDeclined}, where a frame counts as
 * received when its header passed every check; a datagram, or the rest of a coalesced one, that
 * failed a check counts once in {@code dropped()}. Without coalescing (one frame a datagram)
 * {@code datagramsReceived == framesReceived + dropped()}.
 *
 * @param address            the bound transport address
 * @param mtu                the default fragment payload of this wire (before {@code NicConfig.mtu})
 * @param receiveBufferBytes SO_RCVBUF as the kernel reports it (twice what was granted)
 * @param sendBufferBytes    SO_SNDBUF as the kernel reports it
 * @param datagramsSent      datagrams handed to the kernel (a GSO super-datagram counts as the datagrams the kernel
 *                           cuts it into)
 * @param framesSent         frames in them (more than datagrams when small messages were coalesced)
 * @param bytesSent          their bytes, headers included
 * @param sendCalls          sendmmsg calls (each sends many datagrams)
 * @param sendBackPressured  sendmmsg returned EAGAIN/ENOBUFS: the rest of the batch goes next round
 * @param sendsLost          datagrams the kernel refused for good (unreachable, refused, too long, firewall), or
 *                           frames given to a closed wire: lost, as on any unreliable wire
 * @param gatherCopies       fragments whose pieces did not fit one datagram (more than 1023) and were copied
 *                           into the batch's staging area first
 * @param datagramsReceived  datagrams taken off the socket
 * @param framesReceived     frames in them whose headers passed every check
 * @param bytesReceived      their bytes
 * @param receiveCalls       recvmmsg and peeking recvmsg calls
 * @param framesPlaced       frames whose payload was received straight into the NIC's placement
 * @param framesCopied       frames received whole into scratch (at most the copy break) and offered to the NIC,
 *                           which copied them into the posted buffer or dropped them (counting why)
 * @param framesDeclined     placed-path frames the NIC did not want (it counts why: {@code NicStats.drops})
 * @param drops              datagrams dropped by the wire, per reason
 * @param gsoSends           UDP GSO super-datagrams handed to the kernel (0 with {@code gso=false}); each
 *                           counts as its segments in {@code datagramsSent}
 * @param gsoSegments        the datagrams the kernel cut them into
 * @param groRuns            UDP GRO runs received whole (0 with {@code gro=false})
 * @param groSegments        the datagrams in them; each counts in {@code datagramsReceived}
 * @param zeroCopySends      sends (sendmmsg messages) flagged MSG_ZEROCOPY that the kernel took, each with a counter
 *                           of its own (0 without {@code zerocopy=})
 * @param zeroCopyNotices    error-queue notices read, each covering a range of those counters
 * @param zeroCopyNotified   the sends they covered, all ranges summed
 * @param zeroCopyCopied     of those, the sends a notice marked SO_EE_CODE_ZEROCOPY_COPIED: the kernel copied after
 *                           all (every one on loopback and veth)
 * @param zeroCopyFallbacks  fragments at or over the threshold sent without MSG_ZEROCOPY: they touch more pages than
 *                           one skb holds (MAX_SKB_FRAGS, 17), or the notifications ring was full (the kernel was
 *                           slow to notify)
 */
public record UdpStats(String address, int mtu, int receiveBufferBytes, int sendBufferBytes, long datagramsSent,
                       long framesSent, long bytesSent, long sendCalls, long sendBackPressured, long sendsLost,
                       long gatherCopies, long datagramsReceived, long framesReceived, long bytesReceived,
                       long receiveCalls, long framesPlaced, long framesCopied, long framesDeclined,
                       Map<WireDropReason, Long> drops, long gsoSends, long gsoSegments, long groRuns,
                       long groSegments, long zeroCopySends, long zeroCopyNotices, long zeroCopyNotified,
                       long zeroCopyCopied, long zeroCopyFallbacks) {

    /**
     * Datagrams the wire dropped, all reasons.
     *
     * @return the sum of {@link #drops()} over every reason
     */
    public long dropped() {
        return drops.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Datagrams the wire dropped for one reason.
     *
     * @param reason the reason to look up, not null
     * @return its count from {@link #drops()}, 0 if none were counted
     */
    public long drops(WireDropReason reason) {
        return drops.getOrDefault(reason, 0L);
    }

    static Map<WireDropReason, Long> dropMap(long[] counts) {
        Map<WireDropReason, Long> map = new EnumMap<>(WireDropReason.class);
        for (WireDropReason reason : WireDropReason.values()) {
            map.put(reason, counts[reason.ordinal()]);
        }
        return map;
    }
}
