package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.nic.udp.PeerProcess;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.ProcessStatus;

/**
 * A hostile process of the same user writes random and crafted records into the ring of a pair
 * region with the test's NIC ({@link HostileShmWriter}): each is dropped and counted by reason,
 * the bytes around every posted buffer stay as they were, and the valid frames after them arrive
 * byte-exact, one inline and one read from the hostile process by rendezvous.
 */
@Timeout(60)
class ShmHostileWriterTest {
    private static final int SLOT = 131_072;
    private static final int CANARY = 64;
    private static final int BUFFERS = 4;
    private static final byte CANARY_BYTE = (byte) 0xC5;

    @Test
    void hostileRecordsAreDroppedAndCountedAndNothingIsWrittenOutsidePostedBuffers() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String name = ShmPairInOneJvmTest.fresh("victim");
        Nic nic = ShmTwoProcessTest.open("shm:" + name);
        int stride = CANARY + SLOT + CANARY;
        try (NativeBuffer memory = NativeMemory.allocate(BUFFERS * stride)) {
            ByteBuffer all = memory.buffer();
            for (int i = 0; i < all.capacity(); i++) {
                all.put(i, CANARY_BYTE);
            }
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().freeQueue(BUFFERS * 2).build());
            Channel listening = endpoint.openChannel();
            for (int b = 0; b < BUFFERS; b++) {
                assertThat(endpoint.postReceive(all, b * stride + CANARY, SLOT, b).isPosted()).isTrue();
            }
            List<Completion> ok = new ArrayList<>();
            try (PeerProcess hostile = PeerProcess.start(List.of(), HostileShmWriter.class, listening.address().toString(),
                    String.valueOf(seed))) {
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (ok.size() < 2 && System.nanoTime() - deadline < 0) {
                    nic.progress();
                    Completion c;
                    while ((c = endpoint.poll()) != null) {
                        if (c.status() == CompletionStatus.OK) {
                            ok.add(c);
                        }
                    }
                }
                assertThat(ok).as("the valid frames after the hostile ones (seed " + seed + "); hostile stderr: "
                        + hostile.stderr()).hasSize(2);
            }
            ShmStats stats = ShmTransport.of(nic).stats();
            ByteBuffer expected = ByteBuffer.allocate(HostileShmWriter.RENDEZVOUS);
            for (Completion c : ok) {
                int at = (int) c.cookie() * stride + CANARY;
                long patternSeed = c.length() == HostileShmWriter.INLINE ? seed : seed + 1;
                HostileShmWriter.pattern(expected, c.length(), patternSeed);
                assertThat(all.slice(at, c.length())).as("valid frame of " + c.length() + " B byte-exact, seed " + seed)
                        .isEqualTo(expected.slice(0, c.length()));
            }
            assertThat(ok).extracting(Completion::length).containsExactlyInAnyOrder(HostileShmWriter.INLINE,
                    HostileShmWriter.RENDEZVOUS);
            for (int b = 0; b < BUFFERS; b++) {
                for (int i = 0; i < CANARY; i++) {
                    assertThat(all.get(b * stride + i)).as("canary before buffer " + b).isEqualTo(CANARY_BYTE);
                    assertThat(all.get(b * stride + CANARY + SLOT + i)).as("canary after buffer " + b).isEqualTo(CANARY_BYTE);
                }
            }
            assertThat(stats.drops(ShmDropReason.WRONG_PID)).as(stats.drops().toString()).isEqualTo(1);
            assertThat(stats.drops(ShmDropReason.READ_FAULT)).as("the unmapped address: EFAULT").isEqualTo(1);
            assertThat(stats.drops(ShmDropReason.BAD_PIECES)).as("pieces short of the fragment, past user space").isEqualTo(2);
            assertThat(stats.drops(ShmDropReason.UNKNOWN_COMPLETION)).isEqualTo(1);
            assertThat(stats.drops(ShmDropReason.BAD_KIND)).as("kind 9 and random ones").isPositive();
            assertThat(stats.drops(ShmDropReason.BAD_HEADER)).as("tag 0").isPositive();
            assertThat(stats.drops(ShmDropReason.BAD_LENGTHS) + stats.drops(ShmDropReason.BAD_RECORD_LENGTH))
                    .as("records shorter than their fragment").isPositive();
            assertThat(stats.rendezvousRead()).as("the valid rendezvous was read from the hostile process").isEqualTo(1);
            endpoint.close();
        } finally {
            nic.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }
}
