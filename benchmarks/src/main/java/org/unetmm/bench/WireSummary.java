package org.unetmm.bench;

import org.unetmm.Nic;
import org.unetmm.nic.udp.UdpStats;
import org.unetmm.nic.udp.UdpTransport;

/**
 * What a command's udp wire did, for its summary: datagrams and frames each way and the system
 * calls that moved them, so a reader sees how many messages shared a datagram and a call.
 */
final class WireSummary {
    private WireSummary() {
    }

    /** One line on {@code nic}'s udp wire since it opened, or null when its wire is not udp. */
    static String line(String command, Nic nic) {
        if (!nic.transportAddress().startsWith("udp:")) {
            return null;
        }
        UdpStats w = UdpTransport.of(nic).stats();
        return String.format("%s: wire  sent %,d frames in %,d datagrams by %,d sendmmsg calls; received %,d frames in"
                        + " %,d datagrams by %,d receive calls (empty ones too); %s", command, w.framesSent(),
                w.datagramsSent(), w.sendCalls(), w.framesReceived(), w.datagramsReceived(), w.receiveCalls(),
                UdpTransport.of(nic).features());
    }
}
