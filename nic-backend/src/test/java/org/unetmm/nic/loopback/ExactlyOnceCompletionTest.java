package org.unetmm.nic.loopback;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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
 * DESIGN §4 invariant 3 under a seeded random mix: sends on both paths (single and scatter-gather,
 * 0 bytes to several MTUs), receive posts, progress and channel closes. Every accepted send and
 * every posted receive completes exactly once, and every delivered message is byte-exact. Run on
 * the loopback wire as it is (it finishes every fragment inside transmit) and behind a fault wire
 * that holds every fragment for two progress rounds, retained without a copy (the SPI's deferred
 * completion, DESIGN invariant 6): sends then complete only after the wire released them.
 */
@Timeout(120)
class ExactlyOnceCompletionTest {
    private static final int MTU = 4096;
    private static final int MAX_MESSAGE = 5 * MTU + 123;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"loopback:", "faulty:loopback:#delay=2,seed=7"})
    void everyOperationCompletesExactlyOnceAndPayloadsArriveIntact(String transport) {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String why = "seed " + seed + " (rerun with -Dunetmm.test.seed=" + seed + ") on " + transport;
        Random random = new Random(seed);
        int steps = Integer.getInteger("unetmm.test.steps", 10_000);
        long baseline = ProcessStatus.vmLckBytes();

        Map<Long, ByteBuffer> sendsInFlight = new HashMap<>();
        Set<Long> sendCompletions = new HashSet<>();
        Set<Long> receiveCompletions = new HashSet<>();
        Set<Long> delivered = new HashSet<>();
        Set<Long> receivesPosted = new HashSet<>();
        long[] counters = new long[2]; // [accepted sends, posted receives]
        long nextCookie = 1;

        try (Nic nic = Nic.open(NicConfig.builder().transport(transport).progressMode(ProgressMode.CALLER)
                .mtu(MTU).build())) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(256 << 10).sendQueue(32).freeQueue(32).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).freeQueue(32).build());
            Channel[] pair = connect(a, b);
            for (int step = 0; step < steps; step++) {
                int op = random.nextInt(100);
                if (op < 40) {
                    long cookie = nextCookie++;
                    SendPath path = random.nextBoolean() ? SendPath.PINNED : SendPath.FIXED_SEGMENT;
                    int size = random.nextInt(10) == 0 ? 0 : random.nextInt(MAX_MESSAGE);
                    ByteBuffer message = message(cookie, size, path == SendPath.PINNED || random.nextBoolean());
                    SendStatus status;
                    int pieces = size < 4 ? 1 : 1 + random.nextInt(4);
                    if (pieces == 1) {
                        status = a.send(pair[0], message, 0, size, path, cookie);
                    } else {
                        ByteBuffer[] buffers = new ByteBuffer[pieces];
                        int[] offsets = new int[pieces];
                        int[] lengths = new int[pieces];
                        int cut = 0;
                        for (int i = 0; i < pieces; i++) {
                            int end = i == pieces - 1 ? size : cut + random.nextInt(size - cut + 1);
                            buffers[i] = message;
                            offsets[i] = cut;
                            lengths[i] = end - cut;
                            cut = end;
                        }
                        status = a.sendGather(pair[0], buffers, offsets, lengths, pieces, path, cookie);
                    }
                    if (status == SendStatus.ACCEPTED) {
                        counters[0]++;
                        sendsInFlight.put(cookie, message);
                    }
                } else if (op < 75) {
                    long cookie = nextCookie++;
                    int capacity = random.nextInt(8) == 0 ? 1 + random.nextInt(MTU) : MAX_MESSAGE;
                    if (b.postReceive(ByteBuffer.allocateDirect(capacity), cookie).isPosted()) {
                        counters[1]++;
                        receivesPosted.add(cookie);
                    }
                } else if (op < 97) {
                    nic.progress();
                } else if (op < 98) {
                    pair[0].close(); // mid-stream: queued sends on it complete CLOSED, an arriving message too
                    pair[1].close();
                    pair = connect(a, b);
                }
                drain(a, b, sendsInFlight, sendCompletions, receiveCompletions, delivered, why);
            }
            for (int i = 0; i < 50; i++) {
                nic.progress();
            }
            drain(a, b, sendsInFlight, sendCompletions, receiveCompletions, delivered, why);
            a.close();
            b.close();
            drain(a, b, sendsInFlight, sendCompletions, receiveCompletions, delivered, why);
            assertThat(sendCompletions).as("one completion per accepted send, " + why).hasSize((int) counters[0]);
            assertThat(sendsInFlight).as("sends without completion, " + why).isEmpty();
            assertThat(receiveCompletions).as("one completion per posted receive, " + why).isEqualTo(receivesPosted);
            assertThat(delivered).as("messages delivered, " + why).isNotEmpty();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline, " + why).isEqualTo(baseline);
    }

    private static Channel[] connect(Endpoint a, Endpoint b) {
        Channel ab = a.openChannel();
        Channel ba = b.openChannel();
        ab.connect(ba.address());
        ba.connect(ab.address());
        return new Channel[] {ab, ba};
    }

    private static void drain(Endpoint a, Endpoint b, Map<Long, ByteBuffer> inFlight, Set<Long> sendCompletions,
                              Set<Long> receiveCompletions, Set<Long> delivered, String why) {
        Completion c;
        while ((c = a.poll()) != null) {
            assertThat(c.kind()).as(why).isEqualTo(Completion.Kind.SEND);
            assertThat(sendCompletions.add(c.cookie())).as("second completion of send " + c.cookie() + ", " + why).isTrue();
            assertThat(inFlight.remove(c.cookie())).as("completion of a send never accepted, " + why).isNotNull();
            assertThat(c.status()).as(why).isIn(CompletionStatus.OK, CompletionStatus.CLOSED);
        }
        while ((c = b.poll()) != null) {
            assertThat(c.kind()).as(why).isEqualTo(Completion.Kind.RECEIVE);
            assertThat(receiveCompletions.add(c.cookie())).as("second completion of receive " + c.cookie() + ", " + why).isTrue();
            if (c.status() == CompletionStatus.OK && c.length() >= 8) {
                long id = c.buffer().getLong(c.offset());
                assertThat(delivered.add(id)).as("message " + id + " delivered twice, " + why).isTrue();
                ByteBuffer expected = message(id, c.length(), true);
                for (int i = 8; i < c.length(); i++) {
                    if (c.buffer().get(c.offset() + i) != expected.get(i)) {
                        throw new AssertionError("message " + id + " byte " + i + " differs, " + why);
                    }
                }
            } else {
                assertThat(c.status()).as(why).isIn(CompletionStatus.OK, CompletionStatus.TRUNCATED, CompletionStatus.CLOSED);
            }
        }
    }

    /** A message whose first 8 bytes carry its id and the rest a pattern of it. */
    private static ByteBuffer message(long id, int size, boolean direct) {
        ByteBuffer buffer = direct ? ByteBuffer.allocateDirect(Math.max(size, 1)) : ByteBuffer.allocate(Math.max(size, 1));
        for (int i = 0; i < size; i++) {
            buffer.put(i, (byte) (id * 31 + i * 7));
        }
        if (size >= 8) {
            buffer.putLong(0, id);
        }
        return buffer;
    }
}
