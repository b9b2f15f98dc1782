package org.unetmm.examples;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;

/**
 * Two endpoints on one loopback NIC: one PINNED (zero-copy) message from a to b, its bytes checked.
 * Exits 0 when the message arrived intact, 1 otherwise.
 */
public final class RawEndpoint {
    private RawEndpoint() {
    }

    public static void main(String[] args) throws Exception {
        int size = 4096;
        try (Nic nic = Nic.open(NicConfig.builder().transport("loopback:").build());
             Endpoint a = nic.openEndpoint();
             Endpoint b = nic.openEndpoint()) {
            Channel ab = a.openChannel();
            Channel ba = b.openChannel();
            ab.connect(ba.address());
            ba.connect(ab.address());

            ByteBuffer in = ByteBuffer.allocateDirect(size);
            b.postReceive(in, 1);
            ByteBuffer out = ByteBuffer.allocateDirect(size);
            for (int i = 0; i < size; i++) {
                out.put(i, (byte) (i * 31 + 7));
            }
            SendStatus accepted = a.send(ab, out, 0, size, SendPath.PINNED, 2);
            Completion sent = a.await(Duration.ofSeconds(5));
            Completion received = b.await(Duration.ofSeconds(5));

            String problem = null;
            if (accepted != SendStatus.ACCEPTED) {
                problem = "send not accepted: " + accepted;
            } else if (sent == null || sent.status() != CompletionStatus.OK) {
                problem = "send completion: " + sent;
            } else if (received == null || received.status() != CompletionStatus.OK || received.length() != size) {
                problem = "receive completion: " + received;
            } else if (in.mismatch(out) != -1) {
                problem = "payload differs at byte " + in.mismatch(out);
            }
            if (problem != null) {
                System.err.println("RawEndpoint: " + problem);
                System.exit(1);
            }
            System.out.println("RawEndpoint: " + sent.status() + " " + received.status() + " " + received.length()
                    + " B, payload checked");
        }
    }
}
