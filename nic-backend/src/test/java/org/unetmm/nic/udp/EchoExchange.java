package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;

/**
 * The test side of an echo exchange with {@link UdpEchoPeer}: one message in flight, sent from a
 * pattern, its echo compared byte for byte. UDP may lose a datagram even on loopback (a full
 * receive buffer), so a message whose echo does not come back in time is sent again, a bounded
 * number of times, and counted; an echo that is not the one awaited (a late one) is counted as
 * stale and ignored.
 */
public final class EchoExchange implements AutoCloseable {
    private static final byte UNWRITTEN = (byte) 0xEE;

    private final Endpoint endpoint;
    private final NativeBuffer source;
    private final NativeBuffer target;
    private final int capacity;
    private boolean receivePosted;
    private long nextCookie = 1;
    public int retries;
    int staleEchoes;

    public EchoExchange(Endpoint endpoint, int maxMessage) {
        this.endpoint = endpoint;
        this.capacity = Math.max(1, maxMessage);
        this.source = NativeMemory.allocate(capacity);
        this.target = NativeMemory.allocate(capacity);
    }

    static void fill(ByteBuffer buffer, int size, long seed) {
        long x = seed * 0x9E3779B97F4A7C15L + size;
        int i = 0;
        for (; i + 8 <= size; i += 8) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buffer.putLong(i, x);
        }
        for (; i < size; i++) {
            buffer.put(i, (byte) (x >>> (8 * (i & 7))));
        }
    }

    /** Sends {@code size} bytes on {@code channel} and waits for their echo, byte-exact; fails after {@code attempts}. */
    public void roundTrip(Channel channel, SendPath path, int size, long seed, Duration perAttempt, int attempts) {
        fill(source.buffer(), size, seed);
        String what = size + " B on " + path + " (seed " + seed + ")";
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (!receivePosted) {
                fillUnwritten();
                assertThat(endpoint.postReceive(target.buffer(), 0, capacity, 0).isPosted()).as("post for " + what).isTrue();
                receivePosted = true;
            }
            long cookie = nextCookie++;
            assertThat(endpoint.send(channel, source.buffer(), 0, size, path, cookie)).as("send " + what)
                    .isEqualTo(SendStatus.ACCEPTED);
            boolean sent = false;
            long deadline = System.nanoTime() + perAttempt.toNanos();
            while (System.nanoTime() - deadline < 0) {
                Completion c = endpoint.await(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                if (c == null) {
                    break;
                }
                if (c.kind() == Completion.Kind.SEND) {
                    assertThat(c.status()).as("send completion of " + what + ": " + c.detail()).isEqualTo(CompletionStatus.OK);
                    sent |= c.cookie() == cookie;
                    continue;
                }
                receivePosted = false;
                if (c.status() == CompletionStatus.OK && c.length() == size
                        && target.buffer().slice(0, size).equals(source.buffer().slice(0, size))) {
                    if (!sent) {
                        awaitSend(cookie, what);
                    }
                    return;
                }
                staleEchoes++;
                fillUnwritten();
                endpoint.postReceive(target.buffer(), 0, capacity, 0);
                receivePosted = true;
            }
            if (!sent) {
                awaitSend(cookie, what);
            }
            retries++;
        }
        throw new AssertionError("no byte-exact echo of " + what + " after " + attempts + " attempts of " + perAttempt);
    }

    private void awaitSend(long cookie, String what) {
        while (true) {
            Completion c = endpoint.await(Duration.ofSeconds(10));
            assertThat(c).as("send completion of " + what).isNotNull();
            if (c.kind() == Completion.Kind.SEND && c.cookie() == cookie) {
                assertThat(c.status()).as("send completion of " + what).isEqualTo(CompletionStatus.OK);
                return;
            }
            if (c.kind() == Completion.Kind.RECEIVE) {
                receivePosted = false;
                staleEchoes++;
                fillUnwritten();
                endpoint.postReceive(target.buffer(), 0, capacity, 0);
                receivePosted = true;
            }
        }
    }

    private void fillUnwritten() {
        ByteBuffer t = target.buffer();
        int i = 0;
        for (; i + 8 <= capacity; i += 8) {
            t.putLong(i, 0xEEEE_EEEE_EEEE_EEEEL);
        }
        for (; i < capacity; i++) {
            t.put(i, UNWRITTEN);
        }
    }

    /** Frees the buffers; the endpoint must be closed first (the posted buffer is the NIC's until then). */
    @Override
    public void close() {
        source.close();
        target.close();
    }
}
