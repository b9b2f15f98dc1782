package org.unetmm.nic.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.unetmm.Channel;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;

/**
 * More posted buffers than the completion queue holds. A message that arrives while the queue is
 * full is dropped and counted, as a NIC drops what it could not report, and its buffer stays posted
 * for the next one; close, which must return every buffer, keeps what does not fit aside, in order,
 * and the endpoint's stats say how many, so a user sees the queue is too small for what is posted.
 */
class CompletionQueueOverflowTest {
    private static final int QUEUE = 4;
    private static final int POSTED = 16;

    @Test
    void aMessageThatFindsTheCompletionQueueFullIsDroppedAndCountedAndItsBufferStaysPosted() {
        try (Nic nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).build())) {
            Endpoint sender = nic.openEndpoint();
            Endpoint receiver = nic.openEndpoint(EndpointConfig.builder().completionQueue(QUEUE).build());
            Channel[] sr = Pairs.connect(sender, receiver);
            ByteBuffer in = ByteBuffer.allocateDirect(POSTED * 64);
            for (int i = 0; i < POSTED; i++) {
                receiver.postReceive(in, i * 64, 64, i);
            }
            ByteBuffer out = ByteBuffer.allocateDirect(64);
            int sent = 0;
            for (int i = 0; i < 2 * QUEUE; i++) {
                sendAndProgress(nic, sender, sr[0], out, sent++);
            }
            assertThat(receiver.stats().receivesCompleted()).as("what the queue holds").isEqualTo(QUEUE);
            assertThat(nic.stats().drops().get(DropReason.COMPLETION_QUEUE_FULL)).as("the rest, dropped").isEqualTo(QUEUE);

            List<Long> cookies = new ArrayList<>();
            List<Integer> payloads = new ArrayList<>();
            receiver.poll(c -> {
                cookies.add(c.cookie());
                payloads.add(c.buffer().getInt(c.offset()));
            }, 64);
            assertThat(cookies).containsExactly(0L, 1L, 2L, 3L);
            assertThat(payloads).containsExactly(1000, 1001, 1002, 1003);
            sendAndProgress(nic, sender, sr[0], out, sent);
            cookies.clear();
            payloads.clear();
            receiver.poll(c -> {
                cookies.add(c.cookie());
                payloads.add(c.buffer().getInt(c.offset()));
            }, 64);
            assertThat(cookies).as("the next buffer posted, untouched by the drops").containsExactly(4L);
            assertThat(payloads).containsExactly(1000 + sent);
            assertThat(receiver.stats().completionsOverflowed()).as("nothing was kept aside").isZero();
        }
    }

    @Test
    void closingWithMoreBuffersPostedThanTheQueueHoldsReturnsEachInOrderAndCountsTheOverflow() {
        try (Nic nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).build())) {
            Endpoint receiver = nic.openEndpoint(EndpointConfig.builder().completionQueue(QUEUE).build());
            ByteBuffer in = ByteBuffer.allocateDirect(POSTED * 64);
            for (int i = 0; i < POSTED; i++) {
                receiver.postReceive(in, i * 64, 64, i);
            }
            receiver.close();
            for (int round = 0; round < 100 && !receiver.isClosed(); round++) {
                nic.progress();
            }
            assertThat(receiver.isClosed()).isTrue();
            assertThat(receiver.stats().completionsOverflowed()).as("beyond the queue's " + QUEUE).isEqualTo(POSTED - QUEUE);
            List<Long> cookies = new ArrayList<>();
            List<CompletionStatus> statuses = new ArrayList<>();
            while (receiver.poll(c -> {
                cookies.add(c.cookie());
                statuses.add(c.status());
            }, 3) > 0) {
                // three at a time: the queue's, then those kept aside
            }
            List<Long> expected = new ArrayList<>();
            for (long i = 0; i < POSTED; i++) {
                expected.add(i);
            }
            assertThat(cookies).as("every buffer back once, in posting order").isEqualTo(expected);
            assertThat(statuses).containsOnly(CompletionStatus.CLOSED);
            assertThat(receiver.poll()).isNull();
        }
    }

    private static void sendAndProgress(Nic nic, Endpoint sender, Channel to, ByteBuffer out, int i) {
        out.putInt(0, 1000 + i);
        assertThat(sender.send(to, out, 0, 64, SendPath.FIXED_SEGMENT, i)).isEqualTo(SendStatus.ACCEPTED);
        long before = arrived(nic);
        for (int round = 0; round < 100 && arrived(nic) == before; round++) {
            nic.progress();
        }
        sender.poll(c -> { }, 64);
    }

    /** Messages the NIC took in or dropped. */
    private static long arrived(Nic nic) {
        return nic.stats().messagesReceived() + nic.stats().dropped();
    }
}
