package org.unetmm.nic.udp;

import java.util.EnumMap;
import java.util.Map;

/**
 * A snapshot of a {@link UdpTransport}'s counters. Every datagram received is accounted exactly
 * once: {@code datagramsReceived == framesPlaced + framesCopied + framesDeclined + dropped()}.
 *
 * @param address            the bound transport address
 * @param mtu                the default fragment payload of this wire (before {@code NicConfig.mtu})
 * @param receiveBufferBytes SO_RCVBUF as the kernel reports it (twice what was granted)
 * @param sendBufferBytes    SO_SNDBUF as the kernel reports it
 * @param datagramsSent      frames handed to the kernel
 * @param bytesSent          their bytes, headers included
 * @param sendBackPressured  sendmsg returned EAGAIN/ENOBUFS: the NIC retries the fragment later
 * @param sendsLost          sendmsg failed for good (unreachable, refused, too long, firewall): the frame is
 *                           lost, as on any unreliable wire
 * @param gatherCopies       fragments whose pieces did not fit one sendmsg (more than 1023) and were copied
 *                           into the staging buffer first
 * @param datagramsReceived  datagrams taken off the socket
 * @param bytesReceived      their bytes
 * @param framesPlaced       frames whose payload was received straight into the NIC's placement
 * @param framesCopied       frames received whole into scratch (at most the copy break) and offered to the NIC,
 *                           which copied them into the posted buffer or dropped them (counting why)
 * @param framesDeclined     placed-path frames the NIC did not want (it counts why: {@code NicStats.drops})
 * @param drops              datagrams dropped by the wire, per reason
 */
public record UdpStats(String address, int mtu, int receiveBufferBytes, int sendBufferBytes, long datagramsSent,
                       long bytesSent, long sendBackPressured, long sendsLost, long gatherCopies,
                       long datagramsReceived, long bytesReceived, long framesPlaced, long framesCopied, long framesDeclined,
                       Map<WireDropReason, Long> drops) {

    /** Datagrams the wire dropped, all reasons. */
    public long dropped() {
        return drops.values().stream().mapToLong(Long::longValue).sum();
    }

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
