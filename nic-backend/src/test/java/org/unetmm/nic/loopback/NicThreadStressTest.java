package org.unetmm.nic.loopback;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.ProcessStatus;

/**
 * The queues across real threads: the application thread sends, posts and polls while the NIC's
 * own thread drives the engine, with several messages in flight and the queues filling up. Every
 * message arrives once, intact, in order; every send completes once; nothing stays pinned.
 */
@Timeout(120)
class NicThreadStressTest {
    private static final int MESSAGES = 20_000;
    private static final int RING = 16;

    @Test
    void applicationAndNicThreadsExchangeManyMessagesExactlyOnce() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        String why = "seed " + seed;
        long baseline = ProcessStatus.vmLckBytes();
        try (Nic nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.NIC_THREAD).mtu(4096).build())) {
            EndpointConfig small = EndpointConfig.builder().sendQueue(RING).freeQueue(RING).completionQueue(RING)
                    .segmentBytes(256 << 10).build();
            Endpoint a = nic.openEndpoint(small);
            Endpoint b = nic.openEndpoint(small);
            Channel ab = a.openChannel();
            Channel ba = b.openChannel();
            ab.connect(ba.address());
            ba.connect(ab.address());

            ByteBuffer[] sources = new ByteBuffer[RING];
            ArrayDeque<ByteBuffer> freeSources = new ArrayDeque<>();
            for (int i = 0; i < RING; i++) {
                sources[i] = ByteBuffer.allocateDirect(3 * 4096 + 100);
                freeSources.add(sources[i]);
            }
            ArrayDeque<ByteBuffer> freeTargets = new ArrayDeque<>();
            for (int i = 0; i < RING; i++) {
                freeTargets.add(ByteBuffer.allocateDirect(3 * 4096 + 100));
            }
            ByteBuffer[] inFlight = new ByteBuffer[MESSAGES];
            BitSet sendDone = new BitSet(MESSAGES);
            long nextExpected = 0;
            int sent = 0;
            long deadline = System.nanoTime() + 90_000_000_000L;
            while (nextExpected < MESSAGES) {
                assertThat(System.nanoTime()).as("progress within 90 s, " + why).isLessThan(deadline);
                while (!freeTargets.isEmpty()) {
                    ByteBuffer t = freeTargets.peek();
                    if (!b.postReceive(t, 0, t.capacity(), 0).isPosted()) {
                        break;
                    }
                    freeTargets.poll();
                }
                if (sent < MESSAGES && !freeSources.isEmpty() && sent - nextExpected < RING) { // a target is posted for it
                    ByteBuffer s = freeSources.peek();
                    int size = 8 + random.nextInt(s.capacity() - 8);
                    s.putLong(0, sent);
                    for (int i = 8; i < size; i++) {
                        s.put(i, (byte) (sent * 7 + i));
                    }
                    SendPath path = random.nextBoolean() ? SendPath.PINNED : SendPath.FIXED_SEGMENT;
                    SendStatus status = a.send(ab, s, 0, size, path, sent);
                    if (status == SendStatus.ACCEPTED) {
                        freeSources.poll();
                        inFlight[sent] = s;
                        sent++;
                    }
                }
                Completion c;
                while ((c = a.poll()) != null) {
                    int id = (int) c.cookie();
                    assertThat(c.status()).as(why).isEqualTo(CompletionStatus.OK);
                    assertThat(sendDone.get(id)).as("second completion of send " + id + ", " + why).isFalse();
                    sendDone.set(id);
                    freeSources.add(inFlight[id]);
                    inFlight[id] = null;
                }
                while ((c = b.poll()) != null) {
                    assertThat(c.status()).as(why).isEqualTo(CompletionStatus.OK);
                    ByteBuffer t = c.buffer();
                    long id = t.getLong(0);
                    assertThat(id).as("in order, " + why).isEqualTo(nextExpected);
                    for (int i = 8; i < c.length(); i++) {
                        if (t.get(i) != (byte) (id * 7 + i)) {
                            throw new AssertionError("message " + id + " byte " + i + " differs, " + why);
                        }
                    }
                    nextExpected++;
                    freeTargets.add(t);
                }
            }
            long waitUntil = System.nanoTime() + 10_000_000_000L;
            while (sendDone.cardinality() < MESSAGES && System.nanoTime() < waitUntil) {
                Completion c = a.poll();
                if (c != null) {
                    assertThat(sendDone.get((int) c.cookie())).as(why).isFalse();
                    sendDone.set((int) c.cookie());
                } else {
                    Thread.onSpinWait();
                }
            }
            assertThat(sendDone.cardinality()).as("every send completed, " + why).isEqualTo(MESSAGES);
            assertThat(nic.stats().dropped()).as("no drops: every message had a posted buffer, " + why).isZero();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline, " + why).isEqualTo(baseline);
    }
}
