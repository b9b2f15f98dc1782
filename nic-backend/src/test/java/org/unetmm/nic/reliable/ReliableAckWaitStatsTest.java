package org.unetmm.nic.reliable;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.ReliableStats;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;

/**
 * What a reliable sender's stats say of a stream that keeps its window full: how long it could do
 * nothing but wait for acknowledgements ({@link ReliableStats#ackWait()}). On the loopback wire
 * the sender's round delivers every fragment it transmits straight into the receiving NIC, and
 * the receiver acknowledges when its own round runs: between the two the sender's window stands
 * full, all of it sent. The stream is exactly-once and byte-exact meanwhile.
 */
@Timeout(60)
class ReliableAckWaitStatsTest {
    private static final int MTU = 1400;
    private static final int MESSAGE = 64 * 1024;
    private static final int FRAGMENTS_PER_MESSAGE = (MESSAGE + MTU - 1) / MTU;
    private static final int MESSAGES = 96;
    private static final int WINDOW = 32;

    private final CallerNics nics = new CallerNics();

    @AfterEach
    void closeAll() {
        nics.closeAllAndCheckVmLck();
    }

    private static byte expected(long message, int i) {
        return (byte) (message * 131 + i * 7 + (i >>> 10));
    }

    /** The two ends' counters once every message of the stream is delivered and acknowledged. */
    private record Ends(ReliableStats sender, ReliableStats receiver) {
    }

    /** Streams {@link #MESSAGES} messages with the window kept full, sender's round then receiver's; checks every byte. */
    private Ends streamWithFullWindow() {
        Nic sending = nics.open("loopback:", MTU);
        Nic receiving = nics.open("loopback:", MTU);
        Endpoint a = sending.openEndpoint(EndpointConfig.builder().segmentBytes(0).sendQueue(2 * WINDOW)
                .completionQueue(4 * WINDOW).build());
        Endpoint b = receiving.openEndpoint(EndpointConfig.builder().segmentBytes(0).freeQueue(2 * WINDOW)
                .completionQueue(4 * WINDOW).build());
        ChannelConfig options = ChannelConfig.builder().reliable(true).window(WINDOW).build();
        Channel ab = a.openChannel(options);
        Channel ba = b.openChannel(options);
        ab.connect(ba.address());
        ba.connect(ab.address());
        ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
        for (int i = 0; i < WINDOW + 4; i++) {
            free.add(ByteBuffer.allocateDirect(MESSAGE));
        }
        ArrayDeque<ByteBuffer> posting = new ArrayDeque<>();
        for (int i = 0; i < WINDOW + 8; i++) {
            posting.add(ByteBuffer.allocateDirect(MESSAGE));
        }
        long sent = 0;
        long acknowledged = 0;
        long received = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
        while ((received < MESSAGES || acknowledged < MESSAGES) && System.nanoTime() - deadline < 0) {
            while (!posting.isEmpty() && b.postReceive(posting.peek(), 0).isPosted()) {
                posting.poll();
            }
            while (sent < MESSAGES && !free.isEmpty()) {
                ByteBuffer buffer = free.peek();
                for (int i = 0; i < MESSAGE; i++) {
                    buffer.put(i, expected(sent, i));
                }
                if (a.send(ab, buffer, 0, MESSAGE, SendPath.PINNED, sent) != SendStatus.ACCEPTED) {
                    break;
                }
                free.poll();
                sent++;
            }
            sending.progress();
            receiving.progress();
            Completion c;
            while ((c = a.poll()) != null) {
                assertThat(c.status()).as("send %d", c.cookie()).isEqualTo(CompletionStatus.OK);
                assertThat(c.cookie()).as("sends complete in order").isEqualTo(acknowledged);
                acknowledged++;
                free.add(c.buffer());
            }
            while ((c = b.poll()) != null) {
                assertThat(c.status()).as("receive of message %d", received).isEqualTo(CompletionStatus.OK);
                assertThat(c.length()).isEqualTo(MESSAGE);
                ByteBuffer got = c.buffer();
                for (int i = 0; i < MESSAGE; i++) {
                    if (got.get(c.offset() + i) != expected(received, i)) {
                        throw new AssertionError("message " + received + " differs at byte " + i);
                    }
                }
                received++;
                posting.add(got);
            }
        }
        assertThat(received).as("messages delivered exactly once, in order").isEqualTo(MESSAGES);
        assertThat(acknowledged).as("sends acknowledged").isEqualTo(MESSAGES);
        Ends ends = new Ends(ab.reliableStats(), ba.reliableStats());
        System.out.printf("%d x %d B, window %d, loopback:%n  sender   %s%n  receiver %s%n", MESSAGES, MESSAGE, WINDOW,
                ends.sender, ends.receiver);
        return ends;
    }

    @Test
    void statsSayHowLongTheSenderCouldOnlyWaitForAcknowledgements() {
        long before = System.nanoTime();
        Ends ends = streamWithFullWindow();
        long elapsed = System.nanoTime() - before;
        assertThat(ends.sender.ackWait()).as("the sender's window stood full, all sent, between its rounds").isPositive();
        assertThat(ends.sender.ackWait().toNanos()).as("within the stream's own time").isLessThanOrEqualTo(elapsed);
        assertThat(ends.receiver.ackWait()).as("the receiver sent nothing, so never waited on acknowledgements").isZero();
        assertThat(ends.sender.retransmissions()).as("nothing resent on a lossless wire").isZero();
    }
}
