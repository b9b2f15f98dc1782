package org.unetmm;

import java.util.Map;

/**
 * A NIC's counters as a JMX MXBean, registered as {@code org.unetmm:type=Nic,name=<thread name>}
 * while the NIC is open, so jconsole, VisualVM, JFR and {@code unetmm stat --pid} see a running
 * process's NICs. Every attribute is a fresh snapshot ({@link Nic#stats()}); reading them costs the
 * NIC nothing on its data path.
 */
public interface NicMXBean {
    String getTransportAddress();

    long getMessagesSent();

    long getBytesSent();

    long getFragmentsSent();

    long getMessagesReceived();

    long getBytesReceived();

    long getBackPressured();

    /** Frames dropped, all reasons together. */
    long getDropped();

    /** Frames dropped, by {@link DropReason} name. */
    Map<String, Long> getDrops();

    long getTlbHits();

    long getTlbMisses();

    long getTlbEvictions();

    long getPinnedBytes();

    long getPinHits();

    long getPinMisses();

    long getPinEvictions();

    /** Completion handlers that threw and engine faults. */
    long getHandlerErrors();

    /** Reliable channels open now. */
    int getReliableChannels();

    /** Retransmissions, summed over the reliable channels open now. */
    long getRetransmissions();

    /** Retransmission timeouts, summed over the reliable channels open now. */
    long getTimeouts();

    /** Messages in the reliable channels' send windows now. */
    long getInFlight();
}
