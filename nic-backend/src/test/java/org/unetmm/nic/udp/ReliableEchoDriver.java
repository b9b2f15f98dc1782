package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Random;
import org.unetmm.Channel;
import org.unetmm.CompletionHandler;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;

/**
 * The verifying end of a reliable echo over a wire: sends {@code messages} messages of seeded
 * sizes on one reliable channel (zero-copy, each from its own buffer, reused only after its
 * completion), and checks that every echo comes back once, in order, byte for byte, and that
 * every send completes exactly once with OK.
 */
final class ReliableEchoDriver {
    private static final int BUFFERS = 48;
    private static final boolean TRACE = Boolean.getBoolean("unetmm.test.trace");

    final Endpoint endpoint;
    final Channel channel;
    private final int maxMessage;
    private final int mtu;
    long sent;
    long acknowledged;
    long echoesVerified;

    ReliableEchoDriver(Nic nic, Channel channel, Endpoint endpoint, int maxMessage) {
        this.endpoint = endpoint;
        this.channel = channel;
        this.maxMessage = maxMessage;
        this.mtu = nic.mtu();
    }

    static Endpoint endpoint(Nic nic) {
        return nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).freeQueue(BUFFERS).sendQueue(BUFFERS)
                .completionQueue(4 * BUFFERS).build());
    }

    private int size(Random random) {
        int kind = random.nextInt(100);
        if (kind < 60) {
            return random.nextInt(200);
        }
        if (kind < 95) {
            return random.nextInt(Math.min(maxMessage, mtu) + 1);
        }
        return random.nextInt(Math.min(maxMessage, 4 * mtu) + 1);
    }

    private static byte expected(long k, int i) {
        return (byte) (k * 131 + i * 7 + 3);
    }

    /** Runs the exchange, driving {@code progress} between steps, for at most {@code bound}. */
    void run(int messages, long seed, Duration bound, Runnable progress) {
        String why = "seed " + seed + " (rerun with -Dunetmm.test.seed=" + seed + ")";
        Random sizes = new Random(seed);
        Random checks = new Random(seed);
        ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
        for (int i = 0; i < BUFFERS; i++) {
            free.add(ByteBuffer.allocateDirect(Math.max(1, maxMessage)));
        }
        ByteBuffer[] inFlight = new ByteBuffer[messages];
        boolean[] completed = new boolean[messages];
        ArrayDeque<ByteBuffer> receive = new ArrayDeque<>();
        for (int i = 0; i < BUFFERS; i++) {
            receive.add(ByteBuffer.allocateDirect(Math.max(1, maxMessage)));
        }
        long[] posted = {0};
        CompletionHandler handler = c -> {
            if (c.kind() == org.unetmm.Completion.Kind.SEND) {
                int k = (int) c.cookie();
                assertThat(c.status()).as("send %d, %s", k, why).isEqualTo(CompletionStatus.OK);
                assertThat(completed[k]).as("second completion of send %d, %s", k, why).isFalse();
                assertThat((long) k).as("sends complete in order, %s", why).isEqualTo(acknowledged);
                completed[k] = true;
                acknowledged++;
                ByteBuffer b = inFlight[k];
                inFlight[k] = null;
                b.put(0, (byte) 0x7E); // ours again: scribbled at once, must not reach the peer as message k
                free.add(b);
            } else {
                assertThat(c.status()).as("echo, %s", why).isEqualTo(CompletionStatus.OK);
                long k = echoesVerified;
                int size = size(checks);
                assertThat(c.length()).as("length of echo %d, %s", k, why).isEqualTo(size);
                for (int i = 0; i < size; i++) {
                    if (c.buffer().get(c.offset() + i) != expected(k, i)) {
                        throw new AssertionError("echo " + k + " differs at byte " + i + ", " + why);
                    }
                }
                echoesVerified++;
                receive.add(c.buffer());
            }
        };
        int nextSize = -1;
        long begin = System.nanoTime();
        long nextTrace = messages / 10;
        long deadline = System.nanoTime() + bound.toNanos();
        while ((echoesVerified < messages || acknowledged < messages) && System.nanoTime() < deadline) {
            while (sent < messages && !free.isEmpty()) {
                if (nextSize < 0) {
                    nextSize = size(sizes);
                }
                ByteBuffer b = free.peek();
                for (int i = 0; i < nextSize; i++) {
                    b.put(i, expected(sent, i));
                }
                if (endpoint.send(channel, b, 0, nextSize, SendPath.PINNED, sent) != SendStatus.ACCEPTED) {
                    break;
                }
                free.poll();
                inFlight[(int) sent] = b;
                sent++;
                nextSize = -1;
            }
            while (!receive.isEmpty() && endpoint.postReceive(receive.peek(), posted[0]).isPosted()) {
                receive.poll();
                posted[0]++;
            }
            progress.run();
            endpoint.poll(handler, 256);
            if (TRACE && echoesVerified >= nextTrace) {
                System.out.printf("  %d echoes at %d ms: %s%n", echoesVerified, (System.nanoTime() - begin) / 1_000_000,
                        channel.reliableStats());
                nextTrace += messages / 10;
            }
        }
        assertThat(echoesVerified).as("echoes verified, " + why).isEqualTo(messages);
        assertThat(acknowledged).as("sends acknowledged, " + why).isEqualTo(messages);
    }
}
