package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;

/**
 * How the udp wire's receive side takes datagrams off a real socket: a backlog goes many
 * datagrams to a {@code recvmmsg} call, though each call first asks only for what the last one
 * found (a lone datagram is taken by a call that stops at it), and every datagram arrives once,
 * in order, byte-exact.
 */
@Timeout(60)
class ReceiveVectorTest {
    private Nic a;
    private Nic b;

    @AfterEach
    void close() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private static Nic open() {
        return Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER).build());
    }

    @Test
    void aBacklogOfLoneDatagramsIsTakenManyPerReceiveCallAndArrivesOnceInOrder() {
        a = open();
        b = open();
        Endpoint x = a.openEndpoint();
        Endpoint y = b.openEndpoint();
        Channel out = x.openChannel();
        Channel in = y.openChannel();
        out.connect(in.address());
        in.connect(out.address());
        int messages = 256;
        for (int i = 0; i < messages; i++) {
            assertThat(y.postReceive(ByteBuffer.allocateDirect(64), i).isPosted()).isTrue();
        }
        ByteBuffer source = ByteBuffer.allocateDirect(64);
        UdpTransport sender = UdpTransport.of(a);
        for (int i = 0; i < messages; i++) {
            source.putInt(0, i);
            assertThat(x.send(out, source, 0, 64, SendPath.FIXED_SEGMENT, i).isAccepted()).isTrue();
            long before = sender.stats().datagramsSent();
            a.progress(); // a lone message leaves in its own round, as a datagram of its own
            assertThat(sender.stats().datagramsSent() - before).as("message " + i + " left in its round").isEqualTo(1);
            for (Completion c; (c = x.poll()) != null; ) {
                assertThat(c.status()).isEqualTo(CompletionStatus.OK);
            }
        }
        UdpTransport receiver = UdpTransport.of(b);
        long callsBefore = receiver.stats().receiveCalls();
        List<Integer> arrived = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (arrived.size() < messages) {
            assertThat(System.nanoTime() - deadline).as("all %d datagrams arrive; %d did", messages, arrived.size())
                    .isNegative();
            b.progress();
            for (Completion c; (c = y.poll()) != null; ) {
                assertThat(c.status()).isEqualTo(CompletionStatus.OK);
                assertThat(c.length()).isEqualTo(64);
                arrived.add(c.buffer().getInt(c.offset()));
            }
        }
        long calls = receiver.stats().receiveCalls() - callsBefore;
        assertThat(arrived).as("each datagram once, in order").containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, messages).boxed().toList());
        // asks of 1, 2, 4, 8, 16 and then the whole vector (32) while the backlog lasts
        assertThat(calls).as("recvmmsg calls for a backlog of %d datagrams", messages).isLessThanOrEqualTo(16);
        assertThat(receiver.stats().datagramsReceived()).isEqualTo(messages);
    }
}
