package org.unetmm.bench.examples;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.SendPath;

/**
 * The README's "Using it" example, as a program: the body of {@link #main} is the README's code,
 * line for line ({@code ReadmeUsingItTest} holds them equal, {@code ReadmeExamplesIT} runs it as an
 * ordinary user). Change both together.
 */
public final class UsingIt {
    private UsingIt() {
    }

    public static void main(String[] args) throws Exception {
        try (Nic nic = Nic.open();                                   // loopback:, a NIC thread, default TLB
             Endpoint a = nic.openEndpoint();
             Endpoint b = nic.openEndpoint()) {
            Channel ab = a.openChannel(), ba = b.openChannel();
            ab.connect(ba.address());
            ba.connect(ab.address());
            ByteBuffer in = ByteBuffer.allocateDirect(4096);
            b.postReceive(in, /* cookie */ 1);                       // the buffer is the NIC's until its completion
            ByteBuffer out = ByteBuffer.allocateDirect(4096);
            a.send(ab, out, 0, 4096, SendPath.PINNED, /* cookie */ 2); // zero-copy: `out` is the NIC's until...
            Completion sent = a.await(Duration.ofSeconds(1));         // ...this completion
            Completion received = b.await(Duration.ofSeconds(1));     // `in` holds received.length() bytes
            System.out.println(sent.status() + " " + received.status() + " " + received.length()); // OK OK 4096
        }
    }
}
