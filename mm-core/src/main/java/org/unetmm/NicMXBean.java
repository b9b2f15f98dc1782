package org.unetmm;

import java.util.Map;

/**
 * A NIC's counters as a JMX MXBean, registered as {@code org.unetmm:type=Nic,name=<thread name>}
 * while the NIC is open, so jconsole, VisualVM, JFR and {@code unetmm stat --pid} see a running
 * process's NICs. Every attribute is a fresh snapshot ({@link Nic#stats()}); reading them costs the
 * NIC nothing on its data path.
 */
public interface NicMXBean {
    /** {@return the NIC's address on its wire} */
    String getTransportAddress();

    /** {@return messages sent} */
    long getMessagesSent();

    /** {@return payload bytes sent} */
    long getBytesSent();

    /** {@return fragments handed to the wire} */
    long getFragmentsSent();

    /** {@return messages received whole} */
    long getMessagesReceived();

    /** {@return payload bytes received} */
    long getBytesReceived();

    /** {@return fragments the wire refused for now (back-pressure), each retried later} */
    long getBackPressured();

    /** {@return frames dropped, all reasons together} */
    long getDropped();

    /** {@return frames dropped, by {@link DropReason} name} */
    Map<String, Long> getDrops();

    /** {@return TLB lookups that hit} */
    long getTlbHits();

    /** {@return TLB lookups that missed} */
    long getTlbMisses();

    /** {@return TLB entries displaced to make room} */
    long getTlbEvictions();

    /** {@return bytes the NIC's pin cache keeps locked now} */
    long getPinnedBytes();

    /** {@return pin acquires served without a system call} */
    long getPinHits();

    /** {@return pin acquires that locked pages} */
    long getPinMisses();

    /** {@return idle pinned regions unpinned to make room or by the idle caps} */
    long getPinEvictions();

    /** {@return completion handlers that threw, and engine faults} */
    long getHandlerErrors();

    /** {@return reliable channels open now} */
    int getReliableChannels();

    /** {@return retransmissions, summed over the reliable channels open now} */
    long getRetransmissions();

    /** {@return retransmission timeouts, summed over the reliable channels open now} */
    long getTimeouts();

    /** {@return messages in the reliable channels' send windows now} */
    long getInFlight();
}
