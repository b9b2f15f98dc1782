package org.unetmm.nic.reliable;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.NicStats;
import org.unetmm.ProgressMode;
import org.unetmm.ReliableStats;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.nic.fault.FaultConfig;
import org.unetmm.nic.fault.FaultInjectingTransport;
import org.unetmm.nic.fault.FaultStats;
import org.unetmm.pinning.ProcessStatus;

/**
 * Exactly-once, in-order delivery over a lossy wire: {@code unetmm.test.reliableMessages} messages
 * (10^5 by default) over two reliable channels of one loopback NIC whose wire drops 5 %, duplicates
 * 5 %, reorders 5 % and corrupts 1 % of frames (acknowledgements too). Sizes from 0 bytes to six
 * fragments, both send paths. Holds: nothing lost, nothing delivered twice, every byte as sent,
 * messages in order, every send and every posted receive completed exactly once, send buffers
 * reused only after their completion, VmLck back at its baseline. Seeded:
 * {@code -Dunetmm.test.seed=<seed>} replays.
 */
@Timeout(180)
class ReliableFaultInjectionTest {
    private static final int MTU = 4096;
    private static final int MAX_MESSAGE = 6 * MTU - 100;
    private static final int CHANNELS = 2;
    private static final int BUFFERS = 48;

    /** The size of the k-th message of channel c: mostly small, some of several fragments. */
    private static int size(Random random) {
        int kind = random.nextInt(100);
        if (kind < 5) {
            return 0;
        }
        if (kind < 70) {
            return random.nextInt(256);
        }
        if (kind < 95) {
            return 256 + random.nextInt(MTU);
        }
        return MTU + random.nextInt(MAX_MESSAGE - MTU);
    }

    private static byte expected(int channel, long k, int i) {
        return (byte) (k * 31 + i * 7 + channel * 101);
    }

    private static final class Stream {
        final int index;
        final Channel send;
        final Channel receive;
        final Random sizes;
        final Random checkSizes;
        final ArrayDeque<ByteBuffer> freeBuffers = new ArrayDeque<>();
        /** The size of the next message to send, drawn once (-1 = not drawn yet). */
        int nextSize = -1;
        long nextToSend;
        long nextToReceive;
        long acknowledged;

        Stream(int index, Channel send, Channel receive, long seed) {
            this.index = index;
            this.send = send;
            this.receive = receive;
            this.sizes = new Random(seed);
            this.checkSizes = new Random(seed);
            for (int i = 0; i < BUFFERS; i++) {
                freeBuffers.add(ByteBuffer.allocateDirect(MAX_MESSAGE));
            }
        }
    }

