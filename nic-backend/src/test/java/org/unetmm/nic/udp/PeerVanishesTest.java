package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
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
 * The peer JVM is killed (SIGKILL) in the middle of a stream. Every send accepted before and
 * after completes exactly once (an unreliable channel completes when the wire has the bytes, peer
 * or no peer), nothing waits past a bounded time, the posted receives come back CLOSED when the
 * endpoint closes, and the kernel's locked-memory figure returns to where it was.
 */
@Timeout(60)
class PeerVanishesTest {
    /** Messages sent after the kill; before it, as many as it takes to see the peer echo (at most {@link #BEFORE_KILL_MAX}). */
    private static final int AFTER_KILL = 200;
    private static final int BEFORE_KILL_MAX = 20_000;
    private static final int SIZE = 64 * 1024;
    private static final int WINDOW = 16;
    private static final int RECEIVES = 8;
    private static final int KILL_AFTER_ECHOES = 20;

    @Test
    void sendsCompleteAndPinsAreReleasedWhenThePeerDiesMidStream() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        Map<Long, Integer> completions = new HashMap<>();
        int accepted = 0;
        int echoes = 0;
        int closedReceives = 0;
        boolean killed = false;
        try (Nic nic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER).build())) {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(4 << 20).build());
            Channel pinned = endpoint.openChannel();
            Channel fixed = endpoint.openChannel();
            ArrayDeque<ByteBuffer> idle = new ArrayDeque<>();
            Map<Long, ByteBuffer> inFlight = new HashMap<>();
            for (int i = 0; i < WINDOW; i++) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(SIZE);
                EchoExchange.fill(buffer, SIZE, i);
                idle.add(buffer);
            }
            ByteBuffer[] receives = new ByteBuffer[RECEIVES];
            for (int i = 0; i < RECEIVES; i++) {
                receives[i] = ByteBuffer.allocateDirect(SIZE);
                endpoint.postReceive(receives[i], -1 - i);
            }
            try (PeerProcess peer = PeerProcess.start(List.of(), "udp://127.0.0.1:0", pinned.address().toString(),
                    fixed.address().toString(), "60", String.valueOf(SIZE))) {
                String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                pinned.connect(ChannelAddress.parse(ready[0]));
                fixed.connect(ChannelAddress.parse(ready[1]));
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                long cookie = 0;
                long killedAt = -1;
                while (killedAt < 0 || cookie < killedAt + AFTER_KILL || !inFlight.isEmpty()) {
                    assertThat(System.nanoTime() - deadline).as("stream finished in time: " + inFlight.size()
                            + " sends still without a completion after " + cookie + " sent, " + echoes + " echoes").isNegative();
                    assertThat(killedAt >= 0 || cookie < BEFORE_KILL_MAX).as("the peer echoed " + KILL_AFTER_ECHOES
                            + " of " + BEFORE_KILL_MAX + " messages; its stderr: " + peer.stderr()).isTrue();
                    boolean more = killedAt < 0 || cookie < killedAt + AFTER_KILL;
                    if (more && !idle.isEmpty()) {
                        ByteBuffer buffer = idle.poll();
                        SendPath path = cookie % 2 == 0 ? SendPath.PINNED : SendPath.FIXED_SEGMENT;
                        SendStatus status = endpoint.send(path == SendPath.PINNED ? pinned : fixed, buffer, 0, SIZE, path, cookie);
                        if (status.isAccepted()) {
                            inFlight.put(cookie++, buffer);
                            accepted++;
                        } else {
                            idle.push(buffer);
                        }
                    }
                    nic.progress();
                    Completion c;
                    while ((c = endpoint.poll()) != null) {
                        if (c.kind() == Completion.Kind.SEND) {
                            completions.merge(c.cookie(), 1, Integer::sum);
                            ByteBuffer done = inFlight.remove(c.cookie());
                            assertThat(done).as("completion for a send in flight: " + c).isNotNull();
                            assertThat(c.status()).as("a send completes with success or a cause: " + c)
                                    .isIn(CompletionStatus.OK, CompletionStatus.PEER_UNREACHABLE);
                            idle.add(done);
                        } else {
                            echoes++;
                            endpoint.postReceive(receives[(int) (-1 - c.cookie())], c.cookie());
                        }
                    }
                    if (killedAt < 0 && echoes >= KILL_AFTER_ECHOES) {
                        peer.kill(); // mid-stream: sends are in flight and more follow
                        killedAt = cookie;
                        assertThat(peer.isAlive()).isFalse();
                    }
                }
                killed = killedAt >= 0;
                assertThat(killed).as("the peer echoed " + KILL_AFTER_ECHOES + " messages before it was killed").isTrue();
            }
            endpoint.close();
            Completion c;
            while ((c = endpoint.poll()) != null) {
                assertThat(c.kind()).as(c.toString()).isEqualTo(Completion.Kind.RECEIVE);
                assertThat(c.status()).as(c.toString()).isEqualTo(CompletionStatus.CLOSED);
                closedReceives++;
            }
        }
        assertThat(completions).as("one completion per accepted send").hasSize(accepted);
        assertThat(completions.values()).as("exactly one each").containsOnly(1);
        assertThat(closedReceives).as("every receive still posted comes back CLOSED").isEqualTo(RECEIVES);
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }
}
