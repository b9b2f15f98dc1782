package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;

/**
 * A NIC that stops running its rounds (a paused process, here a NIC whose progress nobody drives)
 * past the peer's {@code timeout=}: the peer gives it up and frees the pair's memory; when the
 * paused one runs again it finds the region empty, gives the peer up in its turn, and says which
 * process that was.
 */
@Timeout(60)
class ShmPausedPeerTest {
    @Test
    void aNicThatWasPausedPastThePeersTimeoutGivesThePeerUpInItsTurnNamingItsProcess() {
        try (Nic live = ShmPairInOneJvmTest.open("shm:" + ShmPairInOneJvmTest.fresh("live") + "?timeout=300");
             Nic paused = ShmPairInOneJvmTest.open("shm:" + ShmPairInOneJvmTest.fresh("paused") + "?timeout=300")) {
            Endpoint onLive = live.openEndpoint();
            Endpoint onPaused = paused.openEndpoint();
            Channel listening = onLive.openChannel(); // unreliable: what the paused side sends is never acknowledged
            Channel out = onPaused.openChannel(ChannelConfig.builder().reliable(true).peerTimeout(Duration.ofSeconds(60))
                    .build());
            out.connect(listening.address());
            listening.connect(out.address());
            long until = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() - until < 0) { // both run: heartbeats go both ways
                live.progress();
                paused.progress();
            }
            assertThat(onPaused.send(out, ByteBuffer.allocateDirect(64), 0, 64, SendPath.PINNED, 1))
                    .isEqualTo(SendStatus.ACCEPTED);
            paused.progress(); // transmitted; from here on this NIC is paused
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (ShmTransport.of(live).stats().peersLost() == 0 && System.nanoTime() - deadline < 0) {
                live.progress();
            }
            assertThat(ShmTransport.of(live).stats().peersLost()).as("the live side gave the paused one up").isEqualTo(1);
            Completion c = null;
            deadline = System.nanoTime() + 10_000_000_000L;
            while (c == null && System.nanoTime() - deadline < 0) { // it runs again
                paused.progress();
                c = onPaused.poll();
            }
            assertThat(c).as("the paused side gives its peer up in its turn").isNotNull();
            assertThat(c.status()).as(c.detail()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
            assertThat(c.detail()).contains("(pid " + ProcessHandle.current().pid() + ")");
        }
    }
}