    @Test
    void hundredThousandMessagesCrossAFaultyWireLosslessInOrderAndExactlyOnce() {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String why = "seed " + seed + " (rerun with -Dunetmm.test.seed=" + seed + ")";
        int messages = Integer.getInteger("unetmm.test.reliableMessages", 100_000);
        int perChannel = messages / CHANNELS;
        long baseline = ProcessStatus.vmLckBytes();
        FaultConfig faults = new FaultConfig(0.05, 0.05, 0.05, 0.01, Duration.ZERO, seed);
        long start = System.nanoTime();
        ReliableStats[] stats = new ReliableStats[CHANNELS];
        NicStats nicStats;
        FaultStats faultStats;
        try (Nic nic = Nic.open(NicConfig.builder().transport(faults.wrap("loopback:")).mtu(MTU)
                .progressMode(ProgressMode.CALLER).build())) {
            Endpoint sender = nic.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 20).sendQueue(128).build());
            Endpoint receiver = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).freeQueue(128)
                    .completionQueue(4096).build());
            ChannelConfig options = ChannelConfig.reliable();
            Stream[] streams = new Stream[CHANNELS];
            for (int c = 0; c < CHANNELS; c++) {
                Channel s = sender.openChannel(options);
                Channel r = receiver.openChannel(options);
                s.connect(r.address());
                r.connect(s.address());
                streams[c] = new Stream(c, s, r, seed * 31 + c);
            }
            ByteBuffer[] inFlightBuffer = new ByteBuffer[messages + CHANNELS];
            boolean[] sendCompleted = new boolean[messages + CHANNELS];
            long[] posted = {0};
            long[] receivesCompleted = {0};
            ArrayDeque<ByteBuffer> receiveBuffers = new ArrayDeque<>();
            for (int i = 0; i < 128; i++) {
                receiveBuffers.add(ByteBuffer.allocateDirect(MAX_MESSAGE));
            }
            Random paths = new Random(seed ^ 0x5DEECE66DL);

            CompletionHandler onSend = c -> {
                int cookie = (int) c.cookie();
                assertThat(c.status()).as("send %d, %s", cookie, why).isEqualTo(CompletionStatus.OK);
                assertThat(sendCompleted[cookie]).as("second completion of send %d, %s", cookie, why).isFalse();
                sendCompleted[cookie] = true;
                Stream s = streams[cookie % CHANNELS];
                long k = cookie / CHANNELS;
                assertThat(k).as("sends of a channel complete in order, %s", why).isEqualTo(s.acknowledged);
                s.acknowledged++;
                ByteBuffer buffer = inFlightBuffer[cookie];
                inFlightBuffer[cookie] = null;
                if (buffer != null) {
                    for (int i = 0; i < 64; i++) {
                        buffer.put(i, (byte) 0xEE); // reused at once: must never reach the peer as this message
                    }
                    s.freeBuffers.add(buffer);
                }
            };
            CompletionHandler onReceive = c -> {
                receivesCompleted[0]++;
                assertThat(c.status()).as("receive, %s", why).isEqualTo(CompletionStatus.OK);
                Stream s = c.channel() == streams[0].receive ? streams[0] : streams[1];
                long k = s.nextToReceive++;
                int size = size(s.checkSizes);
                assertThat(c.length()).as("length of message %d of channel %d, %s", k, s.index, why).isEqualTo(size);
                ByteBuffer b = c.buffer();
                for (int i = 0; i < size; i++) {
                    if (b.get(c.offset() + i) != expected(s.index, k, i)) {
                        throw new AssertionError("message " + k + " of channel " + s.index + " differs at byte " + i
                                + ", " + why);
                    }
                }
                receiveBuffers.add(b);
            };

            long deadline = start + Duration.ofSeconds(150).toNanos();
            boolean done = false;
            while (!done && System.nanoTime() < deadline) {
                for (Stream s : streams) {
                    for (int burst = 0; burst < 8 && s.nextToSend < perChannel; burst++) {
                        int cookie = (int) (s.nextToSend * CHANNELS + s.index);
                        SendPath path = paths.nextInt(4) == 0 ? SendPath.FIXED_SEGMENT : SendPath.PINNED;
                        ByteBuffer buffer = s.freeBuffers.peek();
                        if (buffer == null) {
                            break;
                        }
                        if (s.nextSize < 0) {
                            s.nextSize = size(s.sizes); // the receiver replays the same draws from checkSizes
                        }
                        int size = s.nextSize;
                        for (int i = 0; i < size; i++) {
                            buffer.put(i, expected(s.index, s.nextToSend, i));
                        }
                        SendStatus status = sender.send(s.send, buffer, 0, size, path, cookie);
                        if (status != SendStatus.ACCEPTED) {
                            break;
                        }
                        s.freeBuffers.poll();
                        s.nextSize = -1;
                        if (path == SendPath.PINNED) {
                            inFlightBuffer[cookie] = buffer;
                        } else {
                            s.freeBuffers.add(buffer); // copied into the segment: ours again at once
                        }
                        s.nextToSend++;
                    }
                }
                while (!receiveBuffers.isEmpty() && receiver.postReceive(receiveBuffers.peek(), posted[0]).isPosted()) {
                    receiveBuffers.poll();
                    posted[0]++;
                }
                nic.progress();
                sender.poll(onSend, 256);
                receiver.poll(onReceive, 256);
                done = true;
                for (Stream s : streams) {
                    done &= s.nextToReceive == perChannel && s.acknowledged == perChannel;
                }
            }
            for (Stream s : streams) {
                assertThat(s.nextToReceive).as("messages delivered on channel %d, %s", s.index, why).isEqualTo(perChannel);
                assertThat(s.acknowledged).as("sends acknowledged on channel %d, %s", s.index, why).isEqualTo(perChannel);
                stats[s.index] = s.send.reliableStats();
            }
            for (int cookie = 0; cookie < perChannel * CHANNELS; cookie++) {
                assertThat(sendCompleted[cookie]).as("send %d completed, %s", cookie, why).isTrue();
            }
            nicStats = nic.stats();
            faultStats = FaultInjectingTransport.of(nic).stats();
            receiver.close(); // the buffers still posted complete CLOSED: every posted receive completes once
            Completion c;
            long closedReceives = 0;
            while ((c = receiver.poll()) != null) {
                assertThat(c.status()).isEqualTo(CompletionStatus.CLOSED);
                closedReceives++;
            }
            assertThat(receivesCompleted[0] + closedReceives).as("posted receives completed, " + why).isEqualTo(posted[0]);
            assertThat(sender.poll()).as("no stray completion, " + why).isNull();
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("%d messages through %s in %d ms (%s)%n  wire: %s%n  drops: %s%n", messages, faults.spec(),
                millis, why, faultStats, nicStats.drops());
        for (ReliableStats s : stats) {
            System.out.println("  channel: " + s);
        }
        assertThat(faultStats.corrupted()).as("the wire corrupted frames").isPositive();
        // a corrupted frame that is also a duplicate or out of order is dropped for that before its checksum is read
        assertThat(nicStats.drops().get(DropReason.CORRUPT)).as("corrupted frames caught by their checksum, " + why)
                .isPositive().isLessThanOrEqualTo(faultStats.corrupted());
        assertThat(millis).as("bounded time, " + why).isLessThan(120_000);
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline, " + why).isEqualTo(baseline);
    }
}
