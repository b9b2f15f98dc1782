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
 * How often a reliable receiver acknowledges while a whole window arrives in one go. On the
 * loopback wire the sender's progress round delivers every fragment it transmits straight into
 * the receiving NIC, as one udp poll takes a {@code recvmmsg} of GRO runs: a window of 32 messages
 * of 64 KiB (1,504 fragments at a 1400-byte MTU) in one call. The receiver used to send its
 * acknowledgement only when that was over, one per window: the sender's window stood full until
 * the receiver had read all of it (between two namespaces: 45 ACKs for 24,000 fragments, and
 * 0.03x of iperf3). Now its acknowledgement debt is bounded: the sender hears at least every 16
 * fragments (asserted with slack: every 32), and the stream is still exactly-once and byte-exact.
 */
@Timeout(60)
class ReliableAckPacingTest {
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
    void receiverAcknowledgesAtLeastEveryThirtyTwoFragmentsWhileAWholeWindowArrivesInOneRound() {
        Ends ends = streamWithFullWindow();
        long fragments = (long) MESSAGES * FRAGMENTS_PER_MESSAGE;
        assertThat(ends.receiver.acksSent()).as("acknowledgements the receiver sent for %d fragments (one per window"
                + " would be %d)", fragments, MESSAGES / WINDOW).isGreaterThanOrEqualTo(fragments / 32);
        assertThat(ends.sender.acksReceived()).as("acknowledgements the sender heard").isGreaterThanOrEqualTo(fragments / 32);
        assertThat(ends.sender.retransmissions()).as("nothing resent on a lossless wire").isZero();
    }

    @Test
    void statsSayWhenTheReceiverHeldDataBackToAcknowledgeFirst() {
        Ends ends = streamWithFullWindow();
        assertThat(ends.receiver.heldForAck()).as("data frames the receiver left to the wire until its ack went out")
                .isPositive();
        assertThat(ends.sender.heldForAck()).as("the sender received no data").isZero();
        assertThat(ends.receiver.ackWait()).as("the receiver sent nothing, so never waited on acknowledgements").isZero();
    }
}
